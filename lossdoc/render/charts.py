"""Charts of a run: what to draw (ChartData, from a Run and its Diagnosis), and the terminal chart.

A renderer only: every point it marks comes from the Diagnosis or the Run, nothing is re-decided.

* Best epoch: the epoch the floor finding (``args["epoch"]``) or the overfitting finding
  (``args["best_epoch"]``) names.
* Overfitting start: when the overfitting finding fails, the epoch of the validation minimum.
* Non-finite steps: the Run's batches whose loss is NaN or infinite, and its ``nonfinite_loss`` events.
* Reference lines: ln V, the entropy floor and the unigram baseline from ``Diagnosis.facts``, when known.
* Smoothed training loss: the centred running median (``lossdoc.analysis.stats.rolling_median``) over
  ``max(5, 5% of the points)`` batches (an odd number). Runs longer than ``SMOOTH_MAX_POINTS`` batches
  are first cut into that many consecutive groups, each replaced by its median; the running median then
  runs over the group medians. A median ignores single spikes, so the line shows the level, not the noise.
* Raw batch losses are drawn downsampled: past ``max_points`` batches, the batches are cut into
  ``max_points // 2`` consecutive groups and the lowest and highest loss of each group are drawn, so the
  band of the noise and every spike stay visible while a 100k-batch log draws in milliseconds.

The terminal chart is drawn by plotext into a string, then printed through rich.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lossdoc.analysis import stats
from lossdoc.analysis.model import Diagnosis, Facts
from lossdoc.i18n import t
from lossdoc.render.diagnosis import EvalNames, epoch_phrase, eval_names
from lossdoc.runlog.run import Run

LN2 = math.log(2.0)
MAX_RAW_POINTS = 2000  # raw batch points drawn in a PNG or SVG
TERMINAL_RAW_POINTS = 400  # and in a terminal (about 2 braille dots per column)
SMOOTH_MAX_POINTS = 2000  # longer runs are smoothed over group medians
SMOOTH_FRACTION = 0.05
SMOOTH_MIN = 5
MAX_NONFINITE_MARKS = 50  # non-finite steps drawn; the legend gives the count
RAW_PERCENTILES = (0.5, 99.5)  # the y range covers this share of batch losses (spikes beyond are clipped)
GENERIC_NAMES = {"run.jsonl", "metrics.jsonl", "metrics.csv", "trainer_state.json"}
CHART_LIMIT = 1e12  # points with a larger |x| or |y| are not drawn: no loss, step or epoch is that large, and
# plotext's tick and range arithmetic overflows on numbers near the float limit


def _drawable(*arrays: np.ndarray) -> np.ndarray:
    """Where every array is finite and within CHART_LIMIT."""
    ok = np.ones(np.shape(arrays[0]), dtype=bool)
    with np.errstate(invalid="ignore"):
        for a in arrays:
            a = np.asarray(a, dtype=float)
            ok &= np.isfinite(a) & (np.abs(a) <= CHART_LIMIT)
    return ok


def tokens_of_floor(floor: float) -> int | str:
    """round(e^floor): how many equally likely tokens a random-data floor stands for ("∞" past the float range)."""
    return round(math.exp(floor)) if floor < 700 else "∞"


@dataclass
class Series:
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def empty(cls) -> Series:
        return cls(np.empty(0), np.empty(0))

    def __len__(self) -> int:
        return int(self.y.size)


@dataclass
class RefLine:
    kind: str  # ln_v | floor | floor_random | unigram
    y: float
    args: dict[str, Any]


@dataclass
class Mark:
    kind: str  # best | nonfinite | overfit
    x: float
    y: float | None  # None: a vertical line (overfit) or a mark at the top of the chart (nonfinite)
    args: dict[str, Any]


@dataclass
class ChartData:
    """Everything a chart of one run shows, as numbers; renderers add only styles and words."""

    name: str
    verdict: str
    x_kind: str  # step | epoch
    n_batches: int  # finite batch losses
    raw: Series  # downsampled for drawing
    raw_groups: int | None  # groups of the min/max downsampling, None when every batch is drawn
    raw_span: tuple[float, float] | None  # RAW_PERCENTILES of all finite batch losses
    smooth: Series
    smooth_window: int
    smooth_bucket: int  # batches per group the running median runs over (1: single batches)
    train_epoch: Series  # training loss per evaluation, drawn when there are no batch losses
    val: Series
    val_epoch: np.ndarray  # the epoch of each val point
    lines: list[RefLine] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    nonfinite_steps: list[float] = field(default_factory=list)  # all of them (marks hold at most MAX_NONFINITE_MARKS)
    names: EvalNames | None = None  # the framework's epochs of the evaluations, when the log gives them (eval_names)

    @property
    def empty(self) -> bool:
        return not (len(self.raw) or len(self.val) or len(self.train_epoch))

    def x_range(self) -> tuple[float, float]:
        xs = [s.x for s in (self.raw, self.smooth, self.train_epoch, self.val) if len(s)]
        xs.append(np.array([m.x for m in self.marks], dtype=float))
        allx = np.concatenate(xs) if xs else np.empty(0)
        allx = allx[np.isfinite(allx)]
        if not allx.size:
            return 0.0, 1.0
        lo, hi = float(allx.min()), float(allx.max())
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    def y_range(self) -> tuple[float, float]:
        """The losses and lines to show, padded by 4%; batch losses beyond RAW_PERCENTILES are clipped."""
        return y_range([self])


def y_range(datas: list[ChartData]) -> tuple[float, float]:
    parts: list[np.ndarray] = []
    for d in datas:
        parts += [
            d.smooth.y,
            d.val.y,
            d.train_epoch.y,
            np.array([ln.y for ln in d.lines], dtype=float),
            np.array([m.y for m in d.marks if m.y is not None], dtype=float),
        ]
        if d.raw_span is not None:
            parts.append(np.array(d.raw_span))
    vals = np.concatenate(parts) if parts else np.empty(0)
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return 0.0, 1.0
    lo, hi = float(vals.min()), float(vals.max())
    if hi - lo < 1e-9:
        return lo - 0.5, hi + 0.5
    pad = 0.04 * (hi - lo)
    return (max(lo - pad, 0.0) if lo >= 0 else lo - pad), hi + pad


# --------------------------------------------------------------------------- the numbers


def minmax_downsample(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray, int | None]:
    """At most ``max_points`` points of (x, y): the lowest and highest y of each of ``max_points // 2``
    consecutive groups, in their original order. Returns (x, y, groups), groups None when nothing was cut."""
    n = int(y.size)
    if n <= max_points:
        return x, y, None
    groups = max(1, max_points // 2)
    g = (np.arange(n) * groups) // n  # group of each point, non-decreasing
    order = np.lexsort((y, g))  # by group, then by loss
    starts = np.searchsorted(g[order], np.arange(groups))
    ends = np.r_[starts[1:], n] - 1
    idx = np.unique(np.r_[order[starts], order[ends]])
    return x[idx], y[idx], groups


def smooth_loss(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The smoothed line (module docstring): returns (x, y, window, batches per group)."""
    n = int(y.size)
    if n == 0:
        return x, y, 0, 1
    bucket = 1 if n <= SMOOTH_MAX_POINTS else math.ceil(n / SMOOTH_MAX_POINTS)
    if bucket > 1:
        m = math.ceil(n / bucket)
        pad = m * bucket - n
        xs = np.nanmedian(np.pad(x.astype(float), (0, pad), constant_values=np.nan).reshape(m, bucket), axis=1)
        ys = np.nanmedian(np.pad(y.astype(float), (0, pad), constant_values=np.nan).reshape(m, bucket), axis=1)
    else:
        xs, ys = x.astype(float), y.astype(float)
    window = max(SMOOTH_MIN, int(round(SMOOTH_FRACTION * ys.size)))
    window = min(window | 1, ys.size)
    return xs, stats.rolling_median(ys, window), window, bucket


