"""The chart options `explain` and `compare` share (--plot, --report FILE, --size WxH): checked before any
log is read, then drawn for one run or several. Commands call these; neither command imports the other."""

from __future__ import annotations

from pathlib import Path

from lossdoc.errors import LossdocError
from lossdoc.i18n import t


def check_chart_options(plot: bool, as_json: bool, report: Path | None, size: str) -> tuple[int, int]:
    """Validate the chart options before any log is read; returns the PNG size in pixels."""
    from lossdoc.render.report import parse_size, report_kind

    if plot and as_json:
        raise LossdocError("error.plot_json")
    size_px = parse_size(size)
    if report is not None:
        report_kind(report)
        folder = report.parent if str(report.parent) else Path(".")
        if not folder.is_dir():  # fail now, not after the whole report was printed (issue 24)
            raise LossdocError("error.report_dir", path=str(report), folder=str(folder))
    return size_px


def draw_charts(items, lang: str, *, plot: bool, report: Path | None, size: tuple[int, int], quiet: bool = False) -> None:
    """The terminal chart (--plot) and the report file (--report) of one run, or of several (compare)."""
    from lossdoc.render.charts import chart_data, has_epoch_axis, print_chart, print_compare_chart
    from lossdoc.render.console import err, out

    compare = len(items) > 1
    # runs of different lengths line up by epoch, not by step (when every run can be placed on epochs)
    by_epoch = compare and all(has_epoch_axis(run) for run, _ in items)
    datas = [chart_data(run, d, x_kind="epoch" if by_epoch else "auto") for run, d in items]
    if plot:
        out.print()
        if compare:
            print_compare_chart(out, datas, lang)
        else:
            print_chart(out, datas[0], lang)
    if report is not None:
        from lossdoc.render.report import write_report

        warning = write_report(report, items, datas, lang, size, compare=compare)
        if warning:
            err.print(f"lossdoc: {t(warning, lang)}", markup=False)
        if not quiet:
            out.print(t("report.written", lang, path=str(report)), markup=False, soft_wrap=True)
