"""Writing run logs: a small logger protocol and its JSON Lines backend.

Every record is one JSON object on one line, flushed as soon as it is written,
so a run killed at any moment leaves a log whose complete lines are all valid.
Non-finite floats are written as the strings "NaN", "Infinity", "-Infinity".
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Protocol


class RunLogger(Protocol):
    """Where training sends its records (run header, batches, epochs, events, end)."""

    def log(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def encode_value(value: Any) -> Any:
    """Replace non-finite floats (anywhere in nested dicts/lists) by their JSON-safe strings."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {k: encode_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_value(v) for v in value]
    return value


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(encode_value(record), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


class JsonlLogger:
    """Appends records to a metrics.jsonl file, flushing each one."""

    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = Path(path)
        self._fsync = fsync
        self._fh = open(self.path, "a", encoding="utf-8")
        # A run killed mid-write leaves a torn last line; start on a fresh line.
        if self._fh.tell() > 0 and not _ends_with_newline(self.path):
            self._fh.write("\n")

    def log(self, record: dict[str, Any]) -> None:
        self._fh.write(dumps(record) + "\n")
        self._fh.flush()
        if self._fsync:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
