"""Charts: what is drawn (smoothing, downsampling, marks from the diagnosis), the terminal chart in
80 columns with and without colour, and the PNG file."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import statistics
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console
from typer.testing import CliRunner

from lossdoc.analysis import diagnose
from lossdoc.cli import app
from lossdoc.cli import run as cli_run
from lossdoc.render import charts
from lossdoc.render.charts import chart_data, minmax_downsample, print_chart, smooth_loss, terminal_chart
from lossdoc.runlog.overrides import apply_overrides
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.run import BatchSeries, EpochSeries, Run

FIX = Path(__file__).resolve().parents[1] / "fixtures"
SEED = FIX / "seed_console" / "seed_en.txt"
OVERFIT = FIX / "lightning_csv" / "memorising_overfit"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def seed_run():
    run = apply_overrides(read_run(SEED), vocab_size=10000, random=True, random_low=1)
    return run, diagnose(run)


def records(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "run.jsonl").read_text().splitlines()]


def synthetic_run(n: int, *, nan_at=(), seed: int = 0) -> Run:
    rng = np.random.default_rng(seed)
    step = np.arange(1, n + 1, dtype=float)
    loss = 2.0 + 3.0 * np.exp(-step / (n / 5)) + rng.normal(0, 0.05, n)
    for i in nan_at:
        loss[i] = np.nan
    nan = np.full(n, np.nan)
    b = BatchSeries(step=step, epoch=np.ceil(step / (n / 4)), loss=loss, lr=np.full(n, 1e-3), grad_norm=nan, tokens=np.full(n, 512.0))
    ep = np.arange(0, 5, dtype=float)
    e = EpochSeries(
        epoch=ep, step=ep * n / 4, train_loss=np.full(5, np.nan), val_loss=np.array([5.0, 3.0, 2.6, 2.3, 2.2]), val_tokens=np.full(5, 4096.0)
    )
    return Run(source="synthetic/run.jsonl", format="lossdoc", vocab_size=100, batches=b, epochs=e, status="completed")


# --------------------------------------------------------------------------- the numbers


def test_smoothed_line_is_the_centred_running_median_of_the_documented_window():
    rng = np.random.default_rng(3)
    y = rng.normal(5, 1, 300)
    x = np.arange(300, dtype=float)
    sx, sy, window, bucket = smooth_loss(x, y)
    assert bucket == 1 and window == 15  # max(5, 5% of 300) = 15, odd
    half = window // 2
    # independent: the median of the window around i, the ends padded with the first/last value
    padded = [y[0]] * half + list(y) + [y[-1]] * (window - 1 - half)
    expected = [statistics.median(padded[i : i + window]) for i in range(300)]
    assert np.allclose(sy, expected) and np.array_equal(sx, x)


def test_long_runs_are_smoothed_over_group_medians_and_draw_fast():
    n = 100_000
    run = synthetic_run(n)
    x, y = run.batches.step, run.batches.loss
    sx, sy, window, bucket = smooth_loss(x, y)
    assert bucket == 50 and sy.size == 2000  # ceil(100000 / 2000) batches per group
    assert window == 101  # 5% of 2000 groups, odd
    # group 1000's median, by hand, and the running median around it
    groups = [statistics.median(y[g * 50 : (g + 1) * 50]) for g in range(1000 - 50, 1000 + 51)]
    assert sy[1000] == pytest.approx(statistics.median(groups))
    assert sx[1000] == pytest.approx(statistics.median(x[50_000:50_050]))

    d = diagnose(run)  # (how fast: benchmarks/explain_speed.py, not a timed assertion here)
    data = chart_data(run, d)
    terminal_chart(data, width=80, color=False)
    from lossdoc.render.html import svg_chart

    svg_chart(data, "en")
    assert len(data.raw) <= charts.MAX_RAW_POINTS


def test_downsampling_keeps_every_groups_lowest_and_highest_loss():
    rng = np.random.default_rng(1)
    y = rng.normal(3, 0.1, 10_000)
    y[1234] = 40.0  # a spike
    y[8000] = -1.0
    x = np.arange(10_000, dtype=float) * 2
    dx, dy, groups = minmax_downsample(x, y, 200)
    assert groups == 100 and dy.size <= 200
    assert 40.0 in dy and -1.0 in dy and 2468.0 in dx
    assert np.all(np.diff(dx) > 0)  # still in order
    # group 0 holds the first 100 points: its min and max are drawn
    assert y[:100].min() in dy and y[:100].max() in dy
    assert minmax_downsample(x[:50], y[:50], 200)[2] is None


def test_marks_and_lines_come_from_the_run_and_its_diagnosis():
    run, d = seed_run()
    data = chart_data(run, d)
    # independent: the seed log's validation losses, read off the text
    vals = [float(v) for v in re.findall(r"^Val Loss: ([0-9.]+)$", SEED.read_text(), flags=re.M)]
    assert len(vals) == 3 and list(data.val.y) == pytest.approx(vals)
    best = min(range(len(data.val.y)), key=lambda i: data.val.y[i])
    marks = {m.kind: m for m in data.marks}
    assert marks["best"].y == pytest.approx(min(vals)) and marks["best"].x == data.val.x[best]
    assert marks["best"].args["epoch"] == str(best + 1)
    lines = {ln.kind: ln.y for ln in data.lines}
    assert lines["ln_v"] == pytest.approx(math.log(10000)) and lines["floor_random"] == pytest.approx(math.log(9999))
    assert "overfit" not in marks and "nonfinite" not in marks


def test_overfitting_starts_at_the_validation_minimum():
    run = read_run(OVERFIT)
    d = diagnose(run)
    assert d.finding("overfitting").status == "fail"
    data = chart_data(run, d)
    rows = list(csv.DictReader((OVERFIT / "lightning_logs" / "version_0" / "metrics.csv").open()))
    val = [(float(r["val_loss"]), int(r["epoch"])) for r in rows if r["val_loss"]]
    vmin, vepoch = min(val)
    over = [m for m in data.marks if m.kind == "overfit"]
    # Lightning counts epochs from 0, lossdoc from 1 (epoch 0 is the measurement before training)
    assert len(over) == 1 and over[0].args["epoch"] == str(vepoch + 1)
    assert over[0].x == data.val.x[int(np.argmin(data.val.y))]
    best = next(m for m in data.marks if m.kind == "best")
    assert best.y == pytest.approx(vmin)


def test_non_finite_steps_are_marked():
    run = synthetic_run(400, nan_at=(120, 121, 300))
    d = diagnose(run)
    data = chart_data(run, d)
    steps = sorted(m.x for m in data.marks if m.kind == "nonfinite")
    assert steps == [121.0, 122.0, 301.0]  # step = index + 1
    assert data.n_batches == 397
    text = dict(charts.legend(data, "en"))["nonfinite"]
    assert "121, 122, 301" in text


# --------------------------------------------------------------------------- the terminal chart


def _console(color: bool) -> Console:
    if color:
        return Console(file=io.StringIO(), width=80, force_terminal=True, color_system="256")
    return Console(file=io.StringIO(), width=80, color_system=None)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("color", [False, True])
def test_terminal_chart_fits_80_columns_with_and_without_colour(color, lang):
    run, d = seed_run()
    con = _console(color)
    print_chart(con, chart_data(run, d), lang)
    out = con.file.getvalue()
    assert ("\x1b[" in out) == color
    plain = ANSI.sub("", out)
    lines = plain.splitlines()
    assert max(cell_len(x) for x in lines) <= 80
    assert sum("┤" in x for x in lines) >= 3  # a y axis with ticks
    bits = f"{math.log(9999) / math.log(2):.3f}"
    assert bits in plain and "9.2102" in plain  # the floor in nats and in bits
    if lang == "zh":
        assert "验证损失" in plain and "比特" in plain
    else:
        assert "validation loss per epoch" in plain and "best epoch 3" in plain


def _rows(chart: str):
    """(row index, y tick value) of each labelled tick row, and the rows themselves."""
    rows = chart.splitlines()
    ticks = [(i, float(m.group(1))) for i, r in enumerate(rows) if (m := re.match(r"\s*(-?[0-9.]+)┤", r))]
    return rows, ticks


def test_terminal_chart_draws_the_floor_where_the_y_axis_says():
    run = apply_overrides(read_run(FIX / "lightning_csv" / "counting_healthy"), floor=3.0)
    d = diagnose(run)
    chart = terminal_chart(chart_data(run, d), width=80, height=20, color=False)
    rows, ticks = _rows(chart)
    assert len(ticks) >= 3
    (r0, v0), (r1, v1) = ticks[0], ticks[-1]
    predicted = r0 + (3.0 - v0) * (r1 - r0) / (v1 - v0)
    floor_row = max(range(len(rows)), key=lambda i: rows[i].count("="))
    assert rows[floor_row].count("=") > 40
    assert abs(floor_row - predicted) <= 1.0
    assert all(len(r) <= 80 for r in rows)


def test_explain_plot_through_the_cli(tiny_run):
    result = CliRunner().invoke(app, ["explain", str(tiny_run), "--plot", "--lang", "en"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "\x1b[" not in out  # not a terminal: no colour codes
    assert max(cell_len(x) for x in out.splitlines()) <= 80
    head = records(tiny_run)[0]
    floor = head["data"]["entropy_floor"]
    assert f"{floor:.4f} nats ({floor / math.log(2):.3f} bits)" in out
    assert out.index("Verdict:") < out.index("training loss per batch")  # the chart comes under the verdict


def test_plot_and_json_do_not_mix(tiny_run, capsys):
    assert cli_run(["explain", str(tiny_run), "--plot", "--json"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "--json" in err


# --------------------------------------------------------------------------- PNG


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_report_has_the_requested_size_and_is_not_blank(tiny_run, tmp_path):
    target = tmp_path / "run.png"
    result = CliRunner().invoke(app, ["explain", str(tiny_run), "--report", str(target), "--size", "640x400", "--lang", "en"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert f"Report written: {target}" in result.output
    data = target.read_bytes()
    assert png_size(data) == (640, 400)
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).reshape(-1, 3)
    non_white = (img < 250).any(axis=1).mean()
    assert non_white > 0.02  # lines, text and axes, not an empty canvas
    colours = {tuple(c) for c in img[::7]}
    assert len(colours) > 20
    # the floor is drawn in its green, the smoothed loss in its blue
    assert (np.abs(img.astype(int) - (0x18, 0x80, 0x38)).sum(axis=1) < 30).sum() > 100
    assert (np.abs(img.astype(int) - (0x1F, 0x6F, 0xD1)).sum(axis=1) < 30).sum() > 50


def test_png_figure_holds_the_run_and_a_bits_axis(tiny_run):
    from lossdoc.render.png import build_figure

    run = read_run(tiny_run)
    d = diagnose(run)
    fig = build_figure(chart_data(run, d), "en", (800, 450))
    ax = fig.axes[0]
    recs = records(tiny_run)
    floor = recs[0]["data"]["entropy_floor"]
    ydata = [list(line.get_ydata()) for line in ax.get_lines()]
    assert [floor, floor] in ydata  # the floor line
    vals = [r["val_loss"] for r in recs if r["type"] == "epoch"]
    assert any(np.allclose(y, vals) for y in ydata if len(y) == len(vals))  # validation per epoch
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()  # a secondary axis takes its limits when drawn
    sec = ax.child_axes[0]  # the bits axis on the right
    lo, hi = ax.get_ylim()
    assert sec.get_ylim() == pytest.approx((lo / math.log(2), hi / math.log(2)))
    assert sec.get_ylabel() == "bits/token" and ax.get_ylabel() == "loss (nats/token)"


def test_png_in_chinese_falls_back_to_english_without_a_cjk_font(tiny_run, tmp_path, monkeypatch):
    from lossdoc.render import png

    monkeypatch.setattr(png, "cjk_font", lambda: None)
    target = tmp_path / "zh.png"
    result = CliRunner().invoke(app, ["explain", str(tiny_run), "--report", str(target), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert png_size(target.read_bytes()) == (1000, 560)
    assert "fonts-noto-cjk" in result.output  # the one-line warning (stderr is mixed in by CliRunner)
    assert png.label_lang("zh") == ("en", None) and png.label_lang("en") == ("en", None)


def test_chinese_labels_use_a_cjk_font_when_there_is_one(tiny_run, monkeypatch):
    from lossdoc.render import png

    font = png.cjk_font()
    if font is None:
        pytest.skip("no CJK font on this machine (the fallback is tested above)")
    run = read_run(tiny_run)
    fig = png.build_figure(chart_data(run, diagnose(run)), "zh")
    assert fig.axes[0].get_xlabel() == "训练步数"


def test_png_without_matplotlib_is_a_one_line_install_hint(tiny_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    target = tmp_path / "x.png"
    assert cli_run(["explain", str(tiny_run), "--report", str(target)]) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and "pip install 'lossdoc[report]'" in lines[0]
    assert cap.out == "" and not target.exists()  # checked before anything was read or printed


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--report", "x.pdf"], ".png or .html"),
        (["--report", "x.png", "--size", "10x10"], "WIDTHxHEIGHT"),
        (["--report", "x.png", "--size", "big"], "WIDTHxHEIGHT"),
    ],
)
def test_bad_report_options_are_one_line(tiny_run, tmp_path, capsys, args, needle):
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    assert cli_run(["explain", str(tiny_run), *args]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_unwritable_report_is_one_line(tiny_run, tmp_path, capsys):
    assert cli_run(["explain", str(tiny_run), "--report", str(tmp_path / "missing" / "r.html")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "r.html" in err


def test_png_best_epoch_star_and_label_stay_inside_the_plot_at_the_last_epoch(tiny_run):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from lossdoc.render.png import build_figure

    run = read_run(tiny_run)
    d = diagnose(run)
    data = chart_data(run, d)
    best = next(m for m in data.marks if m.kind == "best")
    assert best.x == data.x_range()[1]  # the case of issue 24: the best epoch is the last point of the chart
    fig = build_figure(data, "en", (900, 500))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    ax = fig.axes[0]
    renderer = canvas.get_renderer()
    star = next(line for line in ax.get_lines() if line.get_marker() == "*")
    sx, _ = ax.transData.transform((best.x, best.y))
    half = star.get_markersize() / 72 * fig.dpi / 2
    assert ax.bbox.x0 <= sx - half and sx + half <= ax.bbox.x1  # the whole star inside the axes
    label = next(a for a in ax.texts if a.get_text().startswith("best"))
    box = label.get_window_extent(renderer)
    assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1
