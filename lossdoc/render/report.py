"""--report FILE for explain and compare: check the target early, then write PNG or HTML.

Also the rows of the comparison table (one per run), shared by `lossdoc compare`'s table, JSON and HTML.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.analysis.model import Diagnosis
from lossdoc.errors import LossdocError
from lossdoc.i18n import t
from lossdoc.render.charts import ChartData, run_digit, short_name
from lossdoc.runlog.run import Run

SIZE_LIMITS = (200, 4000)  # pixels, each side
DEFAULT_SIZE = "1000x560"
SUFFIXES = {".png": "png", ".html": "html", ".htm": "html"}


def parse_size(value: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX×*]\s*(\d+)\s*", value or "")
    low, high = SIZE_LIMITS
    if not m or not all(low <= int(g) <= high for g in m.groups()):
        raise LossdocError("error.report_size", value=value, low=low, high=high)
    return int(m.group(1)), int(m.group(2))


def report_kind(path: Path) -> str:
    """'png' or 'html' from the file name; for PNG, fails now (before any reading) when matplotlib is missing."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise LossdocError("error.report_suffix", path=str(path))
    if kind == "png":
        from lossdoc.render.png import require_matplotlib

        require_matplotlib(path)
    return kind


def write_report(
    path: Path, items: list[tuple[Run, Diagnosis]], datas: list[ChartData], lang: str, size: tuple[int, int], *, compare: bool = False
) -> str | None:
    """Write the report; returns a warning message key when the PNG could not use ``lang`` (no CJK font)."""
    kind = report_kind(path)
    warning = None
    if kind == "png":
        from lossdoc.render.png import render_png

        data, used = render_png(datas, lang, size, compare=compare)
        if used != lang:
            warning = "chart.font_missing"
    else:
        from lossdoc.render.html import compare_html, html_report

        if compare:
            text = compare_html(items, datas, compare_rows(items, lang), lang)
        else:
            run, d = items[0]
            text = html_report(run, d, datas[0], lang)
        data = text.encode("utf-8")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise LossdocError("error.io", path=str(path), detail=exc.strerror or str(exc)) from None
    return warning


def _epochs(run: Run) -> float | None:
    """How far the run got, in epochs: the framework's own where the log gives it (Run.trainer_epochs: Lightning's
    0-based epoch + 1, the Trainer's fractional epoch), else the highest epoch or evaluation number."""
    if run.trainer_epochs and run.trainer in ("lightning", "transformers"):
        top = max(run.trainer_epochs.values())
        return top + 1 if run.trainer == "lightning" else top
    vals = np.concatenate([np.asarray(run.epochs.epoch, dtype=float), np.asarray(run.batches.epoch, dtype=float)])
    vals = vals[np.isfinite(vals)]
    return float(vals.max()) if vals.size else None


def _num(x: Any, nd: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-" if x is None else str(x)
    return f"{x:.{nd}f}"


def compare_rows(items: list[tuple[Run, Diagnosis]], lang: str) -> list[dict[str, Any]]:
    """One row per run: the numbers (``values``, for JSON) and their text (``text``, for tables)."""
    rows = []
    for i, (run, d) in enumerate(items):
        facts = d.facts
        fl = d.finding("floor")
        has_excess = fl is not None and fl.status != "skipped" and fl.args.get("excess") is not None
        excess = fl.args["excess"] if fl is not None and has_excess else None
        pct = fl.args.get("pct") if fl is not None and has_excess else None
        epochs = _epochs(run)
        values = {
            "source": run.source,
            "format": run.format,
            "verdict": d.verdict,
            "init_loss": facts.init_loss,
            "best_val_loss": facts.best_val_loss,
            "entropy_floor": facts.entropy_floor,
            "excess_over_floor": excess,
            "excess_pct": pct,
            "epochs": epochs,
        }
        text = {
            "run": f"{run_digit(i)} {short_name(run.source)}",
            "format": run.format,
            "verdict": t(f"verdict.{d.verdict}", lang),
            "init": _num(values["init_loss"]),
            "best": _num(values["best_val_loss"]),
            "floor": _num(values["entropy_floor"]),
            "excess": "-" if excess is None else f"{excess:+.4f} ({pct:+.2f}%)",
            "epochs": "-" if epochs is None else (str(int(epochs)) if epochs.is_integer() else f"{epochs:.2f}"),
        }
        rows.append({"values": values, "text": text})
    return rows
