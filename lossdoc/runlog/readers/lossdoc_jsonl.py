"""Reader for lossdoc's own run log, run.jsonl (schema lossdoc.run/1; older runs named it metrics.jsonl).

Tolerant by design: runs get killed. A torn or corrupt last line is dropped
with a warning; corrupt lines elsewhere are skipped and counted; after a
resume the log can hold the same step twice, and the latest record wins.
"""

from __future__ import annotations

import json
import math
from array import array
from collections import Counter
from itertools import chain, compress
from operator import attrgetter
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog import SCHEMA
from lossdoc.runlog.corrections import apply_loss_scale
from lossdoc.runlog.readers._common import MAX_VOCAB, as_float
from lossdoc.runlog.run import BatchSeries, EpochSeries, Event, ReaderWarning, Run

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_NAN = math.nan


def detect(path: Path, head: str) -> bool:
    first = head.lstrip().split("\n", 1)[0]
    return '"type"' in first and SCHEMA in first


def resolve(folder: Path) -> Path | None:
    from lossdoc.runlog.files import existing_log

    return existing_log(folder)  # run.jsonl, else an older run's metrics.jsonl


def num(value: Any) -> float:
    """A logged number: floats and ints as they are, the non-finite strings decoded, anything else NaN."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return as_float(value)
    if isinstance(value, str):
        return _SPECIAL.get(value, _NAN)
    return _NAN


CHUNK = 2 * 2**20  # bytes read at a time: memory stays a chunk plus the records, whatever the file's size
LINE_CAP = 64 * 2**20  # a longer line is corrupt (skipped and counted) without being held in memory
_ANY_KEY = (b'"type"', b"\\u")  # a line without either cannot be a record of a known type (its "type" is absent)


def _chunks(path: Path):
    """Yield (number of the first line, complete lines) from ``path``, a chunk at a time; the last item is the
    final line without a newline (a torn record candidate) as (its number, [line]) with ``final`` True."""
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(path), detail=exc.strerror or str(exc)) from None
    with fh:
        lineno = 1
        rest = b""
        skipping = False  # inside a line longer than LINE_CAP
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            if b"\x00" in chunk:
                raise LossdocError("error.log_binary", path=str(path))
            if skipping:
                cut = chunk.find(b"\n")
                if cut < 0:
                    continue
                chunk = chunk[cut + 1 :]
                skipping = False
                yield lineno, [b"\x00too long"], False  # counted as one corrupt line
                lineno += 1
            parts = (rest + chunk).split(b"\n")
            rest = parts.pop()
            if len(rest) > LINE_CAP:
                rest = b""
                skipping = True
            if parts:
                yield lineno, parts, False
                lineno += len(parts)
        if skipping:
            yield lineno, [b"\x00too long"], True
        elif rest:
            yield lineno, [rest], True


MAX_BATCH_ROWS = 1_000_000  # batch records held at once; a longer log keeps 1 in k of them (docs/performance.md)
MAX_PINNED = 100_000  # batch records with a non-finite loss kept besides the sample (beyond: sampled like the rest)
MAX_REWINDS = 100_000  # places where the steps go back (a resumed run) remembered for a sampled read
HOT = ("step", "epoch", "loss", "lr", "grad_norm", "tokens")  # the batch fields a Run keeps, in BatchSeries order


class _BatchLine(msgspec.Struct, gc=False):
    """What the fast path takes from a line: its type and the HOT fields, each as json.loads reads it (None when
    absent or null). The line's other keys are parsed (it must be valid JSON) and dropped without objects."""

    type: Any = None
    step: Any = None
    epoch: Any = None
    loss: Any = None
    lr: Any = None
    grad_norm: Any = None
    tokens: Any = None


_NO_LOSS = -math.inf  # no JSON number decodes to -inf (msgspec refuses 1e999): it marks a batch line without a loss