def short_name(source: str) -> str:
    """The last part of a path, with its folder when the file name says nothing (run.jsonl)."""
    p = Path(source)
    if p.name in GENERIC_NAMES and p.parent.name:
        return f"{p.parent.name}/{p.name}"
    return p.name or source


def _epoch_steps(run: Run) -> np.ndarray:
    """The step of each evaluation row: logged, or interpolated from the batches' epochs."""
    e, b = run.epochs, run.batches
    x = np.asarray(e.step, dtype=float).copy()
    miss = ~np.isfinite(x)
    if miss.any():
        ok = np.isfinite(b.epoch) & np.isfinite(b.step)
        if ok.sum() >= 2:
            order = np.argsort(b.epoch[ok], kind="stable")
            x[miss] = np.interp(e.epoch[miss], b.epoch[ok][order], b.step[ok][order])
        x[miss & (e.epoch == 0)] = 0.0
    return x


def _batch_epochs(run: Run) -> np.ndarray:
    """The (fractional) epoch of each batch: its step placed between the steps of the evaluations around it
    (many logs give every batch of epoch 2 the epoch 2); the logged epoch when there are not two evaluations."""
    b, e = run.batches, run.epochs
    ok = np.isfinite(e.step) & np.isfinite(e.epoch)
    if ok.sum() >= 2:
        order = np.argsort(e.step[ok], kind="stable")
        return np.interp(b.step, e.step[ok][order], e.epoch[ok][order], left=np.nan)
    return np.asarray(b.epoch, dtype=float).copy()


