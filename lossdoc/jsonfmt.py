"""JSON text, written one way everywhere: run-log records (one compact line) and documents (``--json``).

JSON has no NaN or infinity, and a loss can be either, so every non-finite float is written as the
strings "NaN", "Infinity" and "-Infinity", in run logs and in documents alike (docs/formats.md).
Pure standard library: the run log writer, the renderers and the commands all use it.
"""

from __future__ import annotations

import json
import math
from typing import Any


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


def record_line(record: dict[str, Any]) -> str:
    """One run-log record as one compact line of JSON (no newline)."""
    return json.dumps(encode_value(record), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def document(doc: Any) -> str:
    """A whole ``--json`` document: indented, UTF-8 text kept as is (Chinese stays readable)."""
    return json.dumps(encode_value(doc), ensure_ascii=False, indent=2, allow_nan=False)
