"""Readers for generic tables: CSV (also TSV) with a header row, and JSON Lines.

Columns are found by common names, or named with --step-col, --train-col and
--val-col (compared loosely: case and the separators / - . _ do not matter):

  step   step, global_step, iter, iteration, ...   (none: row numbers, with a warning)
  train  train_loss, loss, training_loss, train/loss, ...
  val    val_loss, validation_loss, valid_loss, eval_loss, val/loss, ...
  epoch  epoch (optional); lr / learning_rate and grad_norm are read when present

A row with a training loss and no validation loss is a batch (logged after
the update of that step). A row with a validation loss is an evaluation row;
if it also holds a training loss, that is the epoch's training loss (as
Keras' CSVLogger writes: epoch, loss, val_loss). An evaluation is epoch 0
only when it is before any update (step 0); a table that counts epochs from
0 after training is renumbered from 1, with a warning.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import (
    EPOCH_NAMES,
    NAN,
    STEP_NAMES,
    TRAIN_NAMES,
    VAL_ACC_NAMES,
    VAL_NAMES,
    TextLines,
    accuracy_series,
    epoch_series,
    find_exact,
    finish,
    loss_kind,
    norm_name,
    pick,
    to_float,
    train_by_measure,
    val_by_measure,
)
from lossdoc.runlog.readers.lossdoc_jsonl import MAX_BATCH_ROWS, _BatchColumns
from lossdoc.runlog.run import BatchSeries, Event, ReaderWarning, Run

LR_NAMES = ["lr", "learning_rate", "lr_0", "lr_abs", "learningrate"]
GRAD_NAMES = ["grad_norm", "gradient_norm", "grad_norm_total", "total_grad_norm", "gradnorm"]
_KNOWN = set(TRAIN_NAMES) | set(VAL_NAMES)
NULL_ROWS_KEPT = 100_000  # rows whose loss is JSON null, kept to be read as NaN when no loss is a number
CHUNK_ROWS = 65536  # batch rows handed to the column store at once
BATCH_CAP = MAX_BATCH_ROWS  # batch rows held at once; beyond, a systematic 1 in k (lossdoc_jsonl._BatchColumns)
_HEADER_CELL = re.compile(r"^[\w./\-\[\] ()@#]*$")


class Table:
    """Rows of {column: raw value} with the line each came from."""

    def __init__(self, columns: list[str], rows: list[dict[str, Any]], lines: list[int]) -> None:
        self.columns = columns
        self.rows = rows
        self.lines = lines
        self.spread = False  # a shorter validation array spread over the training steps (_spread_columns)

    def records(self) -> Iterator[tuple[dict[str, Any], int]]:
        """(row, line) in log order."""
        return zip(self.rows, self.lines)


class StreamedCsv(Table):
    """A CSV read a row at a time (``csv_rows``): only the header is held, and each row's dict lives while it is
    read, so the memory is the Run's columns, not the table (issue 26: a 100 MB CSV had peaked at 2.9 GB)."""

    def __init__(self, path: Path) -> None:
        self.source = csv_rows(path)
        super().__init__(self.source.header, [], [])
        self.count = 0

    def records(self) -> Iterator[tuple[dict[str, Any], int]]:
        header = self.columns
        for lineno, values in self.source:
            self.count += 1
            yield dict(zip(header, values)), lineno


# ---------------------------------------------------------------- detection


def _first_line(head: str) -> str:
    for line in head.lstrip("\ufeff").splitlines():
        if line.strip():
            return line
    return ""


WHITESPACE = " "  # the delimiter of whitespace-separated columns: any run of spaces and tabs


PIPE = "|"  # the delimiter of a text table drawn with bars (an f-string table, tabulate's presto/psql/github formats)
_RULE_CHARS = frozenset("-=|+: \t\r")
RULE_MIN_DASHES = 3


def is_rule(line: str) -> bool:
    """Whether a line is a text table's rule, drawn under its header or around it, not a row: only dashes, equals
    signs, bars, pluses, colons and spaces, with at least RULE_MIN_DASHES dashes or equals signs ("-----",
    "|---|:--:|", "-------+------", "+=====+=====+")."""
    return line.count("-") + line.count("=") >= RULE_MIN_DASHES and _RULE_CHARS.issuperset(line)


def _delimiter(header: str) -> str:
    """The delimiter of a table's line: the most frequent of comma, tab, semicolon and bar (in that order on a tie),
    else runs of whitespace."""
    best = max((",", "\t", ";", PIPE), key=lambda d: header.count(d))
    return best if header.count(best) else WHITESPACE


def _cells(line: str, delim: str) -> list[str]:
    if delim == WHITESPACE:
        return line.split()
    if delim == PIPE:
        return pipe_cells(line)
    return next(csv.reader([line], delimiter=delim), [])


def pipe_cells(line: str) -> list[str]:
    """A bar-drawn row's cells, stripped: the line split at its bars (no quoting: such a table quotes nothing), without
    the empty cells its outer bars make (``| 1 | 2.3 |``), only where the line has them (a presto row's empty first
    cell is a cell)."""
    body = line.strip()
    if body.startswith(PIPE):
        body = body[1:]
    if body.endswith(PIPE):
        body = body[:-1]
    return [c.strip() for c in body.split(PIPE)]


_INTEGER = re.compile(r"^[ \t]*[-+]?\d{1,15}[ \t]*$")
BARE_MIN_LOSS = 0.05  # a headerless column whose values all sit below this is not read as a loss (a learning rate)
BARE_LOOKAHEAD = 50  # rows looked at to tell a headerless table's counter columns


BARE_TURNS_SHARE = 0.1  # ... unless it turns (rises after a fall or falls after a rise) at this share of its rows: noise


def _noisy(vals: list[float]) -> bool:
    """Whether a column of values turns often, as a loss's noise does (at least BARE_TURNS_SHARE of its steps and at
    least 3 times): a learning-rate schedule warms up and decays (a turn or two; a cyclic one a few), so a column of
    tiny values that turns that often is a small loss (a mean squared error of 0.003), not a schedule."""
    d = [b - a for a, b in zip(vals, vals[1:]) if b != a]
    turns = sum(1 for a, b in zip(d, d[1:]) if (a > 0) != (b > 0))
    return turns >= max(3, BARE_TURNS_SHARE * len(vals))


def bare_header(rows: list[list[str]]) -> list[str] | None:
    """Names for a table of two or three numeric columns and no header, from its rows: a column of integers is a
    counter (step; of two counters, epoch then step) when it is the first or never goes down, the others are the training loss and then
    the validation loss, in order (``np.savetxt`` of (train, val, epoch), ``f.write(f"{step} {loss}")``). None
    when the rows are not such a table."""
    if not rows or len(rows[0]) not in (2, 3) or any(len(r) != len(rows[0]) or any(to_float(c) is None for c in r) for r in rows):
        return None
    n = len(rows[0])
    # a column of integers is a counter: the first column whatever its order (a resumed run's counter starts again),
    # a later one only when it never goes down
    counters = [
        j for j in range(n) if all(_INTEGER.match(r[j]) for r in rows) and (j == 0 or all(int(a[j]) <= int(b[j]) for a, b in zip(rows, rows[1:])))
    ]
    if len(counters) == n:
        counters = counters[: n - 1]  # every column counts: the last is the loss (a loss of whole numbers)
    if len(counters) == 2:  # of two counters the one with more distinct values is the step, the other the epoch
        a, b = counters
        if len({r[a] for r in rows}) > len({r[b] for r in rows}):
            counters = [b, a]
    if n - len(counters) > 2:
        return None  # three measures and no counter: which is which is anybody's guess
    names = ["step"] if len(counters) == 1 else ["epoch", "step"]
    counter_names = dict(zip(counters, names))
    for j in range(n):
        vals = [abs(float(r[j])) for r in rows]
        if j not in counter_names and ((max(vals) < BARE_MIN_LOSS and not _noisy(vals)) or len(set(vals)) == 1 and len(rows) > 3):
            return None  # a schedule of tiny values (a learning rate) or one constant is no loss curve to guess at
    losses = iter(["loss", "val_loss"])
    header = [counter_names[j] if j in counter_names else next(losses) for j in range(n)]
    return header if "loss" in header else None