def has_epoch_axis(run: Run) -> bool:
    """Can this run be drawn against epochs? (Batches need evaluations or logged epochs to be placed.)"""
    if not len(run.batches):
        return bool(len(run.epochs))
    return bool(np.isfinite(_batch_epochs(run)).any())


def _best_epoch(d: Diagnosis) -> Any:
    fl = d.finding("floor")
    if fl is not None and fl.args.get("epoch") is not None:
        return fl.args["epoch"]
    ov = d.finding("overfitting")
    if ov is not None and ov.args.get("best_epoch") is not None:
        return ov.args["best_epoch"]
    return None


def _ref_lines(facts: Facts) -> list[RefLine]:
    """Reference lines from Diagnosis.facts, when known and drawable: ln V, the entropy floor (drawn last, on
    top) and the unigram level."""
    lines: list[RefLine] = []
    if facts.ln_v is not None and _drawable(np.array([float(facts.ln_v)]))[0]:
        lines.append(RefLine("ln_v", float(facts.ln_v), {"vocab": facts.vocab_size}))
    if facts.entropy_floor is not None and _drawable(np.array([float(facts.entropy_floor)]))[0]:
        floor = float(facts.entropy_floor)
        if facts.random_data:
            lines.append(RefLine("floor_random", floor, {"n": tokens_of_floor(floor)}))
        else:
            lines.append(RefLine("floor", floor, {}))
    uni = facts.unigram_xent if facts.unigram_xent is not None else facts.unigram_entropy
    floor_known = facts.entropy_floor
    if uni is not None and _drawable(np.array([float(uni)]))[0] and not (floor_known is not None and abs(uni - floor_known) < 1e-9):
        lines.append(RefLine("unigram", float(uni), {}))
    lines.sort(key=lambda ln: ln.kind.startswith("floor"))  # the floor is drawn last, on top
    return lines


