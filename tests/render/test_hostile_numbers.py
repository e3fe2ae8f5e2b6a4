"""Renderers survive numbers no reader lets through any more (issue #18): they are the last line of defence."""

from __future__ import annotations

import io

import numpy as np
from rich.console import Console

from lossdoc.analysis import diagnose
from lossdoc.render import charts
from lossdoc.render.diagnosis import render_diagnosis
from lossdoc.runlog.run import BatchSeries, EpochSeries, Run


def _run(**kw) -> Run:
    n = 40
    step = np.arange(1.0, n + 1)
    loss = 5.0 - step / 100
    loss[[5, 6, 7]] = [1e308, -1e308, np.inf]
    b = BatchSeries(step, np.ones(n), loss, np.full(n, 1e-3), np.full(n, 0.5), np.full(n, 100.0))
    e = EpochSeries(np.array([1.0, 2.0]), np.array([20.0, 40.0]), np.array([4.8, 4.7]), np.array([4.85, 1.7e308]), np.full(2, 100.0))
    return Run(source="x.jsonl", format="jsonl", batches=b, epochs=e, **kw)


def test_tokens_of_a_floor_past_the_float_range():
    assert charts.tokens_of_floor(np.log(1000.0)) == 1000
    assert charts.tokens_of_floor(800.0) == "∞"


def test_a_random_floor_of_800_nats_renders_and_plots():
    run = _run(vocab_size=64, entropy_floor=800.0, random_data=True)  # what sanitize() would refuse; the renderers must not crash
    d = diagnose(run)
    buf = io.StringIO()
    render_diagnosis(Console(file=buf, width=100), d, run, "en")
    assert "∞" in buf.getvalue()
    data = charts.chart_data(run, d)
    assert all(np.isfinite(data.raw.y)) and all(abs(data.raw.y) <= charts.CHART_LIMIT)
    text = charts.terminal_chart(data, width=80, height=16, color=False)
    assert text.strip()
