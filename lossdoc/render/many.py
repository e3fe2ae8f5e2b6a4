"""Many runs in one `lossdoc explain`: the table (a row per run, worst first), the verdict counts, and the
--json list. The rows come from lossdoc.batch; this module only draws them."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from lossdoc.batch import Row, counts
from lossdoc.i18n import t
from lossdoc.jsonfmt import document
from lossdoc.render.diagnosis import VERDICT_STYLE, eval_names, finding_sentence, fmt


def _deciding_text(r: Row, lang: str) -> str:
    f = r.deciding
    if f is None:
        return "-"
    return f"{t(f'check.{f.code}', lang)}: {finding_sentence(f, lang, eval_names(r.run))}"


def render_many(console: Console, rows: list[Row], lang: str) -> None:
    table = Table(title=t("many.title", lang, count=len(rows)), title_justify="left", expand=True, pad_edge=False)
    table.add_column(t("many.col.run", lang), overflow="fold", max_width=48)
    table.add_column(t("many.col.verdict", lang), no_wrap=True)
    table.add_column(t("many.col.best", lang), justify="right", no_wrap=True)
    table.add_column(t("many.col.gap", lang), justify="right", no_wrap=True)
    table.add_column(t("many.col.deciding", lang), ratio=1, overflow="fold")
    for r in rows:
        if r.verdict is None:
            table.add_row(r.source, Text(t("many.unreadable", lang), style="bold red"), "-", "-", r.error or "-")
            continue
        table.add_row(
            r.source, Text(t(f"verdict.{r.verdict}", lang), style=VERDICT_STYLE[r.verdict]), fmt(r.best), fmt(r.gap), _deciding_text(r, lang)
        )
    console.print(table)
    items = [
        t("many.count_item", lang, verdict=t(f"verdict.{v}", lang) if v != "unreadable" else t("many.unreadable", lang), n=n)
        for v, n in counts(rows).items()
    ]
    console.print(t("many.counts", lang, counts=(", " if lang == "en" else "，").join(items)), markup=False, highlight=False)


def many_dicts(rows: list[Row], lang: str) -> list[dict[str, Any]]:
    """--json: one lossdoc.diagnosis/1 document per run (with a "table" entry: the row's numbers), worst first; an
    unreadable run is {"source", "error"}."""
    from lossdoc.render.json_out import diagnosis_dict

    out: list[dict[str, Any]] = []
    for r in rows:
        if r.verdict is None or r.diagnosis is None or r.run is None:
            out.append({"schema": "lossdoc.diagnosis/1", "source": r.source, "verdict": None, "error": r.error})
            continue
        doc = diagnosis_dict(r.diagnosis, r.run, lang)
        doc["table"] = {
            "best_loss": r.best,
            "best_of": r.best_kind,
            "floor": r.floor,
            "above_floor": r.gap,
            "deciding": r.deciding.code if r.deciding else None,
        }
        out.append(doc)
    return out


def to_json_many(rows: list[Row], lang: str) -> str:
    return document(many_dicts(rows, lang))