def chart_data(run: Run, d: Diagnosis, *, max_points: int = MAX_RAW_POINTS, x_kind: str = "auto") -> ChartData:
    """What to draw for ``run``. ``x_kind``: "auto" (steps when the log has batch losses, else epochs) or "epoch"."""
    b, e = run.batches, run.epochs
    kind = "step" if len(b) and x_kind == "auto" else "epoch"
    bx = np.asarray(b.step, dtype=float) if kind == "step" else _batch_epochs(run)
    ok = _drawable(b.loss, bx)
    x_b, y_b = bx[ok], np.asarray(b.loss, dtype=float)[ok]
    raw_x, raw_y, groups = minmax_downsample(x_b, y_b, max_points)
    sx, sy, window, bucket = smooth_loss(x_b, y_b)
    raw_span = (float(np.percentile(y_b, RAW_PERCENTILES[0])), float(np.percentile(y_b, RAW_PERCENTILES[1]))) if y_b.size else None

    ex = _epoch_steps(run) if kind == "step" else np.asarray(e.epoch, dtype=float)
    vok = _drawable(e.val_loss, ex)
    val = Series(ex[vok], np.asarray(e.val_loss, dtype=float)[vok])
    val_epoch = np.asarray(e.epoch, dtype=float)[vok]
    train_epoch = Series.empty()
    if not y_b.size:
        tok = _drawable(e.train_loss, ex)
        train_epoch = Series(ex[tok], np.asarray(e.train_loss, dtype=float)[tok])

    lines = _ref_lines(d.facts)

    marks: list[Mark] = []
    best = _best_epoch(d)
    if best is not None:
        rows = np.flatnonzero((val_epoch == float(best)) & (val_epoch >= 1))
        if rows.size:
            i = int(rows[0])
            marks.append(
                Mark(
                    "best",
                    float(val.x[i]),
                    float(val.y[i]),
                    {"epoch": _fmt_epoch(val_epoch[i]), "value": f"{val.y[i]:.4f}", "eval": float(val_epoch[i])},
                )
            )
    ov = d.finding("overfitting")
    if ov is not None and ov.status == "fail":
        start = ov.args.get("best_epoch")
        late = np.flatnonzero(val_epoch >= 1)
        if start is None and late.size:  # memorisation: the validation minimum is in the Run
            start = float(val_epoch[late[int(np.argmin(val.y[late]))]])
        rows = np.flatnonzero(val_epoch == float(start)) if start is not None else np.empty(0, dtype=int)
        if rows.size and start is not None:
            marks.append(Mark("overfit", float(val.x[int(rows[0])]), None, {"epoch": _fmt_epoch(float(start)), "eval": float(start)}))

    nonfinite: list[float] = []
    if len(b):
        bad = ~np.isfinite(b.loss) & _drawable(bx)
        nonfinite = [float(s) for s in bx[bad]]
        if kind == "step":
            nonfinite += [
                float(ev.step) for ev in run.events if ev.kind == "nonfinite_loss" and math.isfinite(ev.step) and abs(ev.step) <= CHART_LIMIT
            ]
        nonfinite = sorted(set(nonfinite))
    steps_text = ", ".join(_fmt_epoch(s) for s in nonfinite[:5]) + (f" … (+{len(nonfinite) - 5})" if len(nonfinite) > 5 else "")
    for s in nonfinite[:MAX_NONFINITE_MARKS]:
        marks.append(Mark("nonfinite", s, None, {"steps": steps_text}))

    return ChartData(
        name=short_name(run.source),
        verdict=d.verdict,
        x_kind=kind,
        n_batches=int(y_b.size),
        raw=Series(raw_x, raw_y),
        raw_groups=groups,
        raw_span=raw_span,
        smooth=Series(sx, sy),
        smooth_window=window,
        smooth_bucket=bucket,
        train_epoch=train_epoch,
        val=val,
        val_epoch=val_epoch,
        lines=lines,
        marks=marks,
        nonfinite_steps=nonfinite,
        names=eval_names(run),
    )


def _fmt_epoch(x: float) -> str:
    x = float(x)
    return str(int(x)) if x.is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------- words


def eval_label(data: ChartData, evaluation: float, shown: str, lang: str) -> str:
    """An evaluation as the chart names it: "epoch 3", or the framework's own "Lightning epoch 2, step 340"."""
    if data.names is not None and data.names.of(evaluation) is not None:
        return epoch_phrase(evaluation, lang, data.names)
    return t("eval.epoch", lang, epoch=shown)


def mark_label(data: ChartData, m: Mark, lang: str) -> str:
    """A mark's words (legend, PNG annotation); the best and overfit marks name their evaluation by eval_label."""
    args = dict(m.args)
    if "eval" in args:
        args["at_epoch"] = eval_label(data, args["eval"], args["epoch"], lang)
    return t(f"chart.{m.kind}", lang, **args)


def line_label(line: RefLine, lang: str) -> str:
    nats, bits = f"{line.y:.4f}", f"{line.y / LN2:.3f}"
    return t(f"chart.{line.kind}", lang, nats=nats, bits=bits, **line.args)


