"""ChartData -> a PNG, with matplotlib (the optional extra ``lossdoc[report]``).

Loss in nats per token on the left axis, the same scale in bits per token (nats / ln 2) on the right.
Drawn on a bare ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no display needed.
Chinese labels need a CJK font; the first one matplotlib knows is used (see ``cjk_font``). Without
one the labels fall back to English and the caller says so.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from lossdoc.errors import LossdocError
from lossdoc.i18n import t
from lossdoc.render.charts import LN2, ChartData, axes_labels, legend, mark_label, run_digit, title, y_range

# families tried first, in order; after them any font that has the glyphs for Chinese
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "Sarasa Gothic SC",
    "AR PL UMing CN",
)
CJK_PROBE = "损失轮验证"
DIGITS = "0123456789"
# Fonts that claim every code point with placeholder boxes (matplotlib ships "Last Resort High-Efficiency"):
# a chart drawn with one shows every character, digits included, as an empty box.
PLACEHOLDER_FONTS = ("Last Resort",)

STYLE = {  # kind -> matplotlib keyword arguments
    "raw": dict(color="#9e9e9e", lw=0.6, alpha=0.55, zorder=1),
    "smooth": dict(color="#1f6fd1", lw=1.8, zorder=4),
    "train_epoch": dict(color="#1f6fd1", lw=1.6, marker="s", ms=4, zorder=4),
    "val": dict(color="#e8710a", lw=1.4, marker="o", ms=5, zorder=5),
    "ln_v": dict(color="#555555", lw=1.2, ls=(0, (6, 3)), zorder=2),
    "floor": dict(color="#188038", lw=1.6, zorder=3),
    "floor_random": dict(color="#188038", lw=1.6, zorder=3),
    "unigram": dict(color="#8e44ad", lw=1.2, ls=":", zorder=2),
    "best": dict(color="#f9ab00", marker="*", ms=15, mec="#7a5500", ls="none", zorder=6, clip_on=False),
    "nonfinite": dict(color="#d93025", marker="x", ms=7, mew=2, ls="none", zorder=6, clip_on=False),
    "overfit": dict(color="#c5221f", lw=1.2, ls="-.", zorder=3),
}
RUN_COLOURS = ("#1f6fd1", "#e8710a", "#188038", "#8e44ad", "#d93025", "#00838f", "#9e6a03", "#555555")


def require_matplotlib(path: str | Path) -> None:
    """Raise the one-line install hint when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    except ImportError:
        raise LossdocError("error.report_needs_matplotlib", path=str(path)) from None


def draws_chinese(path: str) -> bool:
    """Whether the font file has real glyphs for Chinese and for digits: every probe character maps to a
    glyph of its own. A placeholder font maps a whole Unicode block to one box glyph, so it fails."""
    from matplotlib import ft2font

    try:
        face = ft2font.FT2Font(path)
    except Exception:  # an unreadable font file is just not a candidate
        return False
    for chars in (CJK_PROBE, DIGITS):
        ids = [face.get_char_index(ord(ch)) for ch in chars]
        if not all(ids) or len(set(ids)) != len(ids):
            return False
    return True