class _PlainBatchLine(msgspec.Struct, gc=False):
    """The common case, tried first: every HOT field present is a plain JSON number (msgspec refuses null, strings,
    bools and integers beyond 64 bits for a float field), so the columns need no check of their own."""

    type: Any = None
    step: float = math.nan
    epoch: float = math.nan
    loss: float = _NO_LOSS
    lr: float = math.nan
    grad_norm: float = math.nan
    tokens: float = math.nan


_decode = msgspec.json.Decoder(_BatchLine).decode
_decode_plain = msgspec.json.Decoder(_PlainBatchLine).decode
_get_type = attrgetter("type")
_get_hot = attrgetter(*HOT)


STATUSES = ("completed", "interrupted", "failed", "stopped")  # an end record's status (run.schema.json)


def interpret(rec: dict[str, Any]) -> tuple[str, Any]:
    """What one record after the header says, for the reader and for ``watch``'s follower alike:
    ("batch", (step, (epoch, loss, lr, grad_norm, tokens))), ("epoch", (epoch, (step, train, val, val_tokens))),
    ("event", Event), ("end", status or None), ("missing", None) for a batch or epoch without its step or epoch,
    ("unknown", None) for any other type. A non-finite validation loss is also an event: nonfinite_val_event."""
    kind = rec.get("type")
    if kind == "batch":
        step = num(rec.get("step"))
        if not math.isfinite(step) or rec.get("loss") is None:  # a null loss is a missing one, not a NaN
            return "missing", None
        return "batch", (
            int(step),
            (num(rec.get("epoch")), num(rec.get("loss")), num(rec.get("lr")), num(rec.get("grad_norm")), num(rec.get("tokens"))),
        )
    if kind == "epoch":
        ep = num(rec.get("epoch"))
        if not math.isfinite(ep):
            return "missing", None
        return "epoch", (int(ep), (num(rec.get("step")), num(rec.get("train_loss")), num(rec.get("val_loss")), num(rec.get("val_tokens"))))
    if kind == "event":
        return "event", Event(str(rec.get("kind", "unknown")), num(rec.get("step")), str(rec.get("message", "")))
    if kind == "end":
        status = rec.get("status")
        return "end", status if status in STATUSES else None
    return "unknown", None


def trainer_epoch(rec: dict[str, Any]) -> float | None:
    """An epoch record's ``trainer_epoch`` (the framework's own epoch of the evaluation: Lightning's 0-based
    current_epoch, the Trainer's fractional state.epoch), when it is a finite number >= 0; else None."""
    value = num(rec.get("trainer_epoch"))
    return value if math.isfinite(value) and value >= 0 else None


# header "writer" -> whose epochs an epoch record's trainer_epoch counts (Run.trainer)
TRAINERS = {"lossdoc.integrations.lightning": "lightning", "lossdoc.integrations.hf": "transformers"}


def nonfinite_val_event(rec: dict[str, Any]) -> Event | None:
    """An epoch record whose validation loss is logged as NaN/Infinity (not absent): a finding, not a gap."""
    raw_val = rec.get("val_loss")
    if (isinstance(raw_val, str) and raw_val in _SPECIAL) or (isinstance(raw_val, float) and not math.isfinite(raw_val)):
        return Event("nonfinite_val", num(rec.get("step")), f"validation loss {raw_val} at epoch {int(num(rec.get('epoch')))}")
    return None


def read(path: Path, *, fast: bool = True, max_batches: int | None = None, **_: Any) -> Run:
    """Read a run log.

    The fast path decodes a chunk's lines with msgspec, first into ``_PlainBatchLine`` (float fields: when every
    line decodes, the six batch fields of all lines become columns in one C loop), else into ``_BatchLine`` (any
    values, taken column by column by ``_batch_columns``); only the type and those fields become Python objects.
    A chunk with a line msgspec refuses goes through the plain path (``json.loads`` and ``num`` per line), and so
    do the lines that are not batch records, so both paths give the same Run (tests/runlog/test_fast_reader.py).
    ``fast=False``: the plain path only. ``max_batches``: at most this many batch rows are held (None: MAX_BATCH_ROWS); a longer log is
    read whole but keeps a systematic 1 in k of its batch records (``_BatchColumns``), with a warning that says so."""
    reader = _Reader(path, fast, MAX_BATCH_ROWS if max_batches is None else max_batches)
    for first, parts, final in _chunks(path):
        reader.chunk(first, parts, final)
    return reader.finish()