def legend(data: ChartData, lang: str) -> list[tuple[str, str]]:
    """(kind, text) for everything drawn, in drawing order; kinds name the styles renderers use."""
    items: list[tuple[str, str]] = []
    if len(data.raw):
        if data.raw_groups is None:
            items.append(("raw", t("chart.raw", lang, count=data.n_batches)))
        else:
            items.append(("raw", t("chart.raw_sampled", lang, count=data.n_batches, shown=data.raw_groups)))
        if data.smooth_bucket > 1:
            items.append(("smooth", t("chart.smooth_buckets", lang, window=data.smooth_window, bucket=data.smooth_bucket)))
        else:
            items.append(("smooth", t("chart.smooth", lang, window=data.smooth_window)))
    if len(data.train_epoch):
        items.append(("train_epoch", t("chart.train_epoch", lang)))
    if len(data.val):  # a log that numbers evaluations apart from the framework's epochs: per evaluation
        items.append(("val", t("chart.val_evals" if data.names is not None else "chart.val", lang)))
    for line in data.lines:
        items.append((line.kind, line_label(line, lang)))
    seen: set[str] = set()
    for m in data.marks:
        if m.kind in seen:
            continue
        seen.add(m.kind)
        items.append((m.kind, mark_label(data, m, lang)))
    return items


def title(data: ChartData, lang: str) -> str:
    return t("chart.title", lang, name=data.name, verdict=t(f"verdict.{data.verdict}", lang))


def axes_labels(x_kind: str, lang: str) -> tuple[str, str, str]:
    return t(f"chart.x.{x_kind}", lang), t("chart.y.nats", lang), t("chart.y.bits", lang)


# --------------------------------------------------------------------------- terminal

# One 256-colour code and one character per kind: the characters tell the lines apart without colour.
TERM_STYLE: dict[str, tuple[int, str]] = {
    "raw": (250, "braille"),
    "smooth": (33, "hd"),
    "train_epoch": (33, "o"),
    "val": (208, "o"),
    "ln_v": (244, "-"),
    "floor": (34, "="),
    "floor_random": (34, "="),
    "unigram": (135, "~"),
    "best": (220, "*"),
    "nonfinite": (196, "x"),
    "overfit": (202, "|"),
}
SYMBOL = {"braille": "⠄", "hd": "▄"}  # legend symbol for plotext's named markers
RUN_COLOURS = (33, 208, 34, 135, 196, 37, 172, 244)


def _term_canvas(width: int, height: int, xr: tuple[float, float], yr: tuple[float, float]):
    import plotext as plt

    plt.clf()
    plt.plotsize(width, height)
    plt.theme("clear")
    plt.xlim(*xr)
    plt.ylim(*yr)
    return plt


def _term_hline(plt, xr, y, marker, colour) -> None:
    xs = np.linspace(xr[0], xr[1], 2)
    plt.plot(list(xs), [y, y], marker=marker, color=colour)


def _finish(plt, color: bool) -> str:
    s = plt.build()
    plt.clf()
    return s if color else plt.uncolorize(s)


def terminal_chart(data: ChartData, *, width: int = 80, height: int = 18, color: bool = True) -> str:
    """The chart of one run as text ``width`` columns wide (ANSI colours when ``color``)."""
    xr, yr = data.x_range(), data.y_range()
    plt = _term_canvas(width, height, xr, yr)
    raw_x, raw_y, _ = minmax_downsample(data.raw.x, data.raw.y, TERMINAL_RAW_POINTS)
    if raw_y.size:
        c, m = TERM_STYLE["raw"]
        plt.scatter(list(raw_x), list(raw_y), marker=m, color=c)
    for line in data.lines:
        c, m = TERM_STYLE[line.kind]
        _term_hline(plt, xr, line.y, m, c)
    if len(data.smooth):
        c, m = TERM_STYLE["smooth"]
        plt.plot(list(data.smooth.x), list(data.smooth.y), marker=m, color=c)
    if len(data.train_epoch):
        c, m = TERM_STYLE["train_epoch"]
        plt.plot(list(data.train_epoch.x), list(data.train_epoch.y), marker=m, color=c)
    if len(data.val):
        c, m = TERM_STYLE["val"]
        plt.scatter(list(data.val.x), list(data.val.y), marker=m, color=c)
    for mk in sorted(data.marks, key=lambda m: m.kind != "overfit"):  # vertical lines under the points
        c, m = TERM_STYLE[mk.kind]
        if mk.kind == "overfit":
            plt.plot([mk.x, mk.x], list(yr), marker=m, color=c)
        elif mk.kind == "nonfinite":
            plt.scatter([mk.x], [yr[1]], marker=m, color=c)
        else:
            plt.scatter([mk.x], [mk.y], marker=m, color=c)
    return _finish(plt, color)