_DATE_TIME = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}|\d{4}/\d{2}/\d{2}|\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)$"
)
PPL_LOG_TOL = 0.006  # |ln(perplexity) - loss| on every row: the two printed to 2+ decimals, rounding included


def ppl_header(rows: list[list[str]]) -> list[str] | None:
    """Names for a headerless table that prints a loss beside its perplexity (RWKV's train_log.txt: ``epoch loss ppl
    lr date time mini-epoch``; word-LM loops' ``epoch loss ppl``): of the columns numeric on every row, one whose
    values are e^ of another's on every row (to PPL_LOG_TOL) names both, the loss and its ppl; a first column of
    non-decreasing integers is the epoch; every other column is left unnamed (col3, col4 ...). At least three rows of
    at least three cells, all of one length. None when the rows are not such a table."""
    if len(rows) < 3 or len(rows[0]) < 3 or any(len(r) != len(rows[0]) for r in rows):
        return None
    n = len(rows[0])
    values = [[to_float(r[j]) for r in rows] for j in range(n)]
    if any(v is None and not _DATE_TIME.match(r[j].strip()) for j in range(n) for r, v in zip(rows, values[j])):
        return None  # a cell that is neither a number nor a date or a time: a console's words ("loss 7.64 | ppl 2079")
    numeric = [j for j in range(n) if all(v is not None and math.isfinite(v) for v in values[j])]
    pair = next(
        (
            (a, b)
            for a in numeric
            for b in numeric
            if a != b
            and all(0.0 < x <= 30.0 for x in values[a])  # type: ignore[operator]
            and all(y > 1.0 and abs(math.log(y) - x) <= PPL_LOG_TOL for x, y in zip(values[a], values[b]))  # type: ignore[arg-type, operator]
        ),
        None,
    )
    if pair is None:
        return None
    names = [f"col{j + 1}" for j in range(n)]
    names[pair[0]], names[pair[1]] = "loss", "ppl"
    if 0 not in pair and all(_INTEGER.match(r[0]) for r in rows) and all(int(a[0]) <= int(b[0]) for a, b in zip(rows, rows[1:])):
        names[0] = "epoch"  # RWKV's mini-epoch, a word-LM loop's epoch: counted from 0 after the first one's training
    return names


def _bare_numeric(lines: list[str]) -> bool:
    """Two or three numeric columns and no header, on every one of at least three lines (``bare_header``), or a loss
    beside its perplexity (``ppl_header``)."""
    rows = [_cells(x, _delimiter(x)) for x in lines if x.strip()][:BARE_LOOKAHEAD]
    return len(rows) >= 3 and (bare_header(rows) is not None or ppl_header(rows) is not None)


_LOSS_VALUE = re.compile(r"loss[\w ]{0,20}?[\s:=|]{1,4}[-+]?\d*\.\d", re.IGNORECASE)  # "loss 3.21", "train_loss=0.5"
PREAMBLE_LINES = 40  # lines before a table's header that may be something else (a notebook's banner, a progress bar)


def _is_loss_header(cols: list[str]) -> bool:
    """Cells that name columns, one of them a loss lossdoc knows."""
    if len(cols) < 2 or not all(c.strip() and _HEADER_CELL.match(c.strip()) for c in cols) or any(to_float(c) is not None for c in cols):
        return False
    return any(norm_name(c) in _KNOWN or loss_kind(c) is not None for c in cols)


_POSITIONS = set(STEP_NAMES) | set(EPOCH_NAMES) | {"ep", "iter", "iters", "it", "epoch_num", "step_num"}


def _has_position(cols: list[str]) -> bool:
    """Whether a header's first column is a step, iteration or epoch: a bar-drawn table without one first is a table of
    final figures (one row per model or setting: ``| model | steps | loss |``), not a curve (as in readers/markdown.py)."""
    return bool(cols) and norm_name(cols[0]) in _POSITIONS


def _pipe_row(cells: list[str], n: int) -> bool:
    """Whether a bar-drawn table's first row under a header of n columns is data: n cells, each a number or empty (an
    evaluation not run at that step), the first a number."""
    return len(cells) == n and to_float(cells[0]) is not None and all(not c or to_float(c) is not None for c in cells)


def table_start(lines: list[str]) -> int | None:
    """The index of a table's header among the first PREAMBLE_LINES lines, when other lines come before it (an Unsloth
    or Trainer notebook's output: a banner, then ``Step<TAB>Training Loss`` and its rows): a tab-, comma- or
    semicolon-separated header naming a loss, whose next line is a row of as many cells, all numbers. None when the
    first line is the header, or there is no such table."""
    for i, line in enumerate(lines[:PREAMBLE_LINES]):
        delim = _delimiter(line)
        if delim == WHITESPACE:
            continue  # "Step Training Loss": names with spaces in them cannot be told apart when spaces separate
        cols = _cells(line, delim)
        if not _is_loss_header(cols) or (delim == PIPE and not _has_position(cols)):
            continue
        nxt = next((x for x in lines[i + 1 : i + 3] if x.strip() and not is_rule(x)), None)
        row = _cells(nxt, delim) if nxt is not None else []
        if _pipe_row(row, len(cols)) if delim == PIPE else len(row) == len(cols) and all(to_float(c) is not None for c in row):
            if any(_LOSS_VALUE.search(x) for x in lines[:i]):
                return None  # the lines before it print losses themselves: a console log that ends with a table
            return i if any(x.strip() for x in lines[:i]) else None
    return _ppl_table_start(lines)


def _ppl_table_start(lines: list[str]) -> int | None:
    """The index of a headerless table of a loss beside its perplexity (``ppl_header``) after other lines (the
    commands that ran it, in a README's code block), among the first PREAMBLE_LINES; None when the first line starts
    it or there is none. The table is the rows of one length that follow, at least three."""
    for i, line in enumerate(lines[:PREAMBLE_LINES]):
        if not line.strip():
            continue
        cells = _cells(line, _delimiter(line))
        if len(cells) < 3 or sum(to_float(c) is not None for c in cells) < 3:
            continue
        rows = [cells]
        for x in lines[i + 1 : i + BARE_LOOKAHEAD]:
            r = _cells(x, _delimiter(x)) if x.strip() else []
            if len(r) != len(cells):
                break
            rows.append(r)
        if ppl_header(rows) is not None:
            before = next((x for x in reversed(lines[:i]) if x.strip()), None)
            above = _cells(before, _delimiter(line)) if before is not None else []
            if len(above) == len(cells) and all(_HEADER_CELL.match(c.strip()) for c in above):
                return None  # the line above names as many columns as the rows hold: the table's own header's
            return i if before is not None else None
    return None


def detect_csv(path: Path, head: str) -> bool:
    try:
        if table_start(head.splitlines()) is not None:
            return True
    except csv.Error:
        pass
    first = _first_line(head)
    if not first or first.lstrip().startswith(("{", "[")):
        return False
    delim = _delimiter(first)
    try:
        cols = _cells(first, delim)
    except csv.Error:
        return False
    if _bare_numeric(head.splitlines()[:-1] or head.splitlines()):
        return True
    if len(cols) < 2 or not all(_HEADER_CELL.match(c.strip()) for c in cols):
        return False
    if delim == PIPE:
        # a bar-drawn table of final figures is not a curve, nor a console whose lines hold bars under a header of
        # the same names ("Epoch | Step | Loss" over "Epoch 0 | Step 10 | Loss 2.95"): its first row must be numbers
        lines = head.lstrip("\ufeff").splitlines()
        at = next(i for i, x in enumerate(lines) if x.strip())  # the header's line
        nxt = next((x for x in lines[at + 1 : at + 3] if x.strip() and not is_rule(x)), None)
        if not _has_position(cols) or nxt is None or not _pipe_row(pipe_cells(nxt), len(cols)):
            return False
    if delim == WHITESPACE and any(to_float(c) is not None for c in cols):
        return False  # "step 100 loss 3.2" is a console line, not a header
    names = {norm_name(c) for c in cols}
    return bool(names & _KNOWN) or (path.suffix.lower() in (".csv", ".tsv", ".txt") and bool(names & set(STEP_NAMES + EPOCH_NAMES)))


