"""Reader for bare lists of numbers: one loss per line, as ``np.savetxt`` or ``f.write(f"{loss}\\n")`` writes them.

    2.3456                        -> one loss per line; blank lines and ``#`` comments (np.savetxt's header) skipped
    1.234000000000000000e+00      -> np.savetxt's default format
    loss                          -> an optional first line naming the column (a one-column CSV)
    [3.72, 3.59, null, ...]       -> a JSON array of numbers (json.dump(losses, f)), on one line or pretty-printed;
                                     null is a NaN (JavaScript's JSON.stringify and pandas' to_json write NaN so)
    3.72, 3.59, 3.41, ...         -> one row of numbers, the file's only line, separated by commas, semicolons, tabs
                                     or spaces (a C++ or shell loop's ``out << loss << ", "``, ``np.savetxt`` of one row)

    Epoch 1: 2.0572               -> each value after its counter (epoch, ep, step, iter, iteration, it or batch, then
    epoch2<TAB>1.9251                the number, ``/total`` optional, then ``:``, ``=``, ``,``, ``|`` or blanks): the same
                                     word on every line, the counter read as the value's step (an epoch's loss log)

The steps are the line numbers: value *i* (counted from 1, over the values only) is step *i*. A warning says
so, since the file does not tell how many updates lie between two values. Counters, where every line has one, are
the steps instead (warning ``warn.numbers_counter``).

Which series a file is comes from its name (or its one-word header): ``val``, ``valid``, ``validation``,
``eval``, ``dev`` or ``test`` as a word of the name makes it the evaluation series, anything else the
training series. Its partner is looked for beside it, with the word swapped (``train_losses.txt`` ->
``val_losses.txt``, ``valid_losses.txt``, ``eval_losses.txt``, ``test_losses.txt``, ...; a name without
``train`` -> the same name with a ``val_`` (etc.) prefix, and back), and read when it is a list of numbers too:

- the same number of values in both: one evaluation row per line, with both losses (as a per-epoch history
  that appends a training and a validation loss each epoch: Keras' ``epoch, loss, val_loss``), epoch *i*,
  step *i*;
- different numbers (N training values, M evaluations): the training values are batches at steps 1..N and
  evaluation *k* (k = 1..M) sits at step round(k·N/M), the end of the k-th of M equal shares of training;
- an evaluation file alone: evaluations 1..M at steps 1..M.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import (
    NAN,
    TRAIN_NAMES,
    VAL_NAMES,
    TextLines,
    batch_series,
    decode_head,
    epoch_series,
    finish,
    pick,
    sniff_encoding,
    to_float,
)
from lossdoc.runlog.run import Event, ReaderWarning, Run

_VAL_WORDS = ("val", "valid", "validation", "eval", "evaluation", "dev", "test")
_TRAIN_WORDS = ("train", "training")
_WORD_SPLIT = re.compile(r"[^A-Za-z]+")
_TRAIN_RX = re.compile(r"(?<![A-Za-z])(train|training)(?![A-Za-z])", re.IGNORECASE)
_VAL_RX = re.compile(r"(?<![A-Za-z])(val|valid|validation|eval|evaluation|dev|test)(?![A-Za-z])", re.IGNORECASE)
_VAL_PREFIX = re.compile(r"^(val|valid|validation|eval|dev|test)[_\-.]", re.IGNORECASE)
MIN_VALUES = 2
HEAD_BYTES = 8192  # as much of a file as detection looks at (readers.HEAD_BYTES)
PARTNER_SCAN = 200  # at most this many names are looked at for a folder's list of numbers


# a counter before a value: "Epoch 1: 2.0572", "epoch1<TAB>0.2391", "step 100 = 2.31", "Iter 3/10 | 1.95", or a bare
# number and a colon ("0: 0.2986", print(f"{epoch}: {loss}"))
_COUNTER = re.compile(
    r"^(?:(epoch|ep|step|iter|iteration|it|batch)[ \t_]?(\d{1,12})(/\d{1,12})?[ \t]*[:=,|\t ]|(\d{1,12})[ \t]*:)[ \t]*", re.IGNORECASE
)
BARE_COUNTER = "#"  # the counter word of a bare number before a colon


def _counter(s: str) -> tuple[str | None, int, str]:
    """(the counter's word, lower case (BARE_COUNTER for a bare number), its number, the rest of the line) of a line
    that starts with a counter, else (None, 0, the line)."""
    m = _COUNTER.match(s)
    if m is None:
        return None, 0, s
    if m.group(1) is None:
        return BARE_COUNTER, int(m.group(4)), s[m.end() :].strip()
    return m.group(1).lower(), int(m.group(2)), s[m.end() :].strip()


# a scalar printed as its framework's object, as print(losses) shows a list of them: TensorFlow's eager tensor
# (<tf.Tensor: shape=(), dtype=float32, numpy=1.3171446>), torch's tensor(2.31, grad_fn=<NllLossBackward0>), numpy's
# array(2.31, dtype=float32) and numpy 2's np.float32(2.31)
_REPR_NUM = r"[-+]?(?:\d{1,15}(?:\.\d{0,24})?(?:[eE][-+]?\d{1,3})?|\.\d{1,24}(?:[eE][-+]?\d{1,3})?|nan|inf)"
_SCALAR_REPR = re.compile(
    r"<tf\.Tensor:[^<>\n]{0,200}?numpy=(" + _REPR_NUM + r")>"
    r"|\b(?:tf\.Tensor|tensor|array|np\.(?:float|int)(?:16|32|64)?|numpy\.(?:float|int)(?:16|32|64))\([ \t]{0,4}(" + _REPR_NUM + r")"
    r"(?:,[^()\n]{0,200}?(?:\([^()\n]{0,40}\)[^()\n]{0,200}?){0,4})?\)"
)
_REPR_MARK = re.compile(r"tf\.Tensor|tensor\(|array\(|np\.(?:float|int)|numpy\.(?:float|int)")


def _unwrap(text: str, complete: bool = True) -> str:
    """Each framework scalar in ``text`` as its number (``_SCALAR_REPR``); from a head that may end inside one, the text
    up to the last whole one."""
    if _REPR_MARK.search(text[:4096]) is None:
        return text
    if not complete:
        ends = [m.end() for m in _SCALAR_REPR.finditer(text)]
        text = text[: ends[-1]] if ends else text
    return _SCALAR_REPR.sub(lambda m: m.group(1) or m.group(2), text)


def _is_number_line(s: str) -> bool:
    return len(s.split()) == 1 and to_float(s) is not None


def _counted(lines: list[str]) -> bool:
    """Whether every line is one number after a counter of one word (``_COUNTER``): an epoch's loss log."""
    words = set()
    for x in lines:
        word, _, rest = _counter(x)
        if word is None or not _is_number_line(rest):
            return False
        words.add(word)
    return len(words) == 1


def _header_kind(s: str) -> str | None:
    """'train' or 'val' for a one-word header naming a loss column, else None."""
    if len(s.split()) != 1 or to_float(s) is not None:
        return None
    if pick([s], VAL_NAMES):
        return "val"
    if pick([s], TRAIN_NAMES):
        return "train"
    return None


_JSON_SEP = re.compile(r"[\s,\[\]]+")
_JSON_START = re.compile(r"^\s*\[\s*(?:[-+.\d]|null|NaN|-?Infinity)")


def _json_token(tok: str) -> float | None:
    """A JSON array's element as a loss: a number, NaN/Infinity (Python's json), or null (JavaScript's JSON.stringify
    and pandas' to_json write a NaN as null)."""
    return math.nan if tok == "null" else to_float(tok)


def _looks_like_json_list(text: str, complete: bool) -> bool:
    """A JSON array of numbers ([3.72, 3.59, ...], on one line or pretty-printed): at least MIN_VALUES, one of them not
    an integer."""
    if not _JSON_START.match(text.lstrip("\ufeff")):
        return False
    toks = [t for t in _JSON_SEP.split(text.lstrip("\ufeff")) if t]
    if not complete and toks:
        toks = toks[:-1]  # the head may end inside a number
    if len(toks) < MIN_VALUES or any(_json_token(t) is None for t in toks):
        return False
    return any(not re.fullmatch(r"[-+]?\d+", t) for t in toks)


_ROW_SEP = re.compile(r"[\s,;]+")


def _row_tokens(line: str) -> list[str]:
    return [t for t in _ROW_SEP.split(line) if t]


_INTEGER = re.compile(r"[-+]?\d+")


def _is_row(line: str) -> bool:
    toks = _row_tokens(line)
    return len(toks) > 1 and all(to_float(t) is not None for t in toks)


ROW_MIN_VALUES = 10  # a row of fewer numbers is a setting (Adam's betas, loss weights), not a run's losses
ROW_LINE_CAP = 1 << 23  # characters: a row of losses (or a JSON array on one line) is read up to this long (~800,000 values)


def _steps_and_losses(toks: list[str]) -> bool:
    """Whether a row alternates rising integers with other numbers (``10 1.98 20 1.85 ...``): step and loss pairs, not a
    list of losses."""
    steps = toks[0::2]
    if len(steps) < 2 or not all(_INTEGER.fullmatch(t) for t in steps):
        return False
    values = [int(t) for t in steps]
    return all(b > a for a, b in zip(values, values[1:]))


def _looks_like_row(lines: list[str], complete: bool) -> bool:
    """The file's only line (of those that are not blank or '#' comments) a row of at least ROW_MIN_VALUES numbers,
    one of them not an integer and not step and loss pairs, after at most one line holding one integer (a count or a
    data size a C++ program wrote first, not read). From a head that ends inside the row, its last token may be cut:
    left out. Several such rows are a matrix (several runs side by side, readers/values.py), not one list: a second
    row found beyond the head gives way to that reader (``read``)."""
    if len(lines) == 2 and _INTEGER.fullmatch(lines[0]):
        lines = lines[1:]
    if len(lines) != 1:
        return False
    toks = _row_tokens(lines[0])
    if not complete and toks:
        toks = toks[:-1]
    if len(toks) < ROW_MIN_VALUES or any(to_float(t) is None for t in toks) or _steps_and_losses(toks):
        return False
    return any(not _INTEGER.fullmatch(t) for t in toks)


def _looks_like_list(text: str, complete: bool, rows: bool = True) -> bool:
    """At least MIN_VALUES lines of one number each (one of them not an integer: token ids are not losses),
    after an optional one-word header naming a loss; blank lines and '#' comments are skipped. Or a JSON array of
    numbers, or (``rows``: a whole file, not a block of a page) one row of numbers (``_looks_like_row``)."""
    text = _unwrap(text, complete)
    if text.lstrip("\ufeff \t\r\n").startswith("["):
        return _looks_like_json_list(text, complete)
    raw = [x.strip() for x in text.lstrip("\ufeff").splitlines()]
    content = [x for x in raw if x and not x.startswith("#")]
    if rows and not complete and 1 <= len(content) <= 2 and raw and raw[-1] == content[-1]:
        return _looks_like_row(content, complete=False)  # the head ends inside the file's first row
    if rows and complete and _looks_like_row(content, complete=True):
        return True
    lines = [x.strip() for x in text.lstrip("\ufeff").splitlines()]
    if not complete and lines:
        lines = lines[:-1]  # the head may end inside a line
    lines = [x for x in lines if x and not x.startswith("#")]
    if lines and _header_kind(lines[0]) is not None:
        lines = lines[1:]
    if len(lines) >= MIN_VALUES and _counted(lines):
        lines = [_counter(x)[2] for x in lines]
    if len(lines) < MIN_VALUES or not all(_is_number_line(x) for x in lines):
        return False
    return any(not re.fullmatch(r"[-+]?\d+", x) for x in lines)


# a file named for a measure that is not a loss (per_class_accuracy.txt, val_f1.txt): its numbers are no losses
_NOT_A_LOSS_FILE = frozenset({"acc", "accuracy", "accu", "f1", "precision", "recall", "auc", "bleu", "wer", "cer", "rouge", "iou", "dice"})


def _named_for_a_metric(path: Path) -> bool:
    words = {w.lower() for w in _WORD_SPLIT.split(path.stem) if w}
    return bool(words & _NOT_A_LOSS_FILE) and not ({"loss", "losses"} & words)


def detect(path: Path, head: str) -> bool:
    if _named_for_a_metric(path):
        return False
    try:
        complete, whole_file = path.stat().st_size <= HEAD_BYTES, True
    except OSError:  # a block of a page (readers/markdown.py): a row of numbers there is a page's figures, not a log
        complete, whole_file = False, False
    return _looks_like_list(head, complete=complete, rows=whole_file)


def _role(path: Path, header: str | None) -> str:
    if header is not None:
        return header
    words = [w.lower() for w in _WORD_SPLIT.split(path.stem) if w]
    return "val" if any(w in _VAL_WORDS for w in words) else "train"


def _partner_names(name: str, role: str) -> list[str]:
    """Names of the file that would hold the other series, most likely first."""
    out: list[str] = []
    if role == "train":
        if _TRAIN_RX.search(name):
            for w in ("val", "valid", "validation", "eval", "test", "dev"):
                out.append(_swap(_TRAIN_RX, name, w))
        else:
            out += [f"{w}_{name}" for w in ("val", "valid", "eval", "test", "dev")]
    else:
        if _VAL_RX.search(name):
            out.append(_swap(_VAL_RX, name, "train"))
            out.append(_swap(_VAL_RX, name, "training"))
        if m := _VAL_PREFIX.match(name):
            out.append(name[m.end() :])
    return list(dict.fromkeys(n for n in out if n != name))


def _swap(rx: re.Pattern[str], name: str, word: str) -> str:
    """``name`` with the first word ``rx`` finds replaced by ``word``, in the same case."""
    m = rx.search(name)
    return name if m is None else name[: m.start()] + _same_case(m.group(1), word) + name[m.end() :]


def _same_case(old: str, new: str) -> str:
    return new.upper() if old.isupper() else new.capitalize() if old[:1].isupper() else new


def _read_values(path: Path) -> tuple[list[float], str | None, list[int], list[int], TextLines, list[int], str | None, bool]:
    """(values, header kind, line of each value, lines that are not numbers, the lines, the counter before each value,
    the counter's word, whether a counter printed its total: ``Iter 3/20``) of one list; no counters (an empty list,
    None) unless the first value has one, and then a line without one, or with another word, is not a number."""
    lines = TextLines(path, cap=ROW_LINE_CAP)
    counters: list[int] = []
    counted: str | None = None
    total = False
    values: list[float] = []
    linenos: list[int] = []
    bad: list[int] = []
    header: str | None = None
    seen = False
    json_list: bool | None = None
    row: bool | None = None  # the file is one row of numbers (_looks_like_row): a second row is not read
    lead: int | None = None  # the line of a lone integer first, decided by the line after it (a file of that integer
    lead_value = 0.0  # alone is no list: detection never claims it)
    for lineno, raw in lines:
        s = _unwrap(raw.strip().lstrip("\ufeff"))
        if not s or s.startswith("#"):
            continue
        if json_list is None:
            json_list = s.startswith("[")
            row = not json_list and _is_row(s)
            if not json_list and not row and _INTEGER.fullmatch(s) and lead is None:
                lead, lead_value, json_list = lineno, float(s), None  # a lone integer first: a count before a row, or the first of a column
                continue
            if lead is not None:
                if row:
                    bad.append(lead)  # the integer before a row: a count or a size, not a loss
                else:
                    values.append(float(lead_value))  # the first value of a column of integers and floats
                    linenos.append(lead)
                    seen = True
        elif row and _is_row(s):
            # a second row: the file is a matrix after all (detection saw one line): several runs' series
            raise LossdocError("error.numbers_rows", path=str(path), line=lineno)
        elif row:
            bad.append(lineno)
            continue
        if row:
            for tok in _row_tokens(s):
                values.append(to_float(tok))  # type: ignore[arg-type]
                linenos.append(lineno)
            continue
        if json_list:
            for tok in _JSON_SEP.split(s):
                if tok:
                    v = _json_token(tok)
                    if v is None:
                        bad.append(lineno)
                    else:
                        values.append(v)
                        linenos.append(lineno)
            continue
        if not seen:
            seen = True
            header = _header_kind(s)
            if header is not None:
                continue
        word, count, rest = _counter(s)
        if not values and not bad and word is not None and _is_number_line(rest):
            counted = word  # the first value has a counter: every one must
        if counted is not None:
            if word != counted or not _is_number_line(rest):
                bad.append(lineno)
                continue
            s = rest
            counters.append(count)
            if len(counters) == 1:  # (a log's counters print their total on every line or on none: the first says)
                m = _COUNTER.match(raw.strip().lstrip("\ufeff"))
                total = bool(m and m.group(3))
        v = to_float(s) if len(s.split()) == 1 else None
        if v is None:
            bad.append(lineno)
            continue
        values.append(v)
        linenos.append(lineno)
    return values, header, linenos, bad, lines, counters, counted, total


def run_starts(counters: list[int], values: list[float], per_epoch: bool = False, epochs: bool = False) -> list[int]:
    """Where each of the runs appended to one log starts (0 first): a counter back, after it rose, at the log's first
    counter or below (a script run again, appending to the same file), with the value there nearer its stretch's first
    value than the value before it (a fresh model's level, not the level the run had reached). A step, iteration or
    batch count that starts again every epoch is one run: ``per_epoch`` (its counters print their total, ``Iter 3/20``),
    or stretches of one length, two or more of them, before the last (not an epoch count: ``epochs``, which never
    starts again within a run). A run that ended in NaN or infinity and was started again is a new run whatever its
    level."""
    resets = []  # where the count comes back, after it rose, to its first value or below
    top = counters[0] if counters else 0
    for i in range(1, len(counters)):
        if counters[i] <= counters[0] < top:
            resets.append(i)
            top = counters[i]
        top = max(top, counters[i])
    lengths = {b - a for a, b in zip([0, *resets], resets)}
    if per_epoch or (not epochs and len(resets) >= 2 and len(lengths) == 1 and min(lengths) >= 2):
        return [0]
    starts = [0]
    for i in resets:
        if not math.isfinite(values[i - 1]) or abs(values[i] - values[starts[-1]]) <= abs(values[i] - values[i - 1]):
            starts.append(i)
    return starts


def _partner(path: Path, role: str) -> Path | None:
    for name in _partner_names(path.name, role):
        p = path.with_name(name)
        try:
            if not p.is_file() or p.stat().st_size > 2**30:
                continue
            with open(p, "rb") as fh:
                raw = fh.read(HEAD_BYTES)
        except OSError:
            continue
        if sniff_encoding(raw) is not None and _looks_like_list(decode_head(raw), complete=len(raw) < HEAD_BYTES):
            return p
    return None


def resolve(folder: Path) -> Path | None:
    """A folder holding one training-loss list (a name with 'train' or 'loss', not an evaluation name)."""
    try:
        entries = sorted(folder.iterdir())[: PARTNER_SCAN + 1]
    except OSError:
        return None
    if len(entries) > PARTNER_SCAN:
        return None
    found = []
    for f in entries:
        words = [w.lower() for w in _WORD_SPLIT.split(f.stem) if w]
        if not f.is_file() or f.name.startswith(".") or any(w in _VAL_WORDS for w in words):
            continue
        if not any(w in ("train", "training", "loss", "losses") for w in words):
            continue
        try:
            with open(f, "rb") as fh:
                raw = fh.read(HEAD_BYTES)
        except OSError:
            continue
        if sniff_encoding(raw) is not None and _looks_like_list(decode_head(raw), complete=len(raw) < HEAD_BYTES):
            found.append(f)
    return found[0] if len(found) == 1 else None


def read(path: Path, **_: Any) -> Run:
    values, header, linenos, bad, lines, counters, counted, total = _read_values(path)
    role = _role(path, header)
    run = Run(source=str(path), format="numbers")
    lines.warn_long(run)
    partner = _partner(path, role)
    p_values: list[float] = []
    p_counters: list[int] = []
    if partner is not None:
        p_values, p_header, _pl, p_bad, p_lines, p_counters, _pw, _pt = _read_values(partner)
        p_lines.warn_long(run)
        if p_bad:
            run.warnings.append(ReaderWarning("warn.numbers_partner_not_numbers", {"file": partner.name, "count": len(p_bad), "first": p_bad[0]}))
        if p_header is not None and p_header == role:
            p_values, partner = [], None  # its header names the same series as this file: not a partner
    if not values:
        if lines.empty:
            raise LossdocError("error.log_empty", path=str(path))
        raise LossdocError("error.numbers_no_values", path=str(path))
    if bad:
        run.warnings.append(ReaderWarning("warn.not_numbers", {"count": len(bad), "first": bad[0]}))
    train, val = (values, p_values) if role == "train" else (p_values, values)
    train_file = path.name if role == "train" else (partner.name if partner is not None and p_values else "")
    val_file = path.name if role == "val" else (partner.name if partner is not None and p_values else "")
    run.records_read = len(values) + len(p_values)
    run.records_skipped = len(bad)
    per_epoch = counted not in ("epoch", "ep") and total
    epochs = counted in ("epoch", "ep")
    starts = run_starts(counters, values, per_epoch, epochs) if counters and len(counters) == len(values) else [0]
    p_starts = run_starts(p_counters, p_values, per_epoch, epochs) if p_counters and len(p_counters) == len(p_values) else [0]
    if starts[-1] or p_starts[-1]:
        # several runs appended to one file: the last one is read (the others' values are not this run's); each file
        # by its own counters (a last run stopped before its last evaluation leaves the two of different lengths)
        run.warnings.append(ReaderWarning("warn.runs_appended", {"runs": max(len(starts), len(p_starts)), "line": linenos[starts[-1]]}))
        values, counters = values[starts[-1] :], counters[starts[-1] :]
        p_values, p_counters = p_values[p_starts[-1] :], p_counters[p_starts[-1] :]
        train, val = (values, p_values) if role == "train" else (p_values, values)
    # counters as steps where this file has one before every value, rising, and its partner (if any) has the same ones
    steps: list[int] | None = None
    if counters and len(counters) == len(values) and all(b > a for a, b in zip(counters, counters[1:], strict=False)):
        if not p_values or p_counters == counters:
            steps = counters
    bare_index = counted == BARE_COUNTER and steps is not None and len(steps) > 1 and steps[1] == 1  # (0, 1, 2, ...: an index)
    if steps is not None and (counted in ("epoch", "ep") or bare_index) and steps[0] == 0:
        # epochs counted from 0 (``for epoch in range(n)``): epoch 0's loss is after its training, not before any update
        steps = [s + 1 for s in steps]
        run.warnings.append(ReaderWarning("warn.epochs_from_zero", {}))
    series_from_lists(run, train, val, steps=steps, epochs=counted in ("epoch", "ep"))
    _nonfinite_events(run, train, train_file, "nonfinite_loss")
    _nonfinite_events(run, val, val_file, "nonfinite_val")
    files = ", ".join(f for f in (train_file, val_file) if f)
    if steps is not None:
        if counted == BARE_COUNTER:
            run.warnings.append(ReaderWarning("warn.numbers_counter_bare", {"files": files}))
        else:
            run.warnings.append(ReaderWarning("warn.numbers_counter", {"files": files, "word": counted}))
    else:
        run.warnings.append(ReaderWarning("warn.numbers_steps", {"files": files}))
    if train and val:
        key = "warn.numbers_paired" if len(train) == len(val) else "warn.numbers_spread"
        run.warnings.append(ReaderWarning(key, {"train_file": train_file, "val_file": val_file, "n_train": len(train), "n_val": len(val)}))
    return finish(run, path, "error.numbers_no_values")


def _nonfinite_events(run: Run, values: list[float], file: str, kind: str) -> None:
    """An event at the first value that is not finite: a list holds every value its loop computed, so a NaN in it
    is a loss that went NaN, not a placeholder where nothing was measured (as an empty cell of a table may be)."""
    bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
    if not bad:
        return
    i = bad[0]
    steps = run.epochs.step if kind == "nonfinite_val" or not len(run.batches) else run.batches.step  # where the list went
    step = float(steps[i]) if i < len(steps) else float(i + 1)
    run.events.append(
        Event(kind, step, f"{'NaN' if math.isnan(values[i]) else 'an infinite value'} at value {i + 1} of {file} ({len(bad)} of {len(values)})")
    )


def series_from_lists(run: Run, train: list[float], val: list[float], steps: list[int] | None = None, epochs: bool = False) -> None:
    """The Run's series from the two lists (see the module's docstring); also for one run's lists printed in one file
    (readers/values.py). ``steps``: the counter before each value (of the longer list, or of both when they are as
    long), else their places 1..N; ``epochs``: the counter counts epochs (an evaluation row's epoch is its counter)."""
    n, m = len(train), len(val)
    at = [float(x) for x in steps] if steps is not None and len(steps) == max(n, m) else [float(i) for i in range(1, max(n, m) + 1)]
    if n and m and n == m:
        rows = [(at[i] if epochs or steps is None else float(i + 1), at[i], t, v, NAN) for i, (t, v) in enumerate(zip(train, val))]
        run.epochs = epoch_series(rows)
        return
    if not n:
        run.epochs = epoch_series([(at[k] if epochs else float(k + 1), at[k], NAN, v, NAN) for k, v in enumerate(val)])
        return
    run.batches = batch_series({int(at[i]): (NAN, t, NAN, NAN, NAN) for i, t in enumerate(train)})
    if m:
        places = [int(math.floor(k * n / m + 0.5)) for k in range(1, m + 1)]  # (0: before the first training value)
        val_steps = [at[j - 1] if j >= 1 else 0.0 for j in places]
        run.epochs = epoch_series([(float(k), s, NAN, v, NAN) for k, (s, v) in enumerate(zip(val_steps, val), 1)])
