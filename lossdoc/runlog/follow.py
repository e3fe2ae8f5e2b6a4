"""Following a log that is still being written (``lossdoc watch``): no rich, no torch.

``Follower(path).poll()`` returns a fresh Run when the log has changed since the last poll, else None.

* lossdoc's own run.jsonl is tailed: each poll reads only the bytes added since the last one (a torn last line is
  kept for the next poll), keeps the records in growing columns and builds the Run from them, as the reader
  would (latest record of a step wins, header facts, loss_scale correction, sanitize).
* Every other format explain reads (trainer_state.json, metrics.csv, TensorBoard events, console logs, ...) cannot
  be tailed safely (a JSON document is rewritten whole, CSV columns can change): the file is read again with
  ``read_run`` when its size or modification time changed, at most once per ``min_interval`` seconds and never
  more often than twice the time the last read took.

``Follower.done`` is True once the log has ended: an end record (lossdoc), a ``status`` from the reader, or no new
record for ``idle_s`` seconds (``Follower.idle``: a writer killed by SIGKILL or out of memory leaves no end record), in
every format, lossdoc's own included.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog import SCHEMA
from lossdoc.runlog.corrections import apply_loss_scale
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.lossdoc_jsonl import _apply_header, interpret, nonfinite_val_event, trainer_epoch
from lossdoc.runlog.run import BatchSeries, EpochSeries, Event, ReaderWarning, Run
from lossdoc.runlog.sanitize import sanitize

# Not there yet (wait for it): the log or its folder does not exist, is empty, or has no record yet.
NOT_YET = ("error.log_missing", "error.log_empty", "error.folder_no_log", "error.log_no_metrics")
MAX_READ = 64 * 2**20  # bytes read per poll at most: a huge backlog is caught up over several polls


class _Columns:
    """Growing float columns, one row per key (a step, an epoch); a repeated key overwrites its row."""

    def __init__(self, width: int) -> None:
        self.index: dict[int, int] = {}
        self.data = np.empty((1024, width), dtype=np.float64)
        self.keys = np.empty(1024, dtype=np.float64)
        self.n = 0
        self.ordered = True

    def put(self, key: int, row: tuple) -> None:
        i = self.index.get(key)
        if i is None:
            if self.n == len(self.keys):
                self.data = np.concatenate([self.data, np.empty_like(self.data)])
                self.keys = np.concatenate([self.keys, np.empty_like(self.keys)])
            i = self.index[key] = self.n
            if self.n and key < self.keys[self.n - 1]:
                self.ordered = False
            self.keys[i] = key
            self.n += 1
        self.data[i] = row

    def sorted(self) -> tuple[np.ndarray, np.ndarray]:
        keys, data = self.keys[: self.n].copy(), self.data[: self.n].copy()
        if not self.ordered:
            order = np.argsort(keys, kind="stable")
            keys, data = keys[order], data[order]
        return keys, data


class JsonlTail:
    """lossdoc's run.jsonl, read a new chunk at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.reset()

    def reset(self) -> None:
        self.offset = 0
        self.rest = b""
        self.header: dict[str, Any] | None = None
        self.batches = _Columns(5)
        self.epochs = _Columns(4)
        self.trainer_epochs: dict[int, float] = {}  # evaluation number -> its trainer_epoch (lossdoc_jsonl.trainer_epoch)
        self.events: list[Event] = []
        self.status: str | None = None
        self.ended = False
        self.records = 0
        self.bad = 0
        self.missing = 0

    def read_new(self) -> bool:
        """Read what was appended since the last call; True when a complete record arrived."""
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            raise LossdocError("error.log_missing", path=str(self.path)) from None
        if size < self.offset:  # truncated or replaced: start again
            self.reset()
        if size == self.offset:
            return False
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read(min(size - self.offset, MAX_READ))
        self.offset += len(chunk)
        lines = (self.rest + chunk).split(b"\n")
        self.rest = lines.pop()
        before = self.records
        for raw in lines:
            self._line(raw)
        return self.records > before

    def _line(self, raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            rec = json.loads(raw)
        except (ValueError, RecursionError):
            self.bad += 1
            return
        if not isinstance(rec, dict):
            self.bad += 1
            return
        kind = rec.get("type")
        if self.header is None:
            if kind != "run" or rec.get("schema") != SCHEMA:
                raise LossdocError("error.log_not_lossdoc", path=str(self.path))
            self.header = rec
            self.records += 1
            return
        self.records += 1
        what, value = interpret(rec)
        if what == "batch":
            self.batches.put(*value)
        elif what == "epoch":
            self.epochs.put(*value)
            if (te := trainer_epoch(rec)) is not None:
                self.trainer_epochs[value[0]] = te
            else:
                self.trainer_epochs.pop(value[0], None)
            if (ev := nonfinite_val_event(rec)) is not None:
                self.events.append(ev)
        elif what == "event":
            self.events.append(value)
        elif what == "end":
            self.status = value
            self.ended = True
        elif what == "missing":
            self.missing += 1
        else:
            self.records -= 1

    def run(self) -> Run | None:
        """The Run of everything read so far (None before the header and a first batch or evaluation)."""
        if self.header is None or (self.batches.n == 0 and self.epochs.n == 0):
            return None
        run = Run(source=str(self.path), format="lossdoc", records_read=self.records, status=self.status)
        run.events = list(self.events)
        if self.bad:
            run.records_skipped += self.bad
            run.warnings.append(ReaderWarning("warn.corrupt_lines", {"count": self.bad, "first": 0}))
        if self.missing:
            run.records_skipped += self.missing
            run.warnings.append(ReaderWarning("warn.missing_fields", {"count": self.missing}))
        _apply_header(run, self.header)
        if self.batches.n:
            steps, cols = self.batches.sorted()
            run.batches = BatchSeries(steps, cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3], cols[:, 4])
        if self.epochs.n:
            eps, cols = self.epochs.sorted()
            run.epochs = EpochSeries(eps, cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3])
            run.trainer_epochs = dict(sorted(self.trainer_epochs.items()))
        return sanitize(apply_loss_scale(run, self.header))


