"""A run (or several) as one self-contained HTML file: inline CSS, the chart as inline SVG.

No scripts, no links, no fonts or images to fetch: the file opens offline and can be mailed around.
The SVG is drawn here from the ChartData (polylines, circles, lines), so it needs no dependency.
Every piece of text goes through html.escape.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from lossdoc import __version__
from lossdoc.analysis.model import Diagnosis
from lossdoc.i18n import t
from lossdoc.render.charts import (
    LN2,
    ChartData,
    axes_labels,
    compare_legend,
    eval_label,
    legend,
    minmax_downsample,
    run_letter,
    title,
    y_range,
)
from lossdoc.render.diagnosis import eval_names, explanation, finding_sentence, fmt
from lossdoc.runlog.run import Run

COLOURS = {
    "raw": "#b0b0b0",
    "smooth": "#1f6fd1",
    "train_epoch": "#1f6fd1",
    "val": "#e8710a",
    "ln_v": "#555555",
    "floor": "#188038",
    "floor_random": "#188038",
    "unigram": "#8e44ad",
    "best": "#f9ab00",
    "nonfinite": "#d93025",
    "overfit": "#c5221f",
}
DASH = {"ln_v": "7 4", "unigram": "2 3", "overfit": "8 3 2 3"}
RUN_COLOURS = ("#1f6fd1", "#e8710a", "#188038", "#8e44ad", "#d93025", "#00838f", "#9e6a03", "#555555")
SVG_RAW_POINTS = 1200

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
 margin:0;background:#f7f7f5;color:#202124;line-height:1.5}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:1.35em;margin:0 0 12px;word-break:break-all}h2{font-size:1.1em;margin:28px 0 8px}
.verdict{border-left:6px solid #888;background:#fff;padding:12px 16px;border-radius:4px}
.verdict p{margin:4px 0}.verdict .v{font-size:1.25em;font-weight:700}
.v-broken{border-color:#d93025}.v-overfitting{border-color:#f9ab00}.v-expected-plateau,.v-converged{border-color:#188038}
.v-still-learning{border-color:#1f6fd1}
figure{margin:0;background:#fff;padding:8px;border-radius:4px}svg{width:100%;height:auto;display:block}
svg text{font-size:12px;fill:#333}svg .title{font-size:14px;font-weight:600}
.legend{list-style:none;padding:0;margin:8px 0 0;font-size:.9em}.legend li{margin:2px 0}
.sw{display:inline-block;width:22px;height:0;border-top:3px solid;vertical-align:middle;margin-right:8px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.92em}
th,td{border-bottom:1px solid #e3e3e3;padding:6px 8px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nw{white-space:nowrap}
.s-ok{color:#188038}.s-info{color:#1f6fd1}.s-warn{color:#b06000}.s-fail{color:#d93025;font-weight:700}.s-skipped{color:#888}
footer{margin-top:32px;color:#777;font-size:.85em;word-break:break-all}
"""


# --------------------------------------------------------------------------- SVG


def nice_ticks(lo: float, hi: float, n: int = 6) -> tuple[list[float], int]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi], and the decimals they need."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo], 2
    raw = span / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]
    return ticks, max(0, -int(math.floor(math.log10(step))))


class _Frame:
    """Pixel mapping of a plot area."""

    def __init__(self, width: int, height: int, xr, yr, left=74, right=74, top=34, bottom=48):
        self.w, self.h = width, height
        self.l, self.r, self.t, self.b = left, width - right, top, height - bottom
        self.xr, self.yr = xr, yr

    def px(self, x: float) -> float:
        x0, x1 = self.xr
        return self.l + (x - x0) / (x1 - x0) * (self.r - self.l)

    def py(self, y: float) -> float:
        y0, y1 = self.yr
        return self.t + (y1 - y) / (y1 - y0) * (self.b - self.t)


def _pts(f: _Frame, x: np.ndarray, y: np.ndarray) -> str:
    return " ".join(f"{f.px(a):.1f},{f.py(b):.1f}" for a, b in zip(x, y))


