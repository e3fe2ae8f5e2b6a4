"""The JSON Schema of lossdoc.run/1 (shipped as run.schema.json) and a validator.

Validation needs the `jsonschema` package (in the `test` extra); reading logs
does not: the readers are tolerant and never validate line by line.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    return json.loads(resources.files("lossdoc.runlog").joinpath("run.schema.json").read_text(encoding="utf-8"))


def validate_file(path: str | Path) -> list[str]:
    """Every problem in a run.jsonl: '<line>: <message>'. Empty when valid.

    Besides each record's schema: the first record is the run header, the
    last is the end record, and each line is one JSON object.
    """
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    problems: list[str] = []
    records = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rec = json.loads(line)
        except ValueError as exc:
            problems.append(f"{lineno}: not JSON ({exc})")
            continue
        records.append(rec)
        for error in validator.iter_errors(rec):
            problems.append(f"{lineno}: {error.message}")
    if not records or records[0].get("type") != "run":
        problems.append("1: the first record must be the run header")
    if records and records[-1].get("type") != "end":
        problems.append(f"{len(records)}: the last record must be the end record")
    return problems