def detect_jsonl(path: Path, head: str) -> bool:
    # A first line that opens a JSON object; a torn or bad first record is the reader's to report.
    first = _first_line(head).strip()
    if first.startswith("{'"):
        return False  # a printed Python dict (the Hugging Face Trainer's stdout): the console reader's
    return first.startswith("{") and first != "{"  # a lone "{" opens a pretty-printed JSON document


def resolve(folder: Path) -> Path | None:
    return None


# ---------------------------------------------------------------- loading


def load_csv(path: Path) -> Table:
    """The whole table in memory: a {column: raw value} dict per row (``csv_rows`` streams the same rows)."""
    source = csv_rows(path)
    header = source.header
    rows: list[dict[str, Any]] = []
    linenos: list[int] = []
    for lineno, values in source:
        rows.append(dict(zip(header, values)))
        linenos.append(lineno)
    if source.bare and len(rows) < 3:
        raise LossdocError("error.csv_no_header", path=str(path))  # too few rows to read bare columns as step and loss
    table = Table(header, rows, linenos)
    table.long_lines = source.lines  # type: ignore[attr-defined]
    table.bare = source.bare  # type: ignore[attr-defined]
    return table


class csv_rows:  # noqa: N801 (used like a function that returns an iterator)
    """The rows of a CSV (or whitespace-separated) log, one at a time: (line number, [raw cells]), after the header
    (``header``; ``bare``: there was none, and the columns are named by ``bare_header``). Errors
    (no header, a bad record) are raised as the rows are read, as ``load_csv`` raises them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = TextLines(path)
        self._it = iter(self.lines)
        self.first: list[tuple[int, list[str]]] = []
        self.delim = ","
        self.bare = False
        header: list[str] | None = None
        self.preamble = 0  # lines before the header that were not the table (table_start)
        ahead: list[tuple[int, str]] = []
        for lineno, line in self._it:
            ahead.append((lineno, line))
            if len(ahead) >= PREAMBLE_LINES + 2:
                break
        start = table_start([x for _, x in ahead]) if ahead else None
        if start is not None:
            self.preamble = sum(1 for _, x in ahead[:start] if x.strip() and not is_rule(x))
            ahead = ahead[start:]
        self._it = itertools.chain(ahead, self._it)
        for lineno, line in self._it:
            if not line.strip() or is_rule(line):
                continue  # a blank line, or the rule above a bar-drawn table's header
            self.delim = _delimiter(line)
            header = [c.strip().lstrip("\ufeff") for c in _split(line, self.delim, path, lineno)]
            numbers = sum(to_float(c) is not None for c in header)
            bare = len(header) in (2, 3) and numbers == len(header)
            if bare or numbers >= 3:
                # no names: this line is data, and perhaps the next are too; the columns are named from what the rows
                # hold (a loss beside its perplexity, ppl_header, with dates and times between; else two or three
                # numeric columns, bare_header)
                rows, raw = [(lineno, header)], []
                for n, text in self._it:
                    raw.append((n, text))
                    if text.strip() and not is_rule(text):
                        rows.append((n, _split(text, self.delim, path, n)))
                        if len(rows) >= BARE_LOOKAHEAD:
                            break
                cells = [c for _, c in rows]
                named = ppl_header(cells) or (bare_header(cells) if bare else None)
                if named is not None:
                    self.first, header, self.bare = rows, named, True
                    break
                if bare:
                    raise LossdocError("error.csv_no_header", path=str(path))
                self._it = itertools.chain(raw, self._it)  # not such a table: the lines looked at are read again
            if not any(header) or all(to_float(c) is not None for c in header):
                raise LossdocError("error.csv_no_header", path=str(path))
            break
        if header is None:
            raise LossdocError("error.log_empty", path=str(path))
        self.header: list[str] = header

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        yield from self.first
        it, path = self._it, self.path
        if self.delim == WHITESPACE:  # columns separated by runs of spaces: no quoting to honour
            for n, text in it:
                if text.strip() and not is_rule(text):
                    yield n, text.split()
            return
        if self.delim == PIPE:  # a table drawn with bars quotes nothing: split each line at its bars
            for n, text in it:
                if text.strip() and not is_rule(text):
                    yield n, pipe_cells(text)
            return
        # One csv reader over the remaining lines (a reader per line costs several times more on big tables).
        # Each record must come from one line, as when every line was parsed on its own.
        fed = [0, 0, 0]  # the number of the last line fed, lines fed since the last record, the first of them

        def feed():
            for n, text in it:
                if text.strip() and not is_rule(text):  # a rule under a header or between rows: drawn, not data
                    if not fed[1]:
                        fed[2] = n
                    fed[0] = n
                    fed[1] += 1
                    yield text

        reader = csv.reader(feed(), delimiter=self.delim, strict=True)
        while True:
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if fed[1] > 1:  # the record's first line ended inside a quoted field
                    raise LossdocError("error.csv_bad", path=str(path), line=fed[2], detail="unexpected end of data") from None
                raise LossdocError("error.csv_bad", path=str(path), line=fed[0], detail=str(exc)) from None
            if fed[1] > 1:
                raise LossdocError("error.csv_bad", path=str(path), line=fed[2], detail="unexpected end of data")
            fed[1] = 0
            yield fed[0], values


def _split(line: str, delim: str, path: Path, lineno: int) -> list[str]:
    if delim == WHITESPACE:
        return line.split()
    if delim == PIPE:
        return pipe_cells(line)
    try:
        fields = next(csv.reader([line], delimiter=delim, strict=True), [])
    except csv.Error as exc:
        raise LossdocError("error.csv_bad", path=str(path), line=lineno, detail=str(exc)) from None
    return fields


class JsonlColumns(Table):
    """JSON Lines kept as columns: for each column a reader could use (a known step, loss, epoch, lr or grad-norm
    name, or one a flag names) an array of its numbers and a byte per row (0: absent or empty, 1: a number, 2: not
    a number); the other columns only by name. 9 bytes a value instead of a dict per row (issue 26: a 100 MB
    JSONL had peaked at 2.4 GB). ``records()`` gives the rows back as dicts of those columns, as ``cell`` reads them."""

    def __init__(self) -> None:
        super().__init__([], [], [])
        self.names: dict[str, None] = {}
        self.values: dict[str, array] = {}
        self.state: dict[str, bytearray] = {}
        self.line_numbers = array("q")
        self.count = 0
        self.first_has_list = False

    def add(self, flat: dict[str, Any], lineno: int, wanted: Any) -> None:
        i = self.count
        filled = 0
        for k, raw in flat.items():
            col = self.values.get(k)
            if col is None:
                if k in self.names:
                    continue
                self.names[k] = None
                if not wanted(k):
                    continue
                col = self.values[k] = array("d", bytes(8 * i))
                self.state[k] = bytearray(i)
            filled += 1
            if raw.__class__ is float:  # the common case, a JSON number
                col.append(raw)
                self.state[k].append(1)
                continue
            v = cell(raw, [], 0) if raw is not None else None
            code = 0 if raw is None or (isinstance(raw, str) and not raw.strip()) else (2 if v is None else 1)
            col.append(v if v is not None else NAN)
            self.state[k].append(code)
        self.count = i + 1
        if filled < len(self.values):  # columns this row lacks
            for k, col in self.values.items():
                if len(col) == i:
                    col.append(NAN)
                    self.state[k].append(0)
        self.line_numbers.append(lineno)

    def records(self) -> Iterator[tuple[dict[str, Any], int]]:
        cols = [(k, self.values[k], self.state[k]) for k in self.values]
        for i in range(self.count):
            row: dict[str, Any] = {}
            for k, vals, st in cols:
                code = st[i]
                if code == 1:
                    row[k] = vals[i]
                elif code == 2:
                    row[k] = "?"  # not a number: cell() counts its line, as it did the raw value
            yield row, self.line_numbers[i]


def _wanted(*flags: str | None) -> Any:
    """Which columns a JSONL table keeps values of: known names, and those the flags name (loosely compared)."""
    known = {norm_name(n) for n in (*STEP_NAMES, *TRAIN_NAMES, *VAL_NAMES, *EPOCH_NAMES, *LR_NAMES, *GRAD_NAMES)}
    named = {f for f in flags if f}
    known |= {norm_name(f) for f in named}
    # and a name with "loss" as a word (loss_kind), or one named by a loss's measure ("nll", "heldout_nll"): the
    # columns table_to_run falls back on when no usual name is there
    return lambda k: k in named or norm_name(k) in known or loss_kind(k) is not None or (train_by_measure([k]) or val_by_measure([k])) is not None


def load_jsonl(path: Path, wanted: Any = None) -> tuple[JsonlColumns, list[int]]:
    lines = TextLines(path)
    table = JsonlColumns()
    keep = wanted or _wanted()
    bad: list[int] = []
    last_nonempty = 0
    torn = None
    for lineno, line in lines:
        s = line.strip()
        if not s:
            continue
        last_nonempty = lineno
        try:
            rec = json.loads(s)
        except (ValueError, RecursionError):
            bad.append(lineno)
            continue
        if not isinstance(rec, dict):
            bad.append(lineno)
            continue
        flat = _flatten(rec)
        if not table.count:
            # a line holding arrays, or a pandas table (_keyed_table): one JSON document on one line, not a record
            table.first_has_list = any(isinstance(v, list) for v in flat.values()) or _keyed_table(rec) is not None
        table.add(flat, lineno, keep)
    table.columns = list(table.names)
    if bad and bad[-1] == last_nonempty and table.count:
        torn = bad.pop()
    if not table.count:
        if lines.empty:
            raise LossdocError("error.log_empty", path=str(path))
        raise LossdocError("error.jsonl_no_records", path=str(path), example='{"step": 10, "loss": 2.31}')
    table.long_lines = lines  # type: ignore[attr-defined]
    table.torn = torn  # type: ignore[attr-defined]
    return table, bad


def _flatten(rec: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in rec.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and depth < 2:
            out.update(_flatten(v, key + "/", depth + 1))
        else:
            out[key] = v
    return out


# ---------------------------------------------------------------- mapping


# clocks, never a loss: TensorBoard's CSV download ("Wall time,Step,Value"), a tracker's timestamps, a step's duration
TIME_NAMES = frozenset({"wall_time", "walltime", "time", "timestamp", "relative", "relative_time", "elapsed", "runtime", "duration", "time_s"})


def _column(table: Table, path: Path, option: str | None, flag: str, names: list[str], exclude: set[str]) -> str | None:
    if option:
        col = find_exact(table.columns, option)
        if col is None:
            raise LossdocError("error.column_missing", flag=flag, column=option, path=str(path), columns=", ".join(table.columns))
        return col
    return pick([c for c in table.columns if c not in exclude], names)


def _epoch_numbers(run: Run, batches: BatchSeries, evals: list[list[float]], *, has_epochs: bool) -> None:
    """The Run's series, with epoch 0 only before any update: epochs counted from 0 while training are numbered
    from 1, and evaluations without an epoch are numbered in order."""
    shift = 0.0
    if has_epochs:
        if any(e[0] == 0 and not e[4] for e in evals) or (not evals and bool(np.any(batches.epoch == 0))):
            shift = 1.0
            run.warnings.append(ReaderWarning("warn.epochs_from_zero", {}))
    rows = []
    n = 0
    for ep, step, tr, va, before_update in evals:
        if before_update:
            out_ep = 0.0
        elif has_epochs and not math.isnan(ep):
            out_ep = ep + shift
        else:
            n += 1
            out_ep = float(n)
        rows.append((out_ep, step, tr, va, NAN))
    if shift:
        batches.epoch = batches.epoch + shift
    run.batches = batches
    run.epochs = epoch_series(rows)


def table_to_run(
    table: Table,
    path: Path,
    fmt: str,
    *,
    step_col: str | None = None,
    train_col: str | None = None,
    val_col: str | None = None,
) -> Run:
    run = Run(source=str(path), format=fmt)
    named_curves: list[str] = []
    step_c = _column(table, path, step_col, "--step-col", STEP_NAMES, set())
    val_c = _column(table, path, val_col, "--val-col", VAL_NAMES, {step_c} if step_c else set())
    train_c = _column(table, path, train_col, "--train-col", TRAIN_NAMES, {c for c in (step_c, val_c) if c})
    if train_c is None and val_c is None and not (train_col or val_col):
        # no column of the usual names: a column whose name has "loss" as a word ("avg_loss", "running loss",
        # "mean_epoch_loss"; with val/valid/eval/dev/test in it, the validation loss), first of each kind
        kinds = {c: loss_kind(c) for c in table.columns if c != step_c}
        train_c = next((c for c, k in kinds.items() if k == "train"), None)
        val_c = next((c for c, k in kinds.items() if k == "val"), None)
        if train_c is None and val_c is None:
            # nor a name with "loss" in it: a training loss named by its measure ("ce_raw" beside "kl_audio_raw")
            train_c = train_by_measure([c for c in table.columns if c != step_c])
            if train_c is not None:
                run.warnings.append(ReaderWarning("warn.loss_by_measure", {"column": train_c}))
        if train_c is None and val_c is None and any(w in ("loss", "losses") for w in re.split(r"[^a-z]+", path.stem.lower())):
            # a file named for its losses whose columns name what each curve is of ("Epoch,Independent,Position,..."):
            # every column but the counters is a loss curve; the first is read, and a warning names the others
            counters = {c for c in table.columns if norm_name(c) in {*map(norm_name, STEP_NAMES), *map(norm_name, EPOCH_NAMES)}}
            others = {*map(norm_name, LR_NAMES), *map(norm_name, GRAD_NAMES), *TIME_NAMES}
            curves = [c for c in table.columns if c not in counters and norm_name(c) not in others]
            if curves and counters:
                train_c = curves[0]
                named_curves = curves
    if train_c is None and val_c is None:
        raise LossdocError("error.no_loss_columns", path=str(path), columns=", ".join(table.columns) or "-")
    measure_val = None
    if val_c is None and val_col is None:
        # no validation column named as a loss: one named by its measure beside a training loss ("train_loss",
        # "val_mse": a regression's loss is its mean squared error), with a warning that names it
        val_c = measure_val = val_by_measure([c for c in table.columns if c not in (step_c, train_c)], train_c)
    if measure_val is not None:
        run.warnings.append(ReaderWarning("warn.val_by_measure", {"column": measure_val}))
    if named_curves:
        run.warnings.append(ReaderWarning("warn.curve_columns", {"first": named_curves[0], "others": ", ".join(named_curves[1:]) or "-"}))
    # Rows of different kinds (JSONL that mixes step rows {"step", "loss"} with epoch rows {"epoch",
    # "train_loss", "val_loss"}): without --train-col, each row uses the first training-loss column it has.
    train_cands = (
        [train_c]
        if train_col or train_c is None
        else [train_c] + [c for c in (pick([x], TRAIN_NAMES) for x in table.columns if x not in (step_c, val_c, train_c)) if c]
    )
    train_cands = [c for c in train_cands if c is not None]
    train_cands.sort(key=lambda c: TRAIN_NAMES.index(norm_name(c)) if norm_name(c) in TRAIN_NAMES else len(TRAIN_NAMES))
    used = {c for c in (step_c, val_c, *train_cands) if c}
    epoch_c = pick([c for c in table.columns if c not in used], EPOCH_NAMES)
    acc_c = pick([c for c in table.columns if c not in used], VAL_ACC_NAMES) if val_c is not None else None
    accuracy: list[float | None] = []  # beside each evaluation
    lr_c = pick([c for c in table.columns if c not in used], LR_NAMES)
    gn_c = pick([c for c in table.columns if c not in used], GRAD_NAMES)
    if step_c is None:
        run.warnings.append(ReaderWarning("warn.no_step_column", {}))

    # batch rows go to lossdoc's own bounded column store a chunk at a time: it keeps the last row of a repeated
    # step (as a dict keyed by step would), and beyond MAX_BATCH_ROWS a systematic 1 in k of the rows (a warning
    # says so), so the memory stays bounded whatever the table's length (docs/performance.md)
    store = _BatchColumns(BATCH_CAP)
    chunk: list[tuple[float, ...]] = []
    evals: list[list[float]] = []  # [epoch or NaN, step, train, val, pre_update]
    not_numbers: list[int] = []
    no_step = 0
    seen_batch = False
    n_rows = 0
    nulls: list[tuple[int, dict[str, Any], int]] = []
    # a validation cell that reads NaN (docs/formats.md): in rows with steps, a training row's is a placeholder where no
    # evaluation ran (f"{step},{loss},{val}" with val = nan between evaluations), and a row of a validation loss alone
    # that reads NaN is one gone NaN; in rows of evaluations (no step column: epochs), NaN to the end is the validation
    # loss gone NaN when that stretch is longer than every stretch of NaN between finite values (evaluations every k
    # epochs leave k - 1 placeholders between them)
    nan_run, nan_gap = 0, 0  # rows of evaluations: the NaN stretch going on, the longest one between finite values
    nan_start: tuple[float, int] | None = None  # (step, line) where that stretch began
    nan_event: tuple[float, int, int] | None = None  # (step, line, rows) of the validation loss gone NaN
    per_step = step_c is not None
    # runs appended to one file (a script run again: Keras' CSVLogger(append=True)): the step count (else the epoch
    # count) going back, after it rose, to its first value or below, with the loss back nearer its stretch's first value
    # than the value before it (a fresh model's level, not the level reached: a step count that starts again each
    # epoch, a second fit() that goes on training), starts a new run, and only the last one is read
    count_c = step_c if step_c is not None else epoch_c
    count_first = count_prev = count_top = NAN
    ep_prev: float | None = None  # (the epoch at the row before: a step count that starts again as the epoch moves on is one run)
    stretch_first = value_prev = NAN
    run_lines: list[int] = []
    rows_before = 0
    for i, (row, lineno) in enumerate(table.records()):
        n_rows = i + 1
        row_train = next((c for c in train_cands if row.get(c) not in (None, "")), train_c)
        tr = _value(row, row_train, not_numbers, lineno)
        va = _value(row, val_c, not_numbers, lineno)
        if count_c is not None and (tr is not None or va is not None):
            count = to_float(row.get(count_c))
            value = float(tr if tr is not None else va)  # type: ignore[arg-type]
            if count is not None and math.isfinite(count):
                if math.isnan(count_first):
                    count_first, count_top, stretch_first = count, count, value
                elif (
                    count < count_prev
                    and count <= count_first < count_top
                    and not (epoch_c is not None and count_c is not epoch_c and _rose(row.get(epoch_c), ep_prev))
                    and (not math.isfinite(value_prev) or abs(value - stretch_first) <= abs(value - value_prev))
                ):
                    run_lines.append(lineno)
                    rows_before = i
                    store, chunk, evals, nulls, accuracy = _BatchColumns(BATCH_CAP), [], [], [], []
                    seen_batch, nan_run, nan_gap, nan_start, nan_event = False, 0, 0, None, None
                    stretch_first, count_top = value, count
                count_prev, value_prev, count_top = count, value, max(count_top, count)
                if epoch_c is not None:
                    ep_prev = to_float(row.get(epoch_c))
        row_nan = va is not None and math.isnan(va)
        if row_nan and per_step and tr is not None:
            va = None  # a training row (its own loss, NaN or not, is a batch's): the NaN is a placeholder
            row_nan = False
        elif va is not None and not row_nan:
            nan_gap, nan_run, nan_start = max(nan_gap, nan_run), 0, None
        if tr is None and va is None:
            if len(nulls) < NULL_ROWS_KEPT and any(c is not None and c in row and row[c] is None for c in (row_train, val_c)):
                nulls.append((i, row, lineno))  # a JSON null where the loss goes: kept in case every loss is one
            continue
        if step_c is None:
            step = float(i + 1 - rows_before)  # (from the start of the last run, where runs were appended)
        else:
            s = _value(row, step_c, not_numbers, lineno)
            if s is None or not math.isfinite(s):
                no_step += 1
                continue
            step = s
        if row_nan:
            if per_step:
                nan_event = nan_event or (step, lineno, 1)
            else:
                nan_start = nan_start or (step, lineno)
                nan_run += 1
        ep = _value(row, epoch_c, not_numbers, lineno) if epoch_c else None
        ep = NAN if ep is None else ep
        if va is None:
            lr = _value(row, lr_c, not_numbers, lineno) if lr_c else None
            gn = _value(row, gn_c, not_numbers, lineno) if gn_c else None
            chunk.append((float(lineno), float(int(step)), ep, NAN if tr is None else tr, NAN if lr is None else lr, NAN if gn is None else gn, NAN))
            if len(chunk) >= CHUNK_ROWS:
                store.add(None, chunk)
                chunk = []
            seen_batch = True
        else:
            pre = (step == 0) if step_c is not None else (tr is None and not seen_batch)
            evals.append([ep, step, NAN if tr is None else tr, va, 1.0 if pre else 0.0])
            if acc_c is not None:
                accuracy.append(_value(row, acc_c, [], lineno))  # (a cell that is no number leaves no series: no warning)
    if not store.seen and not chunk and not evals and nulls:
        # every loss is null: JSON has no NaN, and JavaScript's JSON.stringify (and other writers) turn NaN into
        # null, so a history whose every loss is null is read as a run of non-finite losses (warn.null_losses)
        for i, row, lineno in nulls:
            s = float(i + 1) if step_c is None else _value(row, step_c, not_numbers, lineno)
            if s is None or not math.isfinite(s):
                continue
            ep = (_value(row, epoch_c, not_numbers, lineno) if epoch_c else None) or NAN
            chunk.append((float(lineno), float(int(s)), ep, NAN, NAN, NAN, NAN))
        run.warnings.append(ReaderWarning("warn.null_losses", {"count": len(nulls)}))
    if not store.seen and not chunk and evals and all(math.isnan(e[2]) and math.isnan(e[3]) for e in evals):
        # rows of evaluations whose every loss is NaN (a history of a run that was NaN from its first epoch): a run of
        # non-finite losses, as every null is, not a file with no loss in it
        chunk = [(float(k + 1), float(int(e[1])), e[0], NAN, NAN, NAN, NAN) for k, e in enumerate(evals)]
        run.warnings.append(ReaderWarning("warn.nan_losses", {"count": len(evals)}))
        evals = []
    store.add(None, chunk)
    batches = store.series()
    sample = store.sampled()
    dup = 0 if sample is not None else store.seen - len(batches)
    if sample is not None:
        run.warnings.append(ReaderWarning("warn.batches_sampled", {"kept": len(batches), **sample}))
    run.records_read = n_rows
    skipped = n_rows - rows_before - store.seen - len(evals) + dup
    if run_lines:
        run.warnings.append(ReaderWarning("warn.runs_appended", {"runs": len(run_lines) + 1, "line": run_lines[-1]}))
    run.records_skipped = max(skipped, 0)
    if no_step:
        run.warnings.append(ReaderWarning("warn.rows_without_step", {"count": no_step}))
    if not_numbers:
        run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(not_numbers), "first": not_numbers[0]}))
    if dup:
        run.warnings.append(ReaderWarning("warn.duplicate_steps", {"count": dup}))

    _epoch_numbers(run, batches, evals, has_epochs=epoch_c is not None)
    run.val_accuracy = accuracy_series(accuracy, len(evals))
    if nan_start is not None and nan_run > nan_gap:
        nan_event = (*nan_start, nan_run)  # NaN to the end, longer than any gap between evaluations
    if nan_event is not None:
        step, lineno, rows = nan_event
        run.events.append(Event("nonfinite_val", float(step), f"validation loss NaN at line {lineno} ({rows} row(s) from there)"))
    cols = ", ".join(c for c in (train_c, val_c) if c)
    return finish(run, path, "error.no_loss_values", columns=cols)


def _rose(cell: Any, before: float | None) -> bool:
    """Whether a row's epoch is above the epoch of the row before it."""
    now = to_float(cell)
    return now is not None and before is not None and now > before


