"""Reader for logs pasted into Markdown (a README, notes): code fences with prose around them, and pipe tables.

Blocks are found line by line:

    ```text                              -> a fenced block (``` or ~~~, up to 3 spaces of indent, any info
    ... log lines ...                       string); one left open runs to the end of the file
    ```
    | epoch | train loss | val loss |    -> a pipe table: a header row, a |---| row, then one row per line;
    |-------|------------|----------|       read as a CSV table (the csv reader's column names), and only when
    | 1     | 2.31       | 2.40     |       it has a step, iteration or epoch column (a table of final results
                                            per model is not a curve)

Each block is offered to the other readers' detectors, in their order (console, nanoGPT, the seed's console,
CSV, JSON Lines, ...). Of the blocks some reader claims, the one with the most lines is read, by that reader;
the others are named in a warning and not read (two logs in one README are usually two runs, and a shorter
excerpt of the same run would only repeat it). The run keeps the format of the reader that read the block,
and a warning names the block's lines. Line numbers in every warning are lines of the Markdown file.

A ``.md`` / ``.markdown`` file is claimed when one of its blocks is a log (its first MD_SCAN_BYTES are
looked at, not only the head); any other text file only when a fenced block in its head is a log (a console
log that prints a table is the console reader's).
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers._common import EPOCH_NAMES, STEP_NAMES, decode_head, norm_name, sniff_encoding
from lossdoc.runlog.run import ReaderWarning, Run

MD_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")
MD_SCAN_BYTES = 4 * 2**20  # of a .md file, looked at to detect a log in it
_FENCE = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")  # CommonMark: a backtick fence's info string has no backtick (else inline code)
_TABLE_ROW = re.compile(r"^ {0,3}\|")
_INDENTED = re.compile(r"^(?: {4}|\t)")  # an indented code block's line (Markdown files only)
_TABLE_SEP = re.compile(r"^ {0,3}\|?[ \t]{0,8}:?-{1,200}:?[ \t]{0,8}(?:\|[ \t]{0,8}:?-{1,200}:?[ \t]{0,8}){0,60}\|?[ \t]{0,8}$")
_POSITION_NAMES = set(STEP_NAMES) | set(EPOCH_NAMES) | {"ep", "iter", "iters", "it", "epoch_num", "step_num"}
PROSE_HEAD = 65536  # characters of a page's own text offered to the detectors (a pasted console follows its setup)
NOT_OFFERED = {"markdown", "tensorboard", "values"}  # the readers a block is not offered to (values reads a whole page itself, last)


@dataclass
class Block:
    kind: str  # fence | indented | table | text (the lines outside them)
    first: int  # line number (from 1) of the block's first content line in the file
    last: int  # ... of its last content line
    text: str  # what a reader reads: the fence's lines, or the table as CSV (one row a line, the |---| row blank)


def _lines(text: str) -> list[str]:
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and not lines[-1] else lines


def _cells(row: str) -> list[str]:
    s = row.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip().strip("*`_ ") for c in s.split("|")]


def _table_csv(rows: list[str]) -> str | None:
    """A pipe table (header row, separator row, body rows) as CSV text; None when it has no position column."""
    header = _cells(rows[0])
    if not any(norm_name(h) in _POSITION_NAMES for h in header):
        return None
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    out.write("\n")  # the separator row: a blank line, so that line numbers stay those of the file
    for r in rows[2:]:
        w.writerow(_cells(r))
    return out.getvalue()


def blocks(text: str, tables: bool = True) -> list[Block]:
    """The fenced blocks and (with ``tables``) the pipe tables of a Markdown text, in order."""
    lines = _lines(text)
    found: list[Block] = []
    i, n = 0, len(lines)
    while i < n:
        m = _FENCE.match(lines[i])
        if m:
            mark = m.group(1)
            j = i + 1
            while j < n and not (lines[j].strip().startswith(mark[0] * len(mark)) and not lines[j].strip().strip(mark[0])):
                j += 1
            body = lines[i + 1 : j]
            if any(x.strip() for x in body):
                found.append(Block("fence", i + 2, i + 1 + len(body), "\n".join(body) + "\n"))
            i = j + 1
            continue
        if tables and _INDENTED.match(lines[i]) and lines[i].strip() and (i == 0 or not lines[i - 1].strip()):
            # an indented code block (CommonMark: 4 spaces or a tab, after a blank line): lines indented so, or blank,
            # with the indent taken off (a log pasted into notes by a converter that writes no fences)
            j = i
            while j < n and (_INDENTED.match(lines[j]) or not lines[j].strip()):
                j += 1
            while j > i and not lines[j - 1].strip():
                j -= 1
            body = [_INDENTED.sub("", x, count=1) for x in lines[i:j]]
            found.append(Block("indented", i + 1, j, "\n".join(body) + "\n"))
            i = j
            continue
        if tables and _TABLE_ROW.match(lines[i]) and i + 1 < n and _TABLE_SEP.match(lines[i + 1]) and "-" in lines[i + 1]:
            j = i + 2
            while j < n and _TABLE_ROW.match(lines[j]):
                j += 1
            as_csv = _table_csv(lines[i:j])
            if as_csv is not None and j - i > 2:
                found.append(Block("table", i + 1, j, as_csv))
            i = j
            continue
        i += 1
    return found


def _reader_for(block: Block) -> Any:
    """The first reader (in READERS order, this one left out) whose detector claims the block, or None."""
    found = _readers_for(block)
    return found[0] if found else None


def _readers_for(block: Block) -> list[Any]:
    """Every reader (in READERS order, this one left out) whose detector claims the block."""
    from lossdoc.runlog.readers import READERS

    name = Path("table.csv" if block.kind == "table" else "block.txt")
    out = []
    for r in READERS:
        if r.name in NOT_OFFERED:
            continue
        try:
            if r.detect(name, block.text[: PROSE_HEAD if block.kind == "text" else 8192]):
                out.append(r)
        except (OSError, ValueError):
            continue
    return out


def prose(text: str, tables: bool = True) -> Block | None:
    """The lines outside every fence and table (a log pasted into the page's text itself), each on its own line
    number (the others blank), as one block; None when there are none."""
    lines = _lines(text)
    inside = [False] * len(lines)
    for b in blocks(text, tables):
        # a fence: its opening line (index first - 2) to its closing one (index last); a table: its rows only
        for k in range(b.first - 2 if b.kind == "fence" else b.first - 1, min(len(lines), b.last + 1 if b.kind == "fence" else b.last)):
            inside[k] = True
    kept = [("" if inside[k] or _FENCE.match(x) else x) for k, x in enumerate(lines)]
    nonblank = [k for k, x in enumerate(kept) if x.strip()]
    if not nonblank:
        return None
    first, last = nonblank[0], nonblank[-1]
    return Block("text", first + 1, last + 1, "\n".join(kept[first : last + 1]) + "\n")


def _claimed(text: str, tables: bool) -> list[tuple[Block, Any]]:
    out = []
    for b in blocks(text, tables):
        r = _reader_for(b)
        if r is not None:
            out.append((b, r))
    if not out and tables:
        # no block is a log: a console pasted into the page's own text (a .md file only)
        b2 = prose(text, tables)
        r = _reader_for(b2) if b2 is not None else None
        if b2 is not None and r is not None:
            out.append((b2, r))
    return out


def _is_md(path: Path) -> bool:
    return path.suffix.lower() in MD_SUFFIXES


def detect(path: Path, head: str) -> bool:
    if _is_md(path):
        try:
            with open(path, "rb") as fh:
                raw = fh.read(MD_SCAN_BYTES)
        except OSError:
            return False
        return bool(_claimed(decode_head(raw), tables=True))
    if "```" not in head and "~~~" not in head:
        return False
    return bool(_claimed(head, tables=False))


def resolve(folder: Path) -> Path | None:
    return None


def read(path: Path, **options: Any) -> Run:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    enc = sniff_encoding(raw[:65536])
    if enc is None:
        raise LossdocError("error.log_binary", path=str(path))
    text = raw.decode(enc, errors="replace")
    del raw
    claimed = _claimed(text, tables=_is_md(path))
    if not claimed:
        raise LossdocError("error.markdown_no_log", path=str(path))
    # the longest block first; one its reader cannot read after all (a JSON config a JSON reader claimed) gives way to
    # the next, and when none reads, the longest one's error is the answer
    first_error: LossdocError | None = None
    for block, reader in _claimants(sorted(claimed, key=lambda br: (-(br[0].last - br[0].first), br[0].first))):
        try:
            run = _read_block(path, block, reader, options)
            break
        except LossdocError as exc:
            first_error = first_error or exc
    else:
        # no claimed block could be read: a console pasted into the page's own text may still be (a .md file only)
        text_block = prose(text) if _is_md(path) and all(b.kind != "text" for b, _ in claimed) else None
        text_reader = _reader_for(text_block) if text_block is not None else None
        if text_block is None or text_reader is None:
            assert first_error is not None
            raise first_error
        block, reader = text_block, text_reader
        try:
            run = _read_block(path, block, reader, options)
        except LossdocError:
            assert first_error is not None
            raise first_error from None
    run.source = str(path)
    key = "warn.markdown_table" if block.kind == "table" else "warn.markdown_text" if block.kind == "text" else "warn.markdown_fence"
    run.warnings.insert(0, ReaderWarning(key, {"file": path.name, "first": block.first, "last": block.last, "fmt": reader.name}))
    if len(claimed) > 1:
        run.warnings.insert(1, ReaderWarning("warn.markdown_other_blocks", {"file": path.name, "count": len(claimed) - 1}))
    return run


def _claimants(claimed: list[tuple[Block, Any]]) -> list[tuple[Block, Any]]:
    """Each block with its first claimant, then the other readers that claim it too (a page's text that the CSV
    reader claims by its first line and cannot read, where the console reader reads its loss lines)."""
    out: list[tuple[Block, Any]] = []
    for block, reader in claimed:
        out.append((block, reader))
        out += [(block, r) for r in _readers_for(block) if r is not reader]
    return out


def _read_block(path: Path, block: Block, reader: Any, options: dict[str, Any]) -> Run:
    with tempfile.TemporaryDirectory(prefix="lossdoc-md-") as tmp:
        inner = Path(tmp) / ("table.csv" if block.kind == "table" else "block.txt")
        inner.write_text("\n" * (block.first - 1) + block.text, encoding="utf-8")  # line numbers stay the file's
        try:
            return reader.read(inner, **options)
        except LossdocError as exc:
            if "path" not in exc.args_:
                raise
            raise LossdocError(exc.key, **{**exc.args_, "path": f"{path} (lines {block.first}-{block.last})"}) from None