def pick_cjk_font(fonts: dict[str, str]) -> str | None:
    """Among {family: file}, the preferred family that draws Chinese (CJK_FAMILIES first), or None."""
    usable = {n: f for n, f in fonts.items() if not any(n.startswith(bad) for bad in PLACEHOLDER_FONTS)}
    ordered = [n for n in CJK_FAMILIES if n in usable] + sorted(n for n in usable if n not in CJK_FAMILIES)
    return next((n for n in ordered if draws_chinese(usable[n])), None)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family name of a font with Chinese glyphs that matplotlib can use, or None."""
    from matplotlib import font_manager

    return pick_cjk_font({f.name: f.fname for f in font_manager.fontManager.ttflist})


def label_lang(lang: str) -> tuple[str, str | None]:
    """(the language the PNG's labels can be in, the CJK font to use for them)."""
    if lang != "zh":
        return lang, None
    font = cjk_font()
    return ("zh", font) if font else ("en", None)


def _rc(font: str | None) -> Any:  # a dict of rc settings (Any: matplotlib types its keys as a Literal of every rc name)
    rc: dict[str, Any] = {"axes.unicode_minus": False, "font.size": 10}
    if font:
        rc["font.sans-serif"] = [font, "DejaVu Sans"]
        rc["font.family"] = [font, "DejaVu Sans"]  # a list: glyphs the CJK font lacks come from DejaVu Sans
    return rc


def _axes(fig, x_kind: str, lang: str, yr):
    ax = fig.add_subplot(1, 1, 1)
    x, y, bits = axes_labels(x_kind, lang)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_ylim(*yr)
    ax.grid(True, color="#e6e6e6", lw=0.6, zorder=0)
    sec = ax.secondary_yaxis("right", functions=(lambda n: n / LN2, lambda b: b * LN2))
    sec.set_ylabel(bits)
    return ax


def build_figure(data: ChartData, lang: str, size: tuple[int, int] = (1000, 560)):
    """The chart of one run as a matplotlib Figure, ``size`` pixels at 100 dpi. ``lang`` must have a font."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / 100, size[1] / 100), dpi=100, layout="constrained")
    yr = data.y_range()
    ax = _axes(fig, data.x_kind, lang, yr)
    ax.set_title(title(data, lang))
    labels = dict(legend(data, lang))
    if len(data.raw):
        ax.plot(data.raw.x, data.raw.y, label=labels["raw"], **STYLE["raw"])
        ax.plot(data.smooth.x, data.smooth.y, label=labels["smooth"], **STYLE["smooth"])
    if len(data.train_epoch):
        ax.plot(data.train_epoch.x, data.train_epoch.y, label=labels["train_epoch"], **STYLE["train_epoch"])
    if len(data.val):
        ax.plot(data.val.x, data.val.y, label=labels["val"], **STYLE["val"])
    for line in data.lines:
        ax.axhline(line.y, label=labels[line.kind], **STYLE[line.kind])
    done: set[str] = set()
    for m in data.marks:
        label = labels[m.kind] if m.kind not in done else None
        done.add(m.kind)
        if m.kind == "overfit":
            ax.axvline(m.x, label=label, **STYLE["overfit"])
        elif m.kind == "nonfinite":
            ax.plot([m.x], [yr[1]], label=label, **STYLE["nonfinite"])
        else:
            ax.plot([m.x], [m.y], label=label, **STYLE[m.kind])
            ax.annotate(
                mark_label(data, m, lang),
                (m.x, m.y),
                xytext=(0, 12),
                textcoords="offset points",
                ha="right" if m.x > sum(data.x_range()) / 2 else "left",
                fontsize=8,
                color="#7a5500",
                annotation_clip=False,
            )
    lo, hi = data.x_range()
    ax.set_xlim(lo, hi + 0.02 * (hi - lo))  # room for the best-epoch star at the last epoch (it was cut in half)
    ax.legend(loc="best", fontsize=8, framealpha=0.92)
    return fig


def build_compare_figure(datas: list[ChartData], lang: str, size: tuple[int, int] = (1000, 560)):
    """Several runs on one chart: each run's smoothed training loss, validation points and floor, one colour per run."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] / 100, size[1] / 100), dpi=100, layout="constrained")
    ax = _axes(fig, datas[0].x_kind, lang, y_range(datas))
    ax.set_title(t("chart.compare_title", lang, count=len(datas)))
    for i, d in enumerate(datas):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        name = f"{run_digit(i)} {d.name}"  # the digit matches the compare table's run column
        verdict = t(f"verdict.{d.verdict}", lang)
        if len(d.raw):
            ax.plot(d.raw.x, d.raw.y, color=colour, lw=0.5, alpha=0.18, zorder=1)
        train = d.smooth if len(d.smooth) else d.train_epoch
        if len(train):
            ax.plot(train.x, train.y, color=colour, lw=1.8, zorder=4, label=t("chart.compare_train", lang, name=name) + f" ({verdict})")
        if len(d.val):
            ax.plot(d.val.x, d.val.y, color=colour, lw=1.0, ls="--", marker="o", ms=4, zorder=5, label=t("chart.compare_val", lang, name=name))
        for line in d.lines:
            if line.kind in ("floor", "floor_random"):
                ax.axhline(
                    line.y,
                    color=colour,
                    lw=1.2,
                    ls=(0, (2, 2)),
                    zorder=2,
                    label=t("chart.compare_floor", lang, name=name, nats=f"{line.y:.4f}", bits=f"{line.y / LN2:.3f}"),
                )
    xs = [d.x_range() for d in datas]
    ax.set_xlim(min(a for a, _ in xs), max(b for _, b in xs))
    ax.legend(loc="best", fontsize=8, framealpha=0.92)
    return fig


def figure_png(fig) -> bytes:
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def render_png(datas: list[ChartData], lang: str, size: tuple[int, int], *, compare: bool = False) -> tuple[bytes, str]:
    """PNG bytes of one run (or several with ``compare``) and the language its labels are in."""
    import matplotlib

    used, font = label_lang(lang)
    with matplotlib.rc_context(_rc(font)):
        fig = build_compare_figure(datas, used, size) if compare else build_figure(datas[0], used, size)
        return figure_png(fig), used
