"""Writing run logs: a small logger protocol and its JSON Lines backend.

Every record is one JSON object on one line, flushed as soon as it is written,
so a run killed at any moment leaves a log whose complete lines are all valid.
Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from lossdoc.errors import LossdocError
from lossdoc.jsonfmt import encode_value, record_line

__all__ = ["JsonlLogger", "RunLogger", "dumps", "encode_value"]


class RunLogger(Protocol):
    """Where training sends its records (run header, batches, epochs, events, end)."""

    def log(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


dumps = record_line  # the name tests and older callers use


class JsonlLogger:
    """Appends records to a run.jsonl file, flushing each one.

    A failed write (disk full, unwritable folder) raises LossdocError('error.io');
    the log is never followed through a symbolic link, so a run folder cannot
    redirect lossdoc's writes to another file.
    """

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self.failed = False
        self._partial = False  # a write was cut short (an exception in the middle of log())
        try:
            self._fh = _open_append(self.path)
            # A run killed mid-write leaves a torn last line; start on a fresh line.
            if self._fh.tell() > 0 and not _ends_with_newline(self.path):
                self._fh.write("\n")
        except OSError as exc:
            raise _io_error(self.path, exc) from None

    def log(self, record: dict[str, Any]) -> None:
        line = dumps(record) + "\n"
        try:
            if self._partial:
                self._fh.write("\n")
            self._partial = True
            self._fh.write(line)
            self._fh.flush()
            if self._fsync:
                os.fsync(self._fh.fileno())
            self._partial = False
        except OSError as exc:
            self.failed = True
            raise _io_error(self.path, exc) from None

    def close(self) -> None:
        if self._fh.closed:
            return
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        except OSError as exc:
            try:
                self._fh.close()
            except OSError:
                pass
            if not self.failed:  # the first failure was already reported
                self.failed = True
                raise _io_error(self.path, exc) from None


def _open_append(path: Path):
    """The log opened for appending text, refusing a symbolic link (O_NOFOLLOW)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    return os.fdopen(fd, "a", encoding="utf-8")


def _io_error(path: Path, exc: OSError) -> LossdocError:
    return LossdocError("error.io", path=str(path), detail=exc.strerror or str(exc))


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
