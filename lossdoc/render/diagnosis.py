"""Diagnosis -> text: the verdict panel, the findings table, the explanation, next steps.

Renderers only look things up and format; every decision is in lossdoc.analysis.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from lossdoc.analysis.model import Diagnosis, Finding
from lossdoc.i18n import t
from lossdoc.runlog.run import Run

VERDICT_STYLE = {
    "broken": "bold red",
    "overfitting": "bold yellow",
    "expected-plateau": "bold green",
    "converged": "bold green",
    "still-learning": "bold cyan",
    "inconclusive": "bold",
}
STATUS_STYLE = {"ok": "green", "info": "cyan", "warn": "yellow", "fail": "bold red", "skipped": "dim"}


def fmt(x: Any, nd: int = 4) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return f"{x:.{nd}f}"
    return str(x)


def _digits(key: str) -> int:
    if key in ("pct", "final_pct", "share", "expected_share", "captured", "z", "ratio"):
        return 1 if key in ("share", "expected_share", "captured", "z") else 2
    return 3 if key.endswith("std") else 4


def _args(args: dict[str, Any]) -> dict[str, str]:
    return {k: fmt(v, _digits(k)) if isinstance(v, float) else ("-" if v is None else v) for k, v in args.items()}


def finding_sentence(f: Finding, lang: str) -> str:
    text = t(f.key, lang, **_args(f.args))
    if f.code == "floor" and "floor_sample" in f.args:
        text += " " + t("f.floor.sample", lang, floor_sample=fmt(f.args["floor_sample"]), exact_floor=fmt(f.args["exact_floor"]))
    if f.code == "floor" and "captured" in f.args and f.status != "fail":
        text += " " + t("f.floor.captured", lang, captured=fmt(f.args["captured"], 1))
    return text


def explanation(d: Diagnosis, lang: str) -> list[str]:
    """The seed's reasoning, rebuilt from this run's numbers."""
    facts = d.facts
    out: list[str] = []
    init = d.finding("init-loss")
    if init is not None and init.status != "skipped":
        key = "expl.init_std" if init.args.get("std") is not None else "expl.init_plain"
        out.append(t(key, lang, **_args(init.args)))
    floor = facts.get("entropy_floor")
    if floor is not None:
        if facts.get("random_data"):
            n = round(math.exp(floor)) if floor < 700 else "∞"  # e^floor overflows past 709
            out.append(t("expl.floor_random", lang, n=n, floor=fmt(floor)))
        else:
            out.append(t("expl.floor_exact", lang, floor=fmt(floor)))
    elif facts.get("best_val_loss") is not None:
        out.append(t("expl.floor_unknown", lang))
    fl = d.finding("floor")
    if fl is not None and fl.status != "skipped":
        out.append(t("expl.best_below" if fl.status == "fail" else "expl.best", lang, **_args(fl.args)))
    elif facts.get("best_val_loss") is not None:
        ov = d.finding("overfitting")
        epoch = ov.args.get("best_epoch", "-") if ov is not None else "-"
        out.append(t("expl.best_plain", lang, best=fmt(facts["best_val_loss"]), epoch=epoch))
    xent, best = facts.get("unigram_xent"), facts.get("best_val_loss")
    if xent is not None and best is not None and not facts.get("random_data"):
        diff = xent - best
        out.append(t("expl.unigram", lang, xent=fmt(xent), best=fmt(best), diff=fmt(abs(diff)),
                     direction=t("expl.unigram.below" if diff >= 0 else "expl.unigram.above", lang)))
    noise = d.finding("batch-noise")
    if noise is not None and noise.key == "f.noise.dips":
        out.append(t("expl.noise" if noise.args.get("tokens") else "expl.noise_plain", lang, **_args(noise.args)))
    elif noise is not None and noise.key == "f.noise.mean_below":
        out.append(t("expl.noise_memorise", lang, **_args(noise.args)))
    close_args = {"best": fmt(best)}
    out.append(t(f"expl.close.{d.verdict}", lang, **close_args))
    return out


def render_diagnosis(console: Console, d: Diagnosis, run: Run, lang: str, *, compact: bool = False) -> None:
    verdict = t(f"verdict.{d.verdict}", lang)
    head = Text()
    head.append(t("ui.verdict", lang, verdict=verdict), style=VERDICT_STYLE[d.verdict])
    head.append("\n" + t(f"headline.{d.verdict}", lang))
    console.print(Panel(head, title=t("ui.title", lang, source=run.source), title_align="left", expand=True))

    table = Table(show_lines=False, expand=True, pad_edge=False)
    table.add_column(t("ui.col.check", lang), no_wrap=True)
    table.add_column(t("ui.col.status", lang), no_wrap=True)
    table.add_column(t("ui.col.measured", lang), justify="right", no_wrap=True)
    table.add_column(t("ui.col.reference", lang), justify="right", no_wrap=True)
    table.add_column(t("ui.col.meaning", lang), ratio=1, overflow="fold")
    for f in d.findings:
        if compact and f.status in ("ok", "skipped") and f.code not in ("init-loss", "floor"):
            continue
        table.add_row(
            t(f"check.{f.code}", lang),
            Text(t(f"status.{f.status}", lang), style=STATUS_STYLE[f.status]),
            fmt(f.measured) if isinstance(f.measured, float) else fmt(f.measured),
            fmt(f.reference),
            finding_sentence(f, lang),
        )
    console.print(table)

    if run.warnings:
        console.print(Text(t("ui.notes", lang), style="bold"))
        for w in run.warnings:
            console.print(f"  • {t(w.key, lang, **w.args)}", markup=False)

    # Chinese has no spaces to break lines at: let the terminal wrap it
    soft = lang == "zh"
    console.print(Text(t("ui.explanation", lang), style="bold"))
    console.print((" " if lang == "en" else "").join(explanation(d, lang)), markup=False, soft_wrap=soft)
    if d.next_steps:
        console.print(Text(t("ui.next", lang), style="bold"))
        for key in d.next_steps:
            console.print(f"  • {t(key, lang)}", markup=False, soft_wrap=soft)
