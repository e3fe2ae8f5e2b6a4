"""`lossdoc compare RUN RUN...`: several runs in one table and one chart. Never imports torch.

The chart options it shares with `explain` (--plot, --report FILE, --size WxH) are checked and drawn by
lossdoc/render/draw.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import LangOption
from lossdoc.i18n import resolve_lang
from lossdoc.render.draw import check_chart_options, draw_charts


def register(app: typer.Typer) -> None:
    app.command("compare", help="Compare runs side by side: verdict, init loss, best validation loss, excess over the floor, epochs.")(
        compare_command
    )


def compare_command(
    runs: list[Path] = typer.Argument(..., metavar="RUN...", help="Run logs or folders, in any format explain reads."),
    as_json: bool = typer.Option(False, "--json", help="Print the comparison as one JSON document."),
    plot: bool = typer.Option(False, "--plot", help="Draw all runs in one terminal chart."),
    report: Optional[Path] = typer.Option(None, "--report", metavar="FILE", help="Also write the chart (.png, needs lossdoc[report]) or a report (.html)."),
    size: str = typer.Option("1000x560", "--size", metavar="WxH", help="With --report FILE.png: its size in pixels."),
    vocab_size: Optional[int] = typer.Option(None, "--vocab-size", help="Vocabulary size, for every run whose log does not carry it."),
    floor: Optional[float] = typer.Option(None, "--floor", help="The data's entropy floor in nats per token (applies to every run)."),
    random: bool = typer.Option(False, "--random", help="Every run's data is uniformly random token ids over the vocabulary."),
    random_low: Optional[int] = typer.Option(None, "--random-low", help="With --random: the lowest token id drawn."),
    pretrained: Optional[bool] = typer.Option(None, "--pretrained/--from-scratch", help="Training started from pretrained weights (a fine-tune), or from a fresh initialisation. Default: read from the log and the files beside it, else inferred from the first losses."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Force the log format of every run instead of detecting it."),
    lang: Optional[str] = LangOption,
) -> None:
    language = resolve_lang(lang)
    size_px = check_chart_options(plot, as_json, report, size)
    from lossdoc.analysis import diagnose
    from lossdoc.render.console import out
    from lossdoc.runlog.overrides import apply_overrides
    from lossdoc.runlog.readers import read_run

    items = []
    for path in runs:
        run = apply_overrides(read_run(path, fmt), vocab_size=vocab_size, floor=floor, random=random, random_low=random_low, pretrained=pretrained)
        items.append((run, diagnose(run)))

    from lossdoc.render.compare import compare_json, render_compare_table
    from lossdoc.render.report import compare_rows

    rows = compare_rows(items, language)
    if as_json:
        out.print(compare_json(items, rows, language), markup=False, highlight=False, soft_wrap=True)
    else:
        render_compare_table(out, rows, language)
    if plot or report is not None:
        draw_charts(items, language, plot=plot, report=report, size=size_px, quiet=as_json)