def _value(row: dict[str, Any], col: str | None, bad: list[int], lineno: int) -> float | None:
    if col is None:
        return None
    return cell(row.get(col), bad, lineno)


def cell(raw: Any, bad: list[int], lineno: int) -> float | None:
    """A cell's number: None when empty or absent; a non-number is None and its line goes to ``bad``."""
    if raw.__class__ is str:  # the common case, a CSV cell: float() reads what to_float reads (spaces, nan, inf)
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            pass
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    v = to_float(raw)
    if v is None:
        bad.append(lineno)
    return v


# ---------------------------------------------------------------- readers


_LONG_NAME = ("metric", "key", "metric_name", "name", "tag")  # the column naming each row's metric, in a long table
_LONG_VALUE = ("value",)
_LONG_RUN = ("run_id", "run", "run_name", "run_uuid")


def long_to_wide(table: Table) -> tuple[Table, dict[str, Any]] | None:
    """A table in long form, one row per (metric, step, value) (MLflow's metric export: ``Run,Run ID,metric,step,
    timestamp,value``; a tracker's tidy export), as the table of one column per metric, a row per step, in log order.
    Only the first run's rows when a run column holds several. (The wide table, the warning's arguments), or None when
    the table is not in long form: no column of the metric's name beside a ``value`` column, or no row names a metric
    the readers know (TRAIN_NAMES, VAL_NAMES or a loss by its words)."""
    name_c, value_c = pick(table.columns, list(_LONG_NAME)), pick(table.columns, list(_LONG_VALUE))
    if name_c is None or value_c is None:
        return None
    if pick(table.columns, TRAIN_NAMES) or pick(table.columns, VAL_NAMES) or any(loss_kind(c) for c in table.columns):
        return None  # a wide table that also has a name and a value column ("step,loss,name,value"): its loss is named
    step_c = pick([c for c in table.columns if c not in (name_c, value_c)], STEP_NAMES)
    run_c = pick([c for c in table.columns if c not in (name_c, value_c, step_c)], list(_LONG_RUN))
    by_step: dict[Any, dict[str, Any]] = {}
    lines: dict[Any, int] = {}
    seen: dict[str, int] = {}
    runs: list[str] = []
    for row, line in table.records():
        run_id = str(row.get(run_c, "")) if run_c else ""
        if run_id not in runs:
            runs.append(run_id)
        if run_id != runs[0]:
            continue
        metric = str(row.get(name_c, "")).strip()
        if not metric or to_float(metric) is not None:
            continue  # a metric's name is a name, not a number
        seen[metric] = seen.get(metric, 0) + 1
        at = row.get(step_c) if step_c and str(row.get(step_c, "")).strip() else str(seen[metric])
        # a validation metric's rows apart from the training ones at the same step: one row holding both would be
        # read as an evaluation with its epoch's training loss, not as a batch and an evaluation
        key = (at, bool(pick([metric], VAL_NAMES) or loss_kind(metric) == "val"))
        by_step.setdefault(key, {})[metric] = row.get(value_c)
        lines.setdefault(key, line)
    metrics = list(seen)
    if not any(pick([m], TRAIN_NAMES) or pick([m], VAL_NAMES) or loss_kind(m) for m in metrics):
        return None
    step_name = "step" if "step" not in metrics else "_step"
    rows = [{step_name: k[0], **v} for k, v in by_step.items()]
    wide = Table([step_name, *metrics], rows, [lines[k] for k in by_step])
    return wide, {"metrics": ", ".join(metrics), "runs": len(runs), "first": runs[0] or "-"}


