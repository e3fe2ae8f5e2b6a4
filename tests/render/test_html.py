"""The HTML report: one self-contained file with the verdict, the findings, the explanation and the chart."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdoc.analysis import diagnose
from lossdoc.cli import app
from lossdoc.i18n import t
from lossdoc.render.charts import chart_data
from lossdoc.render.html import html_report, nice_ticks
from lossdoc.runlog.readers import read_run


def records(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "run.jsonl").read_text().splitlines()]


def write_html(run_dir: Path, target: Path, lang: str) -> str:
    result = CliRunner().invoke(app, ["explain", str(run_dir), "--report", str(target), "--lang", lang])
    assert result.exit_code == 0, result.output
    return target.read_text(encoding="utf-8")


def attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_carries_the_verdict_findings_explanation_and_chart(tiny_run, tmp_path, lang):
    page = write_html(tiny_run, tmp_path / "r.html", lang)
    d = diagnose(read_run(tiny_run))
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert f'lang="{"zh-CN" if lang == "zh" else "en"}"' in page
    assert t("ui.verdict", lang, verdict=t(f"verdict.{d.verdict}", lang)) in page
    assert t(f"headline.{d.verdict}", lang) in page
    for code in ("init-loss", "floor", "overfitting"):
        assert f'<tr class="f-{code}">' in page and t(f"check.{code}", lang) in page
    assert t("ui.explanation", lang) in page and '<p class="explanation">' in page
    assert page.count("<svg") == 1 and "</svg>" in page
    if lang == "zh":
        assert "验证损失" in page and "结论：" in page


def test_html_is_self_contained(tiny_run, tmp_path):
    page = write_html(tiny_run, tmp_path / "r.html", "en")
    low = page.lower()
    for needle in ("http://", "https://", "<script", "<link", "src=", "@import", "<img"):
        assert needle not in low, needle
    assert "<style>" in page  # inline CSS


def test_the_embedded_chart_draws_the_runs_numbers_to_scale(tiny_run, tmp_path):
    page = write_html(tiny_run, tmp_path / "r.html", "en")
    recs = records(tiny_run)
    vals = {r["epoch"]: r["val_loss"] for r in recs if r["type"] == "epoch"}
    circles = [attrs(c) for c in re.findall(r'<circle class="val"[^>]*>', page)]
    assert {int(c["data-epoch"]): float(c["data-loss"]) for c in circles} == pytest.approx(vals, abs=1e-6)
    # the pixel scale, from two points, puts the floor line where its value says
    floor = recs[0]["data"]["entropy_floor"]
    line = attrs(re.search(r'<line class="ref floor[^"]*"[^>]*>', page).group(0))
    assert float(line["data-loss"]) == pytest.approx(floor, abs=1e-6)
    (a, b) = sorted(circles, key=lambda c: float(c["data-loss"]))[:: len(circles) - 1]
    la, lb, ya, yb = float(a["data-loss"]), float(b["data-loss"]), float(a["cy"]), float(b["cy"])
    predicted = ya + (floor - la) * (yb - ya) / (lb - la)
    assert float(line["y1"]) == pytest.approx(predicted, abs=0.2)
    assert yb < ya  # higher loss is higher up
    # the batch losses are drawn, and the best epoch is ringed
    assert '<polyline class="raw"' in page and '<polyline class="smooth"' in page
    best = min((v, e) for e, v in vals.items() if e >= 1)[1]
    assert f'class="mark best" data-epoch="{best}"' in page


def test_text_is_escaped(tiny_run, tmp_path):
    odd = tmp_path / "a<b>&c"
    shutil.copytree(tiny_run, odd, ignore=shutil.ignore_patterns("checkpoints"))
    page = write_html(odd, tmp_path / "r.html", "en")
    assert "a<b>&c" not in page and "a&lt;b&gt;&amp;c" in page


def test_nice_ticks_are_round_and_cover_the_range():
    ticks, decimals = nice_ticks(9.15, 9.62, 6)
    assert ticks == pytest.approx([9.2, 9.3, 9.4, 9.5, 9.6]) and decimals == 1
    ticks, decimals = nice_ticks(0, 226, 6)
    assert ticks == pytest.approx([0, 50, 100, 150, 200]) and decimals == 0
    ticks, decimals = nice_ticks(13.2, 13.88, 6)
    assert all(13.2 <= x <= 13.88 for x in ticks) and decimals == 1


def test_html_of_a_log_without_batches_draws_the_epoch_losses():
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "generic" / "keras_epochs.csv"
    run = read_run(fixture)
    d = diagnose(run)
    data = chart_data(run, d)
    assert data.x_kind == "epoch" and len(data.train_epoch) == 4
    page = html_report(run, d, data, "en")
    assert '<polyline class="train-epoch"' in page and "training loss per epoch" in page
    assert "bits/token" in page  # the bits axis is there