_SKIP = object()  # _Reader.parse: a line that holds no record


class _Reader:
    """One read of a log: what the fast and the plain path share, and one method for each step."""

    def __init__(self, path: Path, fast: bool, max_batches: int = MAX_BATCH_ROWS) -> None:
        self.path, self.fast = path, fast
        self.run = Run(source=str(path), format="lossdoc")
        self.header: dict[str, Any] | None = None
        self.batches = _BatchColumns(max_batches)
        self.epochs: dict[int, tuple] = {}
        self.trainer_epochs: dict[int, float] = {}  # evaluation number -> the record's trainer_epoch, when it has one
        self.bad_lines: list[int] = []  # the first few line numbers (the count is n_bad)
        self.n_bad = 0
        self.missing = 0
        self.junk_kinds: dict[bytes, int] = {}  # lines without a "type" key: 0 empty, 1 a JSON object (skipped), 2 corrupt

    def bad(self, lineno: int) -> None:
        self.n_bad += 1
        self.bad_lines.append(lineno)

    def chunk(self, first: int, parts: list[bytes], final: bool) -> None:
        """The lines of one chunk, numbered from ``first``; ``final``: the file's last chunk."""
        if self.header is None or final:
            # until the header, line by line (anything before it decides whether this is a lossdoc log)
            items = [(first + i, ln) for i, ln in enumerate(parts)]
        else:
            # a chunk of batch records goes to the fast path whole; one where most lines are something else (a flood
            # of {} lines) is sorted by bulk() first, which counts lines without a "type" once per distinct line
            if self.fast and parts and self.fast_chunk(first, parts):
                return
            items = self.bulk(first, parts)
            if self.fast and items and self.fast_chunk(items[0][0], [ln for _, ln in items], [n for n, _ in items]):
                return
        slow: list[tuple[float, ...]] = []  # batch rows of the plain path: (line number, step, epoch, loss, lr, grad_norm, tokens)
        for lineno, raw in items:  # (items is cut short or extended below, once the header is found)
            if self.header is not None:
                self.plain_line(lineno, raw, slow, final)
                continue
            rec = self.parse(lineno, raw, final)
            if rec is _SKIP:
                continue
            if not isinstance(rec, dict):
                self.bad(lineno)
                continue
            if rec.get("type") != "run" or rec.get("schema") != SCHEMA:
                raise LossdocError("error.log_not_lossdoc", path=str(self.path))
            self.header = rec
            self.run.records_read += 1
            cut = lineno - first + 1
            if not final and cut < len(parts):  # the rest of this chunk as any other chunk
                rest = parts[cut:]
                if self.fast and self.fast_chunk(lineno + 1, rest):
                    del items[cut:]
                else:
                    items[:] = items[:cut] + self.bulk(lineno + 1, rest)
        self.batches.add(None, slow)

    def junk_kind(self, line: bytes) -> int:
        k = self.junk_kinds.get(line)
        if k is None:
            if not line.strip():
                k = 0
            else:
                try:
                    k = 1 if isinstance(json.loads(line.decode("utf-8", errors="replace")), dict) else 2
                except (ValueError, RecursionError):
                    k = 2
            if len(line) <= 256:
                if len(self.junk_kinds) > 10_000:
                    self.junk_kinds.clear()
                self.junk_kinds[line] = k
        return k

    def bulk(self, first: int, parts: list[bytes]) -> list[tuple[int, bytes]]:
        """The lines that may hold a record; the others (no "type" key) are only counted, once per distinct line
        (a log of millions of "{}" lines costs a count each, not a parse each)."""
        joined = b"\n".join(parts)
        if _ANY_KEY[0] in joined or _ANY_KEY[1] in joined:
            keep = [i for i, ln in enumerate(parts) if _ANY_KEY[0] in ln or _ANY_KEY[1] in ln]
        else:
            keep = []
        if len(keep) == len(parts):
            return [(first + i, ln) for i, ln in enumerate(parts)]
        counts = Counter(parts)
        for i in keep:
            counts[parts[i]] -= 1
        for ln, cnt in counts.items():
            if cnt <= 0:
                continue
            k = self.junk_kind(ln)
            if k == 1:
                self.run.records_skipped += cnt
            elif k == 2:
                self.n_bad += cnt
                self.bad_lines.append(first + parts.index(ln))
                self.bad_lines[:] = [min(self.bad_lines)]  # the first is what the warning names: keep the list short
        return [(first + i, parts[i]) for i in keep]

    def record(self, lineno: int, rec: Any, slow: list[tuple[float, ...]]) -> None:
        """One parsed line after the header (the plain path's rules; batch rows go to ``slow``)."""
        if not isinstance(rec, dict):
            self.bad(lineno)
            return
        run = self.run
        run.records_read += 1
        what, value = interpret(rec)
        if what == "batch":
            step, row = value
            slow.append((lineno, float(step), *row))
        elif what == "epoch":
            ep, row = value
            self.epochs[ep] = row
            if (te := trainer_epoch(rec)) is not None:
                self.trainer_epochs[ep] = te
            else:  # the latest record of an evaluation wins, as for its other fields
                self.trainer_epochs.pop(ep, None)
            if (ev := nonfinite_val_event(rec)) is not None:
                run.events.append(ev)
        elif what == "event":
            run.events.append(value)
        elif what == "end":
            run.status = value
        elif what == "missing":
            self.missing += 1
        else:
            run.records_read -= 1
            run.records_skipped += 1

    def parse(self, lineno: int, raw: bytes, final: bool) -> Any:
        """json.loads of one line, or _SKIP for a blank or unreadable one (a torn last line is a warning, any other
        a corrupt line)."""
        line = raw.decode("utf-8", errors="replace")
        if not line.strip():
            return _SKIP
        try:
            return json.loads(line)
        except (ValueError, RecursionError):
            if final:
                self.run.warnings.append(ReaderWarning("warn.torn_last_line", {"line": lineno}))
            else:
                self.bad(lineno)
            return _SKIP

    def plain_line(self, lineno: int, raw: bytes, slow: list[tuple[float, ...]], final: bool) -> None:
        """One line after the header on the plain path: json.loads, then ``record``."""
        rec = self.parse(lineno, raw, final)
        if rec is not _SKIP:
            self.record(lineno, rec, slow)

    def fast_chunk(self, first: int, parts: list[bytes], numbers: list[int] | None = None) -> bool:
        """Read ``parts`` (lines after the header, numbered from ``first`` or by ``numbers``) on the fast path;
        False (nothing done) when msgspec refuses a line, or when most lines of a whole chunk (``numbers`` None)
        are not batch records: then bulk() and the plain path read them."""
        plain_numbers = True
        recs: list[Any]  # _PlainBatchLine (floats only), else _BatchLine
        try:
            recs = list(map(_decode_plain, parts))
        except (msgspec.DecodeError, RecursionError):
            plain_numbers = False
            try:
                recs = list(map(_decode, parts))
            except (msgspec.DecodeError, RecursionError):  # not JSON, not an object, a number beyond the float range ...
                return False
        kinds = list(map(_get_type, recs))
        n = len(parts)
        n_batch = kinds.count("batch")
        if numbers is None and 2 * n_batch < n:
            return False
        slow: list[tuple[float, ...]] = []
        lines = np.arange(first, first + n, dtype=np.float64) if numbers is None else np.array(numbers, dtype=np.float64)
        if n_batch == n:
            batch = recs
        else:  # epochs, events, the end record: few, each read whole by the plain path
            is_batch = [k == "batch" for k in kinds]
            batch = list(compress(recs, is_batch))
            lines = lines[np.array(is_batch, dtype=bool)]
            for lineno, raw, b in zip(range(first, first + n) if numbers is None else numbers, parts, is_batch):
                if not b:
                    self.plain_line(lineno, raw, slow, False)
        if plain_numbers:  # floats all: one C loop over the six fields of every line
            cols = np.fromiter(chain.from_iterable(map(_get_hot, batch)), dtype=np.float64, count=len(HOT) * len(batch))
            cols = cols.reshape(-1, len(HOT)).T.copy()
            keep = cols[2] != _NO_LOSS
            cols[2][~keep] = math.nan
        else:
            joined = b"\n".join(parts)
            cols, keep = _batch_columns(batch, b"true" in joined or b"false" in joined)
        self.run.records_read += len(batch)
        ok = np.isfinite(cols[0])
        if keep is not None:
            ok &= keep
        if not ok.all():
            self.missing += int(np.count_nonzero(~ok))
            cols, lines = cols[:, ok], lines[ok]
        cols[0] = np.trunc(cols[0]) + 0.0  # int(step), as the plain path keys it
        self.batches.add((lines, cols), slow)
        return True

    def finish(self) -> Run:
        """The Run, once every chunk is read: warnings, the header's facts, the columns."""
        run, header, epochs = self.run, self.header, self.epochs
        if header is None:
            raise LossdocError("error.log_empty", path=str(self.path))
        if self.n_bad:
            run.records_skipped += self.n_bad
            run.warnings.append(ReaderWarning("warn.corrupt_lines", {"count": self.n_bad, "first": min(self.bad_lines)}))
        if self.missing:
            run.records_skipped += self.missing
            run.warnings.append(ReaderWarning("warn.missing_fields", {"count": self.missing}))
        _apply_header(run, header)
        run.batches = self.batches.series()
        if (sample := self.batches.sampled()) is not None:
            run.warnings.append(ReaderWarning("warn.batches_sampled", {"kept": len(run.batches), **sample}))
        if epochs:
            eps = np.array(sorted(epochs), dtype=np.float64)
            cols = np.array([epochs[int(e)] for e in eps], dtype=np.float64).reshape(-1, 4)
            run.epochs = EpochSeries(eps, cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3])
            run.trainer_epochs = dict(sorted(self.trainer_epochs.items()))
        if not len(run.batches) and not epochs:
            raise LossdocError("error.log_empty", path=str(self.path))
        return apply_loss_scale(run, header)