def read_csv(path: Path, *, step_col: str | None = None, train_col: str | None = None, val_col: str | None = None, **_: Any) -> Run:
    table = StreamedCsv(path)
    long = None if (step_col or train_col or val_col) else long_to_wide(table)
    if long is not None:
        run = table_to_run(long[0], path, "csv")
        run.warnings.append(ReaderWarning("warn.long_format", long[1]))
        table.source.lines.warn_long(run)
        return run
    if table.count:
        table = StreamedCsv(path)  # its records were read looking for a long table: read them again
    run = table_to_run(table, path, "csv", step_col=step_col, train_col=train_col, val_col=val_col)
    if table.source.bare and table.count < 3:
        raise LossdocError("error.csv_no_header", path=str(path))  # too few rows to read bare columns as step and loss
    table.source.lines.warn_long(run)
    if table.source.bare:
        if "ppl" in table.columns:
            cols = list(table.columns)
            run.warnings.append(ReaderWarning("warn.ppl_columns", {"loss": cols.index("loss") + 1, "ppl": cols.index("ppl") + 1}))
        else:
            run.warnings.append(ReaderWarning("warn.bare_columns", {"columns": ", ".join(table.columns)}))
    if table.source.preamble:
        run.warnings.append(ReaderWarning("warn.table_preamble", {"count": table.source.preamble}))
    return run