def terminal_compare_chart(datas: list[ChartData], *, width: int = 80, height: int = 18, color: bool = True) -> str:
    """Several runs on one chart: run i's training line is drawn with the digit i+1, its validation points
    with the letter A, B, ...; floors with '='."""
    xs = [d.x_range() for d in datas]
    xr = (min(a for a, _ in xs), max(b for _, b in xs))
    yr = y_range(datas)
    plt = _term_canvas(width, height, xr, yr)
    colours = [RUN_COLOURS[i % len(RUN_COLOURS)] for i in range(len(datas))]
    for d, colour in zip(datas, colours):  # floors first, validation points last: points stay visible
        for line in d.lines:
            if line.kind in ("floor", "floor_random"):
                _term_hline(plt, xr, line.y, "=", colour)
    for i, (d, colour) in enumerate(zip(datas, colours)):
        train = d.smooth if len(d.smooth) else d.train_epoch
        if len(train):
            plt.plot(list(train.x), list(train.y), marker=run_digit(i), color=colour)
    for i, (d, colour) in enumerate(zip(datas, colours)):
        if len(d.val):
            plt.scatter(list(d.val.x), list(d.val.y), marker=run_letter(i), color=colour)
    return _finish(plt, color)


def run_digit(i: int) -> str:
    return "123456789"[i % 9]


def run_letter(i: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % 26]


def compare_legend(datas: list[ChartData], lang: str) -> list[tuple[int, str, str]]:
    """(run index, symbol, text) for the compare chart."""
    items: list[tuple[int, str, str]] = []
    for i, d in enumerate(datas):
        name = d.name
        items.append((i, run_digit(i), t("chart.compare_train", lang, name=name)))
        if len(d.val):
            items.append((i, run_letter(i), t("chart.compare_val", lang, name=name)))
        for line in d.lines:
            if line.kind in ("floor", "floor_random"):
                items.append((i, "=", t("chart.compare_floor", lang, name=name, nats=f"{line.y:.4f}", bits=f"{line.y / LN2:.3f}")))
    return items


def _console_colour(console) -> bool:
    return not console.no_color and console.color_system is not None


def _chart_width(console) -> int:
    return max(40, min(int(console.width), 100))


def print_chart(console, data: ChartData, lang: str, *, height: int = 18) -> None:
    """The terminal chart of one run, its axis names and its legend, through a rich Console."""
    from rich.text import Text

    color = _console_colour(console)
    console.print(Text(title(data, lang), style="bold"))
    if data.empty:
        console.print(t("chart.empty", lang), markup=False)
        return
    chart = terminal_chart(data, width=_chart_width(console), height=height, color=color)
    _print_block(console, chart, color)
    x, y, _ = axes_labels(data.x_kind, lang)
    console.print(t("chart.axes", lang, x=x, y=y), markup=False)
    for kind, text in legend(data, lang):
        c, m = TERM_STYLE[kind]
        line = Text("  ")
        line.append(SYMBOL.get(m, m), style=f"color({c})" if color else "")
        line.append(" " + text)
        console.print(line)


def print_compare_chart(console, datas: list[ChartData], lang: str, *, height: int = 18) -> None:
    from rich.text import Text

    color = _console_colour(console)
    if all(d.empty for d in datas):
        console.print(t("chart.empty", lang), markup=False)
        return
    chart = terminal_compare_chart(datas, width=_chart_width(console), height=height, color=color)
    _print_block(console, chart, color)
    x, y, _ = axes_labels(datas[0].x_kind, lang)
    console.print(t("chart.axes", lang, x=x, y=y), markup=False)
    for i, sym, text in compare_legend(datas, lang):
        line = Text("  ")
        line.append(sym, style=f"color({RUN_COLOURS[i % len(RUN_COLOURS)]})" if color else "")
        line.append(" " + text)
        console.print(line)


def _print_block(console, chart: str, color: bool) -> None:
    from rich.text import Text

    for row in chart.rstrip("\n").split("\n"):
        text = Text.from_ansi(row) if color else Text(row)
        text.rstrip()
        console.print(text, no_wrap=True, overflow="crop", soft_wrap=False)