def _batch_columns(batch: list[_BatchLine], has_bool: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """The HOT fields of ``batch`` as a (6, n) float64 array with ``num``'s values, and which rows have a loss
    (None: all do; the plain path counts a batch record without one as missing).

    A column of plain JSON numbers is one C loop (``array('d', ...)`` refuses None, strings and integers beyond
    the float range); a column with anything else (absent, null, "NaN", a bool) is read value by value with ``num``."""
    n = len(batch)
    out = np.empty((len(HOT), n))
    keep = None
    for i, key in enumerate(HOT):
        get = attrgetter(key)
        if not has_bool:  # array('d') would read true as 1.0: a chunk with a bool anywhere goes value by value
            try:
                out[i] = np.frombuffer(array("d", map(get, batch)))
                continue
            except (TypeError, OverflowError):
                pass
        values = list(map(get, batch))
        out[i] = [num(v) for v in values]
        if key == "loss":
            keep = np.fromiter((v is not None for v in values), dtype=bool, count=n)
    return out, keep


class _BatchColumns:
    """Batch rows in log order as float64 column blocks, one block per chunk (no Python object per row kept).

    ``series()`` keeps, for every step (as ``int(step)``), the row logged last, sorted by step: what a dict keyed
    by step gives, for a log resumed over steps it had already logged.

    At most ``cap`` rows are held: once more have come, only the rows whose ordinal (their place among the batch
    rows, in log order, from 0) is a multiple of k are kept, k = 2, 4, 8, ... doubled each time the kept rows pass
    ``cap`` again, so memory stays bounded whatever the log's length and the sample is the same systematic 1 in k
    that a second read would take. Kept besides the sample: the last row, and rows whose loss is not finite (the
    first MAX_PINNED of them). The first row has ordinal 0 and is always kept. A sampled read cannot replace an
    older row step by step after a resume (the newer row for that step may not be in the sample), so there the rows
    logged before a rewind of the steps to s are dropped from s on: the resumed run's rows stand for those steps."""

    def __init__(self, cap: int = MAX_BATCH_ROWS) -> None:
        self.cap = max(2, cap)
        self.blocks: list[tuple[np.ndarray, np.ndarray]] = []  # (7, rows): ordinal, step, epoch, loss, lr, grad_norm, tokens; pinned
        self.k = 1  # 1 in k rows kept
        self.seen = 0  # batch rows read
        self.held = 0  # rows in self.blocks
        self.pinned = 0
        self.last: np.ndarray | None = None  # the last row read (7 values, with its ordinal)
        self.max_step = -math.inf
        self.rewinds: list[tuple[float, float]] = []  # (ordinal, step) where the steps went back

    def add(self, fast: tuple[np.ndarray, np.ndarray] | None, slow: list[tuple[float, ...]]) -> None:
        """``fast``: (line numbers, (6, n) columns); ``slow``: rows (line number, step, epoch, loss, lr, grad_norm, tokens)."""
        parts = []
        if fast is not None and fast[0].size:
            parts.append(np.vstack([fast[0][None, :], fast[1]]))
        if slow:
            parts.append(np.array(slow, dtype=np.float64).reshape(-1, 7).T)
        if not parts:
            return
        block = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
        if len(parts) > 1:
            block = block[:, np.argsort(block[0], kind="stable")]  # log order within the chunk
        m = block.shape[1]
        block[0] = np.arange(self.seen, self.seen + m, dtype=np.float64)  # line numbers -> ordinals
        self.seen += m
        self.last = block[:, -1].copy()
        self._note_rewinds(block[0], block[1])
        pinned = ~np.isfinite(block[3])
        if pinned.any():
            room = MAX_PINNED - self.pinned
            if room <= 0:
                pinned[:] = False
            elif int(pinned.sum()) > room:
                pinned[np.flatnonzero(pinned)[room:]] = False
            self.pinned += int(pinned.sum())
        if self.k > 1:
            keep = (block[0] % self.k == 0) | pinned
            block, pinned = block[:, keep], pinned[keep]
        self.blocks.append((np.ascontiguousarray(block), pinned))
        self.held += block.shape[1]
        while self.held > self.cap:
            self._thin()

    def _note_rewinds(self, ords: np.ndarray, steps: np.ndarray) -> None:
        """Remember where the steps go back to (or repeat) a step already read: the first row of each such stretch."""
        before = np.maximum.accumulate(np.r_[self.max_step, steps])
        self.max_step = float(before[-1])
        back = steps <= before[:-1]
        if back.any() and len(self.rewinds) < MAX_REWINDS:
            starts = np.flatnonzero(back & ~np.r_[False, back[:-1]])[: MAX_REWINDS - len(self.rewinds)]
            self.rewinds.extend(zip(ords[starts].tolist(), steps[starts].tolist()))

    def _thin(self) -> None:
        """Double k and drop the rows that are no longer in the sample."""
        self.k *= 2
        blocks, self.held = [], 0
        for block, pinned in self.blocks:
            keep = (block[0] % self.k == 0) | pinned
            if not keep.all():
                block, pinned = np.ascontiguousarray(block[:, keep]), pinned[keep]
            if block.shape[1]:
                blocks.append((block, pinned))
                self.held += block.shape[1]
        self.blocks = blocks

    def sampled(self) -> dict[str, Any] | None:
        """What a sampled read kept (for ``warn.batches_sampled``), or None when every row was kept."""
        if self.k == 1:
            return None
        return {"total": self.seen, "k": self.k, "factor": f"{math.sqrt(self.k):.1f}"}

    def series(self) -> BatchSeries:
        if not self.blocks:
            return BatchSeries.empty()
        cols = np.concatenate([b for b, _ in self.blocks], axis=1) if len(self.blocks) > 1 else self.blocks[0][0]
        self.blocks = []
        if self.k > 1 and self.last is not None and cols[0, -1] != self.last[0]:
            cols = np.concatenate([cols, self.last[:, None]], axis=1)
        if self.k > 1 and self.rewinds:
            cols = cols[:, ~_superseded(cols[0], cols[1], self.rewinds)]
        cols = cols[1:]
        step = cols[0]
        if step.size > 1 and not np.all(step[1:] > step[:-1]):
            order = np.argsort(step, kind="stable")
            cols = cols[:, order]
            step = cols[0]
            last = np.r_[step[1:] != step[:-1], True]  # the row logged last for each step wins
            cols = cols[:, last]
        return BatchSeries(*(np.ascontiguousarray(c) for c in cols))


def _superseded(ords: np.ndarray, steps: np.ndarray, rewinds: list[tuple[float, float]]) -> np.ndarray:
    """Rows logged before a rewind of the steps to s, at a step >= s: a resumed run logged those steps again."""
    r = np.array(rewinds, dtype=np.float64).reshape(-1, 2)
    r = r[np.argsort(r[:, 0], kind="stable")]
    after_min = np.minimum.accumulate(r[::-1, 1])[::-1]  # the lowest step rewound to at or after each rewind
    i = np.searchsorted(r[:, 0], ords, side="right")  # the first rewind logged after each row
    low = np.append(after_min, np.inf)[i]
    return steps >= low


def _apply_header(run: Run, header: dict[str, Any]) -> None:
    run.schema = header.get("schema")
    vs = header.get("vocab_size")
    run.vocab_size = vs if isinstance(vs, int) and not isinstance(vs, bool) and 2 <= vs <= MAX_VOCAB else None
    data: dict[str, Any] = header["data"] if isinstance(header.get("data"), dict) else {}
    model: dict[str, Any] = header["model"] if isinstance(header.get("model"), dict) else {}
    floor = num(data.get("entropy_floor"))
    if math.isfinite(floor) and floor > 0:
        run.entropy_floor = floor
        run.floor_source = str(data.get("kind", "header"))
    run.random_data = data.get("kind") == "dummy"
    run.data_kind = data["kind"] if isinstance(data.get("kind"), str) else None
    sample = num(data.get("val_floor_sample"))
    if run.entropy_floor is not None and math.isfinite(sample) and sample > 0:
        run.val_floor_sample = sample
    for attr, value in (("unigram_entropy", data.get("unigram_entropy")), ("unigram_xent", data.get("unigram_xent"))):
        v = num(value)
        if math.isfinite(v) and v > 0:
            setattr(run, attr, v)
    s = num(model.get("init_logit_std"))
    run.init_logit_std = s if math.isfinite(s) and s >= 0 else None
    d = num(model.get("dropout"))
    run.dropout = d if math.isfinite(d) else None
    bt = num(header.get("batch_tokens"))
    run.batch_tokens = bt if math.isfinite(bt) and bt > 0 else None
    run.model = model
    run.config = header["config"] if isinstance(header.get("config"), dict) else {}
    # processes: lossdoc train's "distributed" object, or the callbacks' config.world_size; shown with the reading notes
    dist_obj = header.get("distributed")
    dist: dict[str, Any] = dist_obj if isinstance(dist_obj, dict) else {}
    world = dist.get("world_size", run.config.get("world_size"))
    if isinstance(world, int) and not isinstance(world, bool) and world > 1:
        run.config["world_size"] = world
        note = ReaderWarning("warn.scale_facts", {"facts": f"world_size={world}"})
        if note not in run.warnings:  # a resumed log repeats its header
            run.warnings.append(note)
    if run.random_data:
        low = data.get("token_low")
        run.random_low = low if isinstance(low, int) and not isinstance(low, bool) and low >= 0 else None
    # lossdoc train always starts from a fresh initialisation; RunLogger and the HF callback say so in the header
    pre = header.get("pretrained")
    run.pretrained = pre if isinstance(pre, bool) else False
    run.trainer = TRAINERS.get(str(header.get("writer")))
    run.mark_sources("log", "where.header")
