"""CheckReport -> a rich verdict table, or one JSON document (schema lossdoc.check/1, docs/check.md).

Renderers only look things up and format; every decision is in lossdoc.check.
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from lossdoc.analysis.model import Finding
from lossdoc.i18n import t

SCHEMA = "lossdoc.check/1"
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skipped": "dim"}
VERDICT_STYLE = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red"}
_SMALL_KEYS = ("diff", "tol", "eval_diff", "train_diff")  # tiny numbers: scientific notation
_PLAIN_KEYS = ("lr",)


def fmt_value(key: str, v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if key in _SMALL_KEYS:
            return "0" if v == 0 else f"{v:.3g}"
        if key in _PLAIN_KEYS:
            return f"{v:g}"
        return f"{v:.3f}" if key == "sigma" else f"{v:.4f}"
    if isinstance(v, int):
        return f"{v:,}" if key in ("params", "trainable", "tokens") else str(v)
    return str(v)


def finding_sentence(f: Finding, lang: str) -> str:
    args = {k: fmt_value(k, v) for k, v in f.args.items() if not k.endswith("_names") and not k.startswith("error_")}
    if isinstance(f.args.get("labels"), str):  # shifted / unshifted, in the reader's language
        args["labels"] = t(f"chk.labels_word.{f.args['labels']}", lang)
    if "error_key" in f.args:  # a LossdocError that skipped the check, in the reader's language
        args["detail"] = t(f.args["error_key"], lang, **f.args.get("error_args", {}))
    text = t(f.key, lang, **args)
    if f.args.get("timed_out"):
        text += t("chk.timed_out", lang)
    return text


def _measured(f: Finding, which: str) -> str:
    """The measured or reference column: losses with 4 decimals, logit differences in scientific notation, counts whole."""
    v = getattr(f, which)
    if f.status == "skipped" or v is None:
        return "-"
    if f.code == "gradient-flow":
        return str(int(v))
    return fmt_value("diff" if f.code in ("causality", "train-eval") else "loss", v)


def notes(report, lang: str) -> list[str]:
    items = list(report.notes)
    if report.labels == "unshifted":
        items.append(("chk.note.labels", {}))
    return [t(k, lang, **a) for k, a in items]


def verdict_text(report, lang: str) -> str:
    text = t(f"chk.verdict.{report.verdict}", lang)
    if report.skipped:
        text += t("chk.verdict.skipped", lang, n=report.skipped)
    return text


def model_line(report, lang: str) -> str:
    return t(
        "chk.ui.model",
        lang,
        kind=t(f"chk.kind.{report.kind}", lang),
        params=f"{report.params:,}",
        trainable=f"{report.trainable:,}",
        v=report.vocab_size,
        b=report.batch_size,
        t=report.seq_len,
        device=report.device,
        output=t("chk.output.tensor", lang) if report.output == "tensor" else report.output,
    )


def render_check(console: Console, report, lang: str) -> None:
    head = Text()
    head.append(verdict_text(report, lang), style=VERDICT_STYLE[report.verdict])
    head.append("\n" + model_line(report, lang))
    console.print(Panel(head, title=t("chk.ui.title", lang, target=report.target), title_align="left", expand=True))
    table = Table(show_lines=False, expand=True, pad_edge=False)
    table.add_column(t("ui.col.check", lang), no_wrap=True)
    table.add_column(t("ui.col.status", lang), no_wrap=True)
    table.add_column(t("ui.col.measured", lang), justify="right", no_wrap=True)
    table.add_column(t("ui.col.reference", lang), justify="right", no_wrap=True)
    table.add_column(t("ui.col.meaning", lang), ratio=1, overflow="fold")
    for f in report.findings:
        table.add_row(
            t(f"chk.name.{f.code}", lang),
            Text(t(f"chk.status.{f.status}", lang), style=STATUS_STYLE[f.status]),
            _measured(f, "measured"),
            _measured(f, "reference"),
            finding_sentence(f, lang),
        )
    console.print(table)
    lines = notes(report, lang)
    if lines:
        console.print(Text(t("chk.ui.notes", lang), style="bold"))
        for line in lines:
            console.print(f"  • {line}", markup=False, soft_wrap=lang == "zh")


def check_dict(report, lang: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "target": report.target,
        "kind": report.kind,
        "lang": lang,
        "verdict": report.verdict,
        "verdict_text": verdict_text(report, lang),
        "exit_code": report.exit_code,
        "model": {
            "params": report.params,
            "trainable": report.trainable,
            "vocab_size": report.vocab_size,
            "seq_len": report.seq_len,
            "batch_size": report.batch_size,
            "device": report.device,
            "output": report.output,
            "labels": report.labels,
        },
        "findings": [{**f.to_dict(), "name": t(f"chk.name.{f.code}", lang), "message": finding_sentence(f, lang)} for f in report.findings],
        "notes": notes(report, lang),
    }


def to_json(report, lang: str) -> str:
    from lossdoc.jsonfmt import document

    return document(check_dict(report, lang))