def _axes_svg(f: _Frame, x_kind: str, lang: str, heading: str, clip: str) -> list[str]:
    xl, yl, bl = axes_labels(x_kind, lang)
    out = [
        f'<rect x="{f.l}" y="{f.t}" width="{f.r - f.l}" height="{f.b - f.t}" fill="#fff" stroke="#999"/>',
        f'<clipPath id="{clip}"><rect x="{f.l}" y="{f.t}" width="{f.r - f.l}" height="{f.b - f.t}"/></clipPath>',
        f'<text class="title" x="{(f.l + f.r) / 2:.0f}" y="20" text-anchor="middle">{escape(heading)}</text>',
    ]
    yt, yd = nice_ticks(*f.yr)
    for v in yt:
        y = f.py(v)
        out.append(f'<line x1="{f.l}" x2="{f.r}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ececec"/>')
        out.append(f'<text x="{f.l - 6}" y="{y + 4:.1f}" text-anchor="end">{v:.{yd}f}</text>')
    bt, bd = nice_ticks(f.yr[0] / LN2, f.yr[1] / LN2)
    for v in bt:
        y = f.py(v * LN2)
        out.append(f'<line x1="{f.r}" x2="{f.r + 5}" y1="{y:.1f}" y2="{y:.1f}" stroke="#999"/>')
        out.append(f'<text x="{f.r + 8}" y="{y + 4:.1f}">{v:.{bd}f}</text>')
    xt, xd = nice_ticks(*f.xr)
    for v in xt:
        x = f.px(v)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{f.b}" y2="{f.b + 5}" stroke="#999"/>')
        out.append(f'<text x="{x:.1f}" y="{f.b + 18}" text-anchor="middle">{v:.{xd}f}</text>')
    cy = (f.t + f.b) / 2
    out.append(f'<text x="{(f.l + f.r) / 2:.0f}" y="{f.h - 8}" text-anchor="middle">{escape(xl)}</text>')
    out.append(f'<text x="16" y="{cy:.0f}" text-anchor="middle" transform="rotate(-90 16 {cy:.0f})">{escape(yl)}</text>')
    out.append(f'<text x="{f.w - 14}" y="{cy:.0f}" text-anchor="middle" transform="rotate(90 {f.w - 14} {cy:.0f})">{escape(bl)}</text>')
    return out


def svg_chart(data: ChartData, lang: str, *, width: int = 960, height: int = 460, chart_id: str = "c0") -> str:
    """The chart of one run as an inline <svg> element."""
    xr, yr = data.x_range(), data.y_range()
    f = _Frame(width, height, xr, yr)
    clip = f"{chart_id}-clip"
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title(data, lang))}">']
    parts += _axes_svg(f, data.x_kind, lang, title(data, lang), clip)
    labels = dict(legend(data, lang))
    g = [f'<g clip-path="url(#{clip})">']
    raw_x, raw_y, _ = minmax_downsample(data.raw.x, data.raw.y, SVG_RAW_POINTS)
    if raw_y.size:
        g.append(f'<polyline class="raw" fill="none" stroke="{COLOURS["raw"]}" stroke-width="0.8" points="{_pts(f, raw_x, raw_y)}"/>')
    for line in data.lines:
        y = f.py(line.y)
        dash = f' stroke-dasharray="{DASH[line.kind]}"' if line.kind in DASH else ""
        g.append(
            f'<line class="ref {line.kind}" data-loss="{line.y:.6f}" x1="{f.l}" x2="{f.r}" y1="{y:.2f}" y2="{y:.2f}" '
            f'stroke="{COLOURS[line.kind]}" stroke-width="1.6"{dash}><title>{escape(labels[line.kind])}</title></line>'
        )
    for m in data.marks:
        if m.kind == "overfit":
            x = f.px(m.x)
            g.append(
                f'<line class="mark overfit" x1="{x:.1f}" x2="{x:.1f}" y1="{f.t}" y2="{f.b}" stroke="{COLOURS["overfit"]}" '
                f'stroke-width="1.4" stroke-dasharray="{DASH["overfit"]}"><title>{escape(labels["overfit"])}</title></line>'
            )
    if len(data.smooth):
        g.append(
            f'<polyline class="smooth" fill="none" stroke="{COLOURS["smooth"]}" stroke-width="2" points="{_pts(f, data.smooth.x, data.smooth.y)}"/>'
        )
    if len(data.train_epoch):
        g.append(
            f'<polyline class="train-epoch" fill="none" stroke="{COLOURS["train_epoch"]}" stroke-width="2" '
            f'points="{_pts(f, data.train_epoch.x, data.train_epoch.y)}"/>'
        )
    if len(data.val):
        g.append(f'<polyline class="val" fill="none" stroke="{COLOURS["val"]}" stroke-width="1.5" points="{_pts(f, data.val.x, data.val.y)}"/>')
        for x, y, e in zip(data.val.x, data.val.y, data.val_epoch):
            # the framework's own epoch beside lossdoc's evaluation number, where the log gives it
            named = data.names.of(e) if data.names is not None else None
            extra = f' data-trainer-epoch="{named[0]:g}"' if named is not None else ""
            shown = eval_label(data, e, f"{e:g}", lang) if named is not None else f"{e:g}"
            g.append(
                f'<circle class="val" data-epoch="{e:g}"{extra} data-loss="{y:.6f}" cx="{f.px(x):.2f}" cy="{f.py(y):.2f}" r="4" '
                f'fill="{COLOURS["val"]}"><title>{escape(labels["val"])}: {escape(shown)} → {y:.4f}</title></circle>'
            )
    for m in data.marks:
        if m.kind == "best" and m.y is not None:
            g.append(
                f'<circle class="mark best" data-epoch="{escape(str(m.args["epoch"]))}" cx="{f.px(m.x):.2f}" cy="{f.py(m.y):.2f}" r="8" '
                f'fill="none" stroke="{COLOURS["best"]}" stroke-width="3"><title>{escape(labels["best"])}</title></circle>'
            )
        elif m.kind == "nonfinite":
            x = f.px(m.x)
            g.append(
                f'<path class="mark nonfinite" d="M{x - 5:.1f},{f.t + 3} l10,10 m0,-10 l-10,10" stroke="{COLOURS["nonfinite"]}" '
                f'stroke-width="2.5"><title>{escape(labels["nonfinite"])}</title></path>'
            )
    g.append("</g>")
    parts += g
    parts.append("</svg>")
    return "\n".join(parts)