def read_jsonl(path: Path, *, step_col: str | None = None, train_col: str | None = None, val_col: str | None = None, **_: Any) -> Run:
    try:
        table, bad = load_jsonl(path, _wanted(step_col, train_col, val_col))
    except LossdocError as exc:
        if exc.key != "error.jsonl_no_records":
            raise
        # no line was a record: one JSON document on a line longer than LINE_CAP (a column-oriented history)?
        try:
            return read_json(path, step_col=step_col, train_col=train_col, val_col=val_col)
        except LossdocError:
            raise exc from None
    if table.count == 1 and table.first_has_list:
        # one line holding arrays: a column-oriented JSON document on a single line
        return read_json(path, step_col=step_col, train_col=train_col, val_col=val_col)
    run = table_to_run(table, path, "jsonl", step_col=step_col, train_col=train_col, val_col=val_col)
    table.long_lines.warn_long(run)  # type: ignore[attr-defined]
    if table.torn is not None:  # type: ignore[attr-defined]
        run.warnings.append(ReaderWarning("warn.torn_last_line", {"line": table.torn}))  # type: ignore[attr-defined]
    if bad:
        run.records_skipped += len(bad)
        run.warnings.append(ReaderWarning("warn.corrupt_lines", {"count": len(bad), "first": bad[0]}))
    return run


# ---------------------------------------------------------------- one JSON document

JSON_MAX_BYTES = 256 * 2**20


def detect_json(path: Path, head: str) -> bool:
    """One JSON document (pretty-printed or not): a dict of arrays, a list of records, or a list of rows of numbers."""
    first = head.lstrip("\ufeff \t\r\n")
    if not first.startswith(("{", "[")) or '"log_history"' in head:
        return False
    rest = first[1:].lstrip(" \t\r\n")
    second = rest[:1]
    if first[0] == "[" and second == "[":  # [[step, train, val], ...]: a row of numbers
        return re.match(r"\[\s*-?\d", rest) is not None
    return second in ('"', "}") if first[0] == "{" else second in ("{", "]", "")


class _ColumnRows:
    """The rows of equal-length column arrays, each made when it is read (no list of millions of dicts)."""

    def __init__(self, columns: dict[str, list], n: int) -> None:
        self.columns, self.n = columns, n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {k: v[i] for k, v in self.columns.items()}

    def __iter__(self):
        names = list(self.columns)
        for values in zip(*self.columns.values()):
            yield dict(zip(names, values))


