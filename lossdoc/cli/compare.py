"""`lossdoc compare RUN RUN...`: several runs in one table and one chart. Never imports torch.

The chart options it shares with `explain` (--plot, --report FILE, --size WxH) are checked and drawn by
lossdoc/render/draw.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from lossdoc.cli.options import AsJson, Floor, Format, LangOption, Plot, Pretrained, Random, RandomLow, Report, Size, VocabSize, resolve_lang
from lossdoc.render.draw import check_chart_options, draw_charts


def register(app: typer.Typer) -> None:
    app.command("compare", help="Compare runs side by side: verdict, init loss, best validation loss, excess over the floor, epochs.")(
        compare_command
    )


def compare_command(
    runs: list[Path] = typer.Argument(..., metavar="RUN...", help="Run logs or folders, in any format explain reads."),
    as_json: AsJson = False,
    plot: Plot = False,
    report: Report = None,
    size: Size = "1000x560",
    vocab_size: VocabSize = None,
    floor: Floor = None,
    random: Random = False,
    random_low: RandomLow = None,
    pretrained: Pretrained = None,
    fmt: Format = None,
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
