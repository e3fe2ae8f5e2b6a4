"""Log readers: each turns one log format into a Run.

``read_run(path)`` detects the format (or takes ``fmt``) and dispatches. A
reader is registered in READERS with a detector that looks at the path and
the first few KB of text; the first detector that answers True wins, in the
order of READERS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.runlog.run import Run
from lossdoc.runlog.readers import lossdoc_jsonl

HEAD_BYTES = 8192


@dataclass(frozen=True)
class Reader:
    name: str
    detect: Callable[[Path, str], bool]  # (file path, first HEAD_BYTES decoded) -> is this my format?
    read: Callable[..., Run]  # (file path, **options) -> Run
    resolve: Callable[[Path], Path | None] = lambda p: None  # folder -> the file to read, if it holds one


READERS: list[Reader] = [
    Reader("lossdoc", lossdoc_jsonl.detect, lossdoc_jsonl.read, lossdoc_jsonl.resolve),
]


def formats() -> list[str]:
    return [r.name for r in READERS]


def read_run(path: str | Path, fmt: str | None = None, **options: Any) -> Run:
    """Read any supported log into a Run. Raises LossdocError for unreadable input."""
    p = Path(path)
    if not p.exists():
        raise LossdocError("error.log_missing", path=str(p))
    candidates = [r for r in READERS if fmt is None or r.name == fmt]
    if not candidates:
        raise LossdocError("error.bad_format", value=fmt, allowed=", ".join(formats()))
    if p.is_dir():
        for reader in candidates:
            target = reader.resolve(p)
            if target is not None:
                return reader.read(target, **options)
        raise LossdocError("error.log_no_metrics", path=str(p))
    head = _head(p)
    if not head.strip():
        raise LossdocError("error.log_empty", path=str(p))
    for reader in candidates:
        if fmt is not None or reader.detect(p, head):
            return reader.read(p, **options)
    raise LossdocError("error.unknown_format", path=str(p), allowed=", ".join(formats()))


def _head(p: Path) -> str:
    try:
        with open(p, "rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise LossdocError("error.log_unreadable", path=str(p), detail=exc.strerror or str(exc)) from None
    if b"\x00" in raw:
        raise LossdocError("error.log_binary", path=str(p))
    return raw.decode("utf-8", errors="replace")
