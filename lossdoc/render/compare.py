"""`lossdoc compare`'s output: the side-by-side table and the ``lossdoc.compare/1`` JSON document.

The rows themselves (numbers and their text) come from lossdoc.render.report.compare_rows, which the
HTML report shares.
"""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lossdoc.analysis.model import Diagnosis
from lossdoc.i18n import t
from lossdoc.jsonfmt import document
from lossdoc.render.diagnosis import VERDICT_STYLE
from lossdoc.runlog.run import Run


def compare_json(items: list[tuple[Run, Diagnosis]], rows: list[dict[str, Any]], lang: str) -> str:
    """One JSON document (schema lossdoc.compare/1): each run's values, its verdict in words and its headline."""
    doc = {
        "schema": "lossdoc.compare/1",
        "lang": lang,
        "runs": [
            {**row["values"], "verdict_text": row["text"]["verdict"], "headline": t(f"headline.{d.verdict}", lang)}
            for row, (_, d) in zip(rows, items)
        ],
    }
    return document(doc)


def render_compare_table(console: Console, rows: list[dict[str, Any]], lang: str) -> None:
    table = Table(title=t("compare.title", lang, count=len(rows)), pad_edge=False, box=box.SIMPLE_HEAD, expand=True, collapse_padding=True)
    table.add_column(t("compare.col.run", lang) + " (" + t("compare.col.format", lang) + ")", overflow="fold", ratio=1)
    table.add_column(t("compare.col.verdict", lang), overflow="fold", max_width=12)
    for col in ("init", "best", "floor", "excess", "epochs"):  # "+0.0390" and 4 Chinese characters fit in 8 cells
        table.add_column(t(f"compare.col.{col}", lang), justify="right", overflow="fold", max_width=8)
    for row in rows:
        x = row["text"]
        excess = x["excess"].replace(" (", "\n").rstrip(")")  # nats over percent: keeps the column narrow
        table.add_row(
            f"{x['run']}\n({x['format']})",
            Text(x["verdict"], style=VERDICT_STYLE[row["values"]["verdict"]]),
            x["init"],
            x["best"],
            x["floor"],
            excess,
            x["epochs"],
        )
    console.print(table)