def _tailable(path: Path) -> Path | None:
    """The lossdoc run.jsonl to tail for ``path`` (the file, or the log in a run folder), else None."""
    from lossdoc.runlog.files import existing_log
    from lossdoc.runlog.readers import lossdoc_jsonl

    target = existing_log(path) if path.is_dir() else path
    if target is None or not target.is_file():
        return None
    try:
        with open(target, "rb") as fh:
            head = fh.read(8192).decode("utf-8", errors="replace")
    except OSError:
        return None
    return target if head.strip() and lossdoc_jsonl.detect(target, head) else None


def _stamp(path: Path, limit: int = 500) -> tuple:
    """What changes when a log changes: (size, mtime) of the file, or of the files in a folder and its subfolders
    two levels down (checkpoint-N/trainer_state.json, version_N/metrics.csv), at most ``limit`` of them."""
    out = []
    try:
        if not path.is_dir():
            st = os.stat(path)
            return ((st.st_size, st.st_mtime_ns),)
        for root, dirs, files in os.walk(path):
            if len(Path(root).relative_to(path).parts) >= 2:
                dirs[:] = []
            for name in sorted(files):
                st = os.stat(os.path.join(root, name))
                out.append((root, name, st.st_size, st.st_mtime_ns))
                if len(out) >= limit:
                    return tuple(out)
    except OSError:
        pass
    return tuple(out)


class Follower:
    """Polls one log; ``poll()`` -> a new Run when the log changed, else None. See the module docstring."""

    def __init__(
        self, path: str | Path, *, fmt: str | None = None, min_interval: float = 1.0, idle_s: float = 120.0, clock=time.monotonic, **read_options: Any
    ) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.min_interval = min_interval
        self.idle_s = idle_s
        self.clock = clock
        self.read_options = read_options
        self.tail: JsonlTail | None = None
        self.mode: str | None = None  # "tail" (lossdoc JSONL) or "reread" (every other format), once the log is found
        self._stamp: tuple | None = None
        self._next = 0.0
        self._changed_at = clock()
        self._ended = False
        self._status: str | None = None
        self.last_read_s = 0.0

    @property
    def done(self) -> bool:
        return self._ended or self.idle

    @property
    def idle(self) -> bool:
        """No end record, and no new record for ``idle_s`` seconds since the log was found (or last grew)."""
        return not self._ended and self.mode is not None and self.clock() - self._changed_at >= self.idle_s

    @property
    def status(self) -> str | None:
        """The run's end status (completed, interrupted, failed) once known."""
        return self.tail.status if self.tail is not None else self._status

    def poll(self) -> Run | None:
        """A Run when the log has new records (at most once per interval), else None. LossdocError for a bad log;
        a log not there yet raises with one of NOT_YET's keys."""
        now = self.clock()
        if now < self._next:
            return None
        self._next = now + self.min_interval
        if self.mode is None:
            if not self.path.exists():
                raise LossdocError("error.log_missing", path=str(self.path))
            if not self.path.is_dir() and not self._first_line(self.path):
                raise LossdocError("error.log_empty", path=str(self.path))  # not even one whole line yet: decide later
            target = _tailable(self.path) if self.fmt in (None, "lossdoc") else None
            if target is not None:
                self.mode, self.tail = "tail", JsonlTail(target)
            else:
                self.mode = "reread"
        if self.mode == "tail":
            return self._poll_tail()
        return self._poll_reread(now)

    @staticmethod
    def _first_line(path: Path) -> bool:
        """The file holds a complete first line (or is binary, or 8 KB without a newline), so its format can be told."""
        try:
            with open(path, "rb") as fh:
                head = fh.read(8192)
        except OSError:
            return False
        return b"\n" in head or b"\x00" in head or len(head) >= 8192  # binary (TensorBoard): at once

    def _poll_tail(self) -> Run | None:
        assert self.tail is not None
        t0 = self.clock()
        grew = False
        while self.tail.read_new():  # catch up on a backlog, MAX_READ bytes at a time
            grew = True
            if self.tail.offset >= os.stat(self.tail.path).st_size:
                break
        if self.tail.ended:
            self._ended = True
        if not grew:
            return None
        self._changed_at = self.clock()
        run = self.tail.run()
        self.last_read_s = self.clock() - t0
        return run

    def _poll_reread(self, now: float) -> Run | None:
        stamp = _stamp(self.path)
        if stamp == self._stamp:
            return None
        t0 = self.clock()
        run = read_run(self.path, self.fmt, **self.read_options)
        self.last_read_s = self.clock() - t0
        self._next = max(self._next, now + 2 * self.last_read_s)  # a slow format is read less often, never starved
        self._changed_at = self.clock()
        self._stamp = stamp
        if run.status is not None:
            self._ended, self._status = True, run.status
        return run