def _rows_by_position(doc: Any) -> Table | None:
    """[[step, train, val], ...] or [[step, loss], ...]: lists of 2 or 3 numbers whose first is a whole, non-decreasing
    step. Named by position (step, train_loss, val_loss): the common order of a hand-kept loss history."""
    if not (isinstance(doc, list) and doc and all(isinstance(r, list) for r in doc)):
        return None
    k = len(doc[0])
    if k not in (2, 3) or any(len(r) != k for r in doc):
        return None
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for r in doc for x in r):
        return None
    steps = [r[0] for r in doc]
    if any(float(s) != int(s) for s in steps if math.isfinite(s)) or any(b < a for a, b in zip(steps, steps[1:])):
        return None
    names = ["step", "train_loss", "val_loss"][:k]
    return Table(names, [dict(zip(names, r)) for r in doc], list(range(1, len(doc) + 1)))


def _spread_columns(arrays: dict[str, list]) -> Table | None:
    """{"train": [N values], "val": [M values]} of different lengths, with an optional step array as long as one of
    them: the longer loss series is the training one (its steps: that array, else 1..N); the shorter is spread
    evenly over the same span, value k at step round(k x last / M), as the bare number lists are."""
    train = pick(arrays, TRAIN_NAMES)
    val = pick(arrays, VAL_NAMES)
    if train is None or val is None or train == val or len(arrays[val]) >= len(arrays[train]):
        return None
    n, m = len(arrays[train]), len(arrays[val])
    step_col = next((c for c in arrays if pick([c], STEP_NAMES) and len(arrays[c]) == n), None)
    steps = [float(s) for s in arrays[step_col]] if step_col else [float(i) for i in range(1, n + 1)]
    rows: list[dict[str, Any]] = [{"step": s, "train_loss": x} for s, x in zip(steps, arrays[train])]
    last = steps[-1]
    rows += [{"step": float(round((k + 1) * last / m)), "val_loss": v} for k, v in enumerate(arrays[val])]
    rows.sort(key=lambda r: (r["step"], "val_loss" in r))
    table = Table(["step", "train_loss", "val_loss"], rows, list(range(1, len(rows) + 1)))
    table.spread = True  # (read_json's warning says so)
    return table


def _step_key(row: dict[str, Any]) -> float:
    v = to_float(row["step"])
    return math.inf if v is None else v


def _groups_to_table(doc: dict[str, Any]) -> Table | None:
    """{"training": {"iters": [...], "loss": [...]}, "validation": {"steps": [...], "val_loss": [...]}}: groups of
    equal-length arrays, each with its own step array (a plotting script's dump of its training and its evaluations).
    Each group's rows at its own steps, its columns named group/column ("training/loss", "validation/val_loss"), in
    one table ordered by step; None unless two groups or more hold a step array and a loss."""
    groups: list[tuple[str, str, dict[str, list]]] = []
    for name, value in doc.items():
        if not isinstance(value, dict):
            continue
        arrays = {str(k): v for k, v in value.items() if isinstance(v, list) and v and not isinstance(v[0], (dict, list))}
        lengths = {len(v) for v in arrays.values()}
        step = next((c for c in arrays if pick([c], STEP_NAMES + ["iters", "steps", "iterations"])), None)
        if len(lengths) != 1 or step is None or not any("loss" in c.lower() for c in arrays):
            continue
        groups.append((str(name), step, arrays))
    if len(groups) < 2:
        return None
    rows: list[dict[str, Any]] = []
    columns: dict[str, None] = {"step": None}
    seen: dict[str, int] = {}
    for _, step, arrays in groups:
        for c in arrays:
            seen[c] = seen.get(c, 0) + (c != step)
    # the training curve's column: the training loss of a group that holds no validation loss
    train_name = next((t for _, _, a in groups if pick(list(a), VAL_NAMES) is None for t in [pick(list(a), TRAIN_NAMES)] if t), None)
    for name, step, arrays in groups:
        has_val = pick(list(arrays), VAL_NAMES) is not None
        # a column keeps its own name, unless another group has one of the same name, or it is a training loss
        # measured at the evaluations of a group that holds the validation loss (nanoGPT's "train loss" at each eval):
        # that one takes the training curve's name, so that its rows (which hold the validation loss) are evaluations
        # with their training level, as nanoGPT's console reader keeps them; without a training curve, its group's
        train_at_eval = {c for c in arrays if has_val and "loss" in c.lower() and pick([c], VAL_NAMES) is None}
        named = {
            c: (
                train_name
                if c in train_at_eval and train_name is not None and len(train_at_eval) == 1
                else f"{name}/{c}"
                if seen.get(c, 0) > 1 or c in train_at_eval
                else c
            )
            for c in arrays
            if c != step
        }
        for c in named.values():
            columns.setdefault(c, None)
        for i, s in enumerate(arrays[step]):
            row: dict[str, Any] = {"step": s}
            row.update({named[c]: arrays[c][i] for c in named})
            rows.append(row)
    rows.sort(key=_step_key)
    return Table(list(columns), rows, list(range(1, len(rows) + 1)))


def _with_nested_losses(doc: dict[str, Any], arrays: dict[str, list]) -> dict[str, list]:
    """A JSON object whose top-level arrays hold no loss, but whose objects do (per-split groups of per-epoch lists, or
    a "metrics" object beside an "epochs" array): those arrays by their paths, with the top-level ones, every one as
    long as the training or the validation loss; else the top-level arrays as they were."""
    if pick(arrays, TRAIN_NAMES) is not None or pick(arrays, VAL_NAMES) is not None:
        return arrays
    # the arrays of numbers inside its objects (two levels at most), named by their path ("train/loss", "metrics/val_loss")
    nested = {k: v for k, v in _flatten(doc).items() if "/" in k and isinstance(v, list) and v and not isinstance(v[0], (dict, list))}
    losses = [c for c in (pick(nested, TRAIN_NAMES), pick(nested, VAL_NAMES)) if c is not None]
    if not losses:
        return arrays
    # a training loss per batch and a validation loss per epoch differ in length: the arrays as long as either, which
    # the caller spreads as it does {"train": [N], "val": [M]}
    lengths = {len(nested[c]) for c in losses}
    return {k: v for k, v in {**arrays, **nested}.items() if len(v) in lengths}


_INDEX_KEY = re.compile(r"-?\d{1,12}\Z")


def _keyed_by_index(d: Any) -> bool:
    """Whether an object is keyed by row index ({"0": ..., "1": ...}: two keys or more, every one an integer)."""
    return isinstance(d, dict) and len(d) >= 2 and all(isinstance(k, str) and _INDEX_KEY.match(k) for k in d)


def _names_a_loss(name: str) -> bool:
    return pick([name], TRAIN_NAMES) is not None or pick([name], VAL_NAMES) is not None or loss_kind(name) is not None


