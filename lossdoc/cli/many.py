"""`lossdoc explain` with several runs: read them in parallel (lossdoc/batch.py), print the table or the --json
list (lossdoc/render/many.py), and return the exit code (1: a run at least as bad as --fail-on; 2: a run that
could not be read; 0 otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError


def explain_many_command(
    paths: list[Path],
    fmt: str | None,
    reader_options: dict[str, Any],
    overrides: dict[str, Any],
    lang: str,
    *,
    as_json: bool,
    fail_on: str,
    charts: bool,
) -> int:
    if charts:
        raise LossdocError("error.many_no_charts", count=len(paths))
    from lossdoc.batch import exit_code, explain_many
    from lossdoc.render.console import out

    rows = explain_many(paths, fmt, reader_options, overrides, lang)
    if as_json:
        from lossdoc.render.many import to_json_many

        out.print(to_json_many(rows, lang), markup=False, highlight=False, soft_wrap=True)
    else:
        from lossdoc.render.many import render_many

        render_many(out, rows, lang)
    code = exit_code(rows, fail_on)
    if code == 2:  # the contract of exit 2: one line on stderr saying what is wrong (the rows say which and why)
        raise LossdocError("error.many_unreadable", count=sum(r.verdict is None for r in rows), total=len(rows))
    return code