def svg_compare_chart(datas: list[ChartData], lang: str, *, width: int = 960, height: int = 460, chart_id: str = "cmp") -> str:
    xs = [d.x_range() for d in datas]
    xr = (min(a for a, _ in xs), max(b for _, b in xs))
    f = _Frame(width, height, xr, y_range(datas))
    clip = f"{chart_id}-clip"
    heading = t("chart.compare_title", lang, count=len(datas))
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(heading)}">']
    parts += _axes_svg(f, datas[0].x_kind, lang, heading, clip)
    parts.append(f'<g clip-path="url(#{clip})">')
    for i, d in enumerate(datas):
        c = RUN_COLOURS[i % len(RUN_COLOURS)]
        for line in d.lines:
            if line.kind in ("floor", "floor_random"):
                y = f.py(line.y)
                parts.append(
                    f'<line class="ref floor run-{i}" data-loss="{line.y:.6f}" x1="{f.l}" x2="{f.r}" y1="{y:.2f}" y2="{y:.2f}" '
                    f'stroke="{c}" stroke-width="1.4" stroke-dasharray="3 3"/>'
                )
        train = d.smooth if len(d.smooth) else d.train_epoch
        if len(train):
            parts.append(f'<polyline class="train run-{i}" fill="none" stroke="{c}" stroke-width="2" points="{_pts(f, train.x, train.y)}"/>')
        if len(d.val):
            parts.append(
                f'<polyline class="val run-{i}" fill="none" stroke="{c}" stroke-width="1" stroke-dasharray="5 3" '
                f'points="{_pts(f, d.val.x, d.val.y)}"/>'
            )
            for x, y, e in zip(d.val.x, d.val.y, d.val_epoch):
                parts.append(
                    f'<circle class="val run-{i}" data-epoch="{e:g}" data-loss="{y:.6f}" cx="{f.px(x):.2f}" cy="{f.py(y):.2f}" '
                    f'r="4" fill="{c}"><title>{escape(run_letter(i))} {escape(d.name)}: {e:g} → {y:.4f}</title></circle>'
                )
    parts.append("</g></svg>")
    return "\n".join(parts)


def _legend_html(items: list[tuple[str, str]]) -> str:
    rows = []
    for colour, text in items:
        rows.append(f'<li><span class="sw" style="border-color:{colour}"></span>{escape(text)}</li>')
    return '<ul class="legend">' + "".join(rows) + "</ul>"


# --------------------------------------------------------------------------- pages


def _page(lang: str, heading: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}">',
            '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(heading)}</title><style>{CSS}</style></head>",
            "<body><main>",
            f"<h1>{escape(heading)}</h1>",
            *body,
            "</main></body></html>",
            "",
        ]
    )