def _keyed_table(doc: Any) -> Table | None:
    """A table written by pandas' ``DataFrame.to_json``: orient "columns" (its default: ``{"loss": {"0": 0.45, "1":
    0.44, ...}, "val_loss": {...}}``), "index" (``{"0": {"loss": 0.45, "val_loss": 0.52}, "1": {...}}``, also what
    ``json.dump({epoch: {...}})`` writes) or "split" (``{"columns": [...], "index": [...], "data": [[...], ...]}``).
    Index keys that count the rows from 0 or 1 are their places (no step column, as a list of records has none);
    other keys (``{"train_loss": {"100": 2.6, "200": 2.4}}``) are steps. None for any other document."""
    if not isinstance(doc, dict):
        return None
    cols, data = doc.get("columns"), doc.get("data")
    if isinstance(cols, list) and cols and isinstance(data, list) and data and all(isinstance(r, list) and len(r) == len(cols) for r in data):
        names = [str(c) for c in cols]
        if not any(_names_a_loss(c) for c in names):
            return None
        index = doc.get("index")
        if isinstance(index, list) and len(index) == len(data) and all(isinstance(k, int) and not isinstance(k, bool) for k in index):
            split_rows = {int(k): dict(zip(names, r)) for k, r in zip(index, data)}
            if len(split_rows) == len(data):
                return _keyed_rows(split_rows)
        return Table(names, _nulls_to_nan([dict(zip(names, r)) for r in data]), list(range(1, len(data) + 1)))
    if any(isinstance(v, list) and _names_a_loss(str(k)) for k, v in doc.items()):
        return None  # arrays named for a loss at the top: a column-oriented history, whatever else it holds
    rows: dict[int, dict[str, Any]] = {}
    if _keyed_by_index(doc) and all(isinstance(v, dict) for v in doc.values()):
        rows = {int(k): _flatten(v) for k, v in doc.items()}  # orient "index"
        if not any(_names_a_loss(c) for r in list(rows.values())[:5] for c in r):
            return None
    else:
        keyed = {str(k): v for k, v in doc.items() if _keyed_by_index(v) and not any(isinstance(x, (dict, list)) for x in v.values())}
        if not any(_names_a_loss(c) for c in keyed):  # orient "columns": one column at least names a loss
            return None
        for c, v in keyed.items():
            for k, x in v.items():
                rows.setdefault(int(k), {})[c] = x
    return _keyed_rows(rows)


def _nulls_to_nan(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pandas writes NaN as null, both for a loss gone NaN and for a cell where nothing was measured (a long table whose
    training rows have no validation loss). A column's nulls to its end are a NaN where that stretch is longer than
    every stretch of nulls between its values (a Keras history gone NaN); the others stay empty cells."""
    columns = list(dict.fromkeys(c for r in rows for c in r))
    for col in columns:
        cells = [r.get(col) for r in rows]
        filled = [i for i, v in enumerate(cells) if v is not None]
        if not filled or filled[-1] == len(cells) - 1:
            continue
        gaps = [b - a - 1 for a, b in zip(filled, filled[1:])]
        if len(cells) - 1 - filled[-1] > max(gaps, default=0):
            for r in rows[filled[-1] + 1 :]:
                if col in r:
                    r[col] = math.nan
    return rows


def _keyed_rows(rows: dict[int, dict[str, Any]]) -> Table:
    """Rows keyed by their index: keys counting from 0 or from 1 are their places, other keys steps."""
    order = sorted(rows)
    places = order in (list(range(len(order))), list(range(1, len(order) + 1)))
    names = list(dict.fromkeys(["step"] * (not places) + [c for k in order for c in rows[k]]))
    table_rows = _nulls_to_nan([rows[k] if places else {"step": k, **rows[k]} for k in order])
    return Table(names, table_rows, list(range(1, len(table_rows) + 1)))


def _table_arrays(doc: dict[str, Any]) -> dict[str, list]:
    """The arrays of numbers at a document's top level, or inside its objects where none at the top names a loss
    (the columns ``_columns_to_table`` reads of a column-oriented document)."""
    numbers = {
        str(k): v for k, v in doc.items() if isinstance(v, list) and v and any(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
    }
    return _with_nested_losses(doc, numbers)


def _holds_a_loss(arrays: dict[str, list]) -> bool:
    return any(_names_a_loss(c) for c in arrays)


def _columns_to_table(doc: Any) -> Table | None:
    """{"step": [...], "loss": [...]} (equal lengths), {"train": [N], "val": [M]} (spread), [{...}, {...}] (or
    {"history": [...]}), [[step, train, val], ...] (by position), or a pandas table (``_keyed_table``) -> Table. In a
    larger document (a results file: the model's settings, a history, the test scores, a list of per-class records),
    the history is the part that names a loss: a list of records with a loss in them, else the arrays of numbers (at
    the top, or inside its objects: ``{"training_history": {"train_loss": [...], "val_loss": [...]}}``)."""
    by_position = _rows_by_position(doc)
    if by_position is not None:
        return by_position
    keyed = _keyed_table(doc)
    if keyed is not None:
        return keyed
    if isinstance(doc, dict):
        arrays = {str(k): v for k, v in doc.items() if isinstance(v, list)}
        if not arrays:
            grouped = _groups_to_table(doc)
            if grouped is not None:
                return grouped
        lists_of_records = [v for v in arrays.values() if v and all(isinstance(x, dict) for x in v)]
        with_loss = [v for v in lists_of_records if any(_names_a_loss(c) for x in v[:5] for c in _flatten(x))]
        if len(with_loss) == 1:
            return _columns_to_table(with_loss[0])
        # the arrays of numbers (a list of names, of class labels or of records is not a column of this history)
        numbers = _table_arrays(doc)
        if lists_of_records and len(lists_of_records) == 1 and not _holds_a_loss(numbers):
            return _columns_to_table(lists_of_records[0])
        if _holds_a_loss(numbers) or not lists_of_records:
            arrays = numbers if _holds_a_loss(numbers) else _with_nested_losses(doc, arrays)
        lengths = {len(v) for v in arrays.values() if v}
        if len(lengths) > 1:
            return _spread_columns(arrays)
        if not arrays or len(lengths) != 1:
            return None
        n = lengths.pop()
        cols = [k for k, v in arrays.items() if len(v) == n]
        return Table(cols, _ColumnRows({k: arrays[k] for k in cols}, n), range(1, n + 1))  # type: ignore[arg-type]
    if isinstance(doc, list) and doc and all(isinstance(x, dict) for x in doc):
        columns: dict[str, None] = {}
        rows = []
        for rec in doc:
            flat = _flatten(rec)
            rows.append(flat)
            for k in flat:
                columns.setdefault(k, None)
        return Table(list(columns), rows, list(range(1, len(rows) + 1)))
    return None


def _figures_only(doc: Any, depth: int = 0) -> bool:
    """Whether a JSON document is figures, not a curve in a shape no reader knows: no array of two numbers or more
    anywhere, and no key naming a loss over anything but one number (``{"train_loss": {"0": 3.0, "100": 2.6}}`` is a
    curve keyed by step). Nested objects are looked into (8 levels at most)."""
    from lossdoc.runlog.readers.values import LOSS_WORD

    if depth > 8:
        return False
    if isinstance(doc, list):
        return sum(isinstance(x, (int, float)) and not isinstance(x, bool) for x in doc) < 2 and all(_figures_only(x, depth + 1) for x in doc)
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, (dict, list)) and LOSS_WORD.search(str(k)):
                return False
            if not _figures_only(v, depth + 1):
                return False
    return True


def read_json(path: Path, *, step_col: str | None = None, train_col: str | None = None, val_col: str | None = None, **_: Any) -> Run:
    from lossdoc.runlog.readers._common import file_size_ok

    file_size_ok(path, JSON_MAX_BYTES, "error.json_too_big")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    try:
        doc = json.loads(raw.decode("utf-8-sig", errors="replace"))
    except json.JSONDecodeError as exc:
        raise LossdocError("error.json_invalid", path=str(path), line=exc.lineno, col=exc.colno) from None
    except (ValueError, RecursionError):
        raise LossdocError("error.json_invalid", path=str(path), line=1, col=1) from None
    table = _columns_to_table(doc)
    if table is None:
        if isinstance(doc, dict) and not (step_col or train_col or val_col) and _figures_only(doc):
            # one object of named figures (a metrics.json written at the end of a run: {"step": 999, "train_loss":
            # 1.95, "val_loss": 2.03, ...}): a page of final figures, read as the values reader reads one
            from lossdoc.runlog.readers import values

            try:
                return values.read(path)
            except LossdocError:
                pass
        raise LossdocError("error.json_shape", path=str(path))
    run = table_to_run(table, path, "json", step_col=step_col, train_col=train_col, val_col=val_col)
    if _rows_by_position(doc) is not None:
        run.warnings.append(ReaderWarning("warn.json_by_position", {"k": len(doc[0]), "columns": ", ".join(table.columns)}))
    elif table.spread:
        run.warnings.append(ReaderWarning("warn.json_spread", {}))
    return run
