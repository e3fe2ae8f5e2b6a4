"""Training events as data: a kind, a message key and its arguments, as findings are.

``event_record`` makes the run-log record (its ``message`` is the English sentence, for people reading
the file); ``event_text`` says it in any language, for the console and ``watch``. Records written before
events had keys are shown by their English message.
"""

from __future__ import annotations

import math
from typing import Any

from lossdoc.i18n import t


def event_record(kind: str, step: int, key: str, args: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The run-log record of one event. ``fields`` are the record's own columns (epoch, batch, value, ...),
    documented in docs/run-log.md; ``args`` fill the message ``key``."""
    return {"type": "event", "kind": kind, "step": step, "message": event_text({"key": key, "args": args}, "en"), "key": key, "args": args, **fields}


def event_text(record: dict[str, Any], lang: str) -> str:
    """The event in ``lang``: its key with its arguments, numbers to 4 decimals, a verdict in words."""
    key, args = record.get("key"), record.get("args")
    if not isinstance(key, str) or not isinstance(args, dict):
        return t("train.event.other", lang, kind=record.get("kind", "-"), message=record.get("message", ""))
    shown = {name: _shown(name, value, lang) for name, value in args.items()}
    try:
        return t(key, lang, **shown)
    except (KeyError, IndexError, ValueError):  # a record from another version of lossdoc
        return t("train.event.other", lang, kind=record.get("kind", "-"), message=record.get("message", ""))


def _shown(name: str, value: Any, lang: str) -> Any:
    if name == "verdict" and isinstance(value, str):
        return t(f"verdict.{value}", lang)
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "-"
    return "-" if value is None else value