def _verdict_block(d: Diagnosis, lang: str, name: str | None = None) -> str:
    head = t("ui.verdict", lang, verdict=t(f"verdict.{d.verdict}", lang))
    who = f"<p><strong>{escape(name)}</strong></p>" if name else ""
    return (
        f'<section class="verdict v-{escape(d.verdict)}">{who}<p class="v">{escape(head)}</p>'
        f"<p>{escape(t(f'headline.{d.verdict}', lang))}</p></section>"
    )


def html_report(run: Run, d: Diagnosis, data: ChartData, lang: str) -> str:
    """The whole explanation of one run as an HTML page: verdict, chart, findings, explanation, next steps."""
    body = [_verdict_block(d, lang)]
    body.append(f"<h2>{escape(t('report.chart', lang))}</h2><figure>")
    if data.empty:
        body.append(f"<p>{escape(t('chart.empty', lang))}</p>")
    else:
        body.append(svg_chart(data, lang))
        body.append(_legend_html([(COLOURS[k], text) for k, text in legend(data, lang)]))
    body.append("</figure>")
    body.append(f"<h2>{escape(t('report.findings', lang))}</h2><table><thead><tr>")
    for col in ("check", "status", "measured", "reference", "meaning"):
        body.append(f"<th>{escape(t(f'ui.col.{col}', lang))}</th>")
    body.append("</tr></thead><tbody>")
    names = eval_names(run)
    for f in d.findings:
        body.append(
            f'<tr class="f-{escape(f.code)}"><td class="nw">{escape(t(f"check.{f.code}", lang))}</td>'
            f'<td class="s-{escape(f.status)} nw">{escape(t(f"status.{f.status}", lang))}</td>'
            f'<td class="num">{escape(fmt(f.measured))}</td><td class="num">{escape(fmt(f.reference))}</td>'
            f"<td>{escape(finding_sentence(f, lang, names))}</td></tr>"
        )
    body.append("</tbody></table>")
    if run.warnings:
        body.append(f"<h2>{escape(t('ui.notes', lang))}</h2><ul>")
        body += [f"<li>{escape(t(w.key, lang, **w.args))}</li>" for w in run.warnings]
        body.append("</ul>")
    sep = " " if lang == "en" else ""
    body.append(f'<h2>{escape(t("ui.explanation", lang))}</h2><p class="explanation">{escape(sep.join(explanation(d, lang, names)))}</p>')
    if d.next_steps:
        body.append(f"<h2>{escape(t('ui.next', lang))}</h2><ul>")
        body += [f"<li>{escape(t(k, lang))}</li>" for k in d.next_steps]
        body.append("</ul>")
    body.append(f"<footer>{escape(t('report.footer', lang, version=__version__, source=run.source))}</footer>")
    return _page(lang, t("report.title", lang, name=data.name), body)


def compare_html(items: list[tuple[Run, Diagnosis]], datas: list[ChartData], rows: list[dict], lang: str) -> str:
    """Several runs: the comparison table, one overlay chart, and each run's verdict."""
    body = [f"<h2>{escape(t('report.runs', lang))}</h2><table><thead><tr>"]
    cols = ("run", "format", "verdict", "init", "best", "floor", "excess", "epochs")
    body += [f"<th>{escape(t(f'compare.col.{c}', lang))}</th>" for c in cols]
    body.append("</tr></thead><tbody>")
    for row in rows:
        body.append(
            "<tr>"
            + "".join(f'<td class="{"num" if c in ("init", "best", "floor", "excess", "epochs") else c}">{escape(row["text"][c])}</td>' for c in cols)
            + "</tr>"
        )
    body.append("</tbody></table>")
    body.append(f"<h2>{escape(t('report.chart', lang))}</h2><figure>")
    body.append(svg_compare_chart(datas, lang))
    body.append(_legend_html([(RUN_COLOURS[i % len(RUN_COLOURS)], f"{sym} · {text}") for i, sym, text in compare_legend(datas, lang)]))
    body.append("</figure>")
    for (run, d), data in zip(items, datas):
        body.append(_verdict_block(d, lang, data.name))
        sep = " " if lang == "en" else ""
        body.append(f'<p class="explanation">{escape(sep.join(explanation(d, lang, eval_names(run))))}</p>')
    body.append(f"<footer>{escape(t('report.footer', lang, version=__version__, source=', '.join(r.source for r, _ in items)))}</footer>")
    return _page(lang, t("report.compare_title", lang, count=len(items)), body)
