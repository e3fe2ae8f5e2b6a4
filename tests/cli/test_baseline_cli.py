"""`lossdoc baseline` through the CLI: normal runs with CliRunner, errors through run()."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdoc.cli import app, run

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _english_locale(monkeypatch):
    """Tests without --lang expect English, whatever the machine's locale."""
    monkeypatch.setenv("LC_ALL", "C.UTF-8")


def _flat(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines())


@pytest.mark.parametrize("lang,title", [("en", "Reference losses"), ("zh", "参考损失")])
def test_seed_numbers_in_both_languages(lang, title):
    res = runner.invoke(app, ["baseline", "--vocab-size", "10000", "--lang", lang])
    assert res.exit_code == 0, res.output
    out = res.output
    assert title in out
    for s in ("9.2103", "13.288", "10000", "9.2102", "9999", "9.3776", "0.5785", "9.1603", "9.7603"):
        assert s in out, s
    assert f"{math.log(10000):.4f}" == "9.2103" and f"{math.log2(10000):.3f}" == "13.288" and f"{math.log(9999):.4f}" == "9.2102"


def test_json_carries_the_same_numbers():
    res = runner.invoke(app, ["baseline", "--vocab-size", "10000", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["uniform"]["nats"] == pytest.approx(math.log(10000), rel=1e-15)
    assert doc["uniform"]["bits"] == pytest.approx(math.log2(10000), rel=1e-15)
    assert doc["uniform"]["perplexity"] == pytest.approx(10000)
    assert doc["dummy"]["nats"] == pytest.approx(math.log(9999), rel=1e-15)
    s2 = 1 / 3 + 1 / 768
    assert doc["init"]["logit_std"] == pytest.approx(math.sqrt(s2))
    assert doc["init"]["expected_nats"] == pytest.approx(math.log(10000) + s2 / 2 - math.expm1(s2) / 20000, abs=1e-6)
    assert doc["init"]["band"]["low"] == pytest.approx(math.log(10000) - 0.05)
    text = runner.invoke(app, ["baseline", "--vocab-size", "10000"]).output
    for value, nd in ((doc["init"]["expected_nats"], 4), (doc["init"]["band"]["low"], 4), (doc["init"]["band"]["high"], 4)):
        assert f"{value:.{nd}f}" in text
    # JSON is language-neutral
    assert json.loads(runner.invoke(app, ["baseline", "--vocab-size", "10000", "--json", "--lang", "zh"]).output) == doc


def test_loss_reading_and_json():
    res = runner.invoke(app, ["baseline", "--vocab-size", "10000", "--loss", "9.229"])
    assert res.exit_code == 0, res.output
    out = _flat(res.output)
    assert "Loss 9.2290 read against V = 10000" in out
    assert f"{math.exp(9.229):.0f}" in out and f"{9.229 / math.log(2):.3f}" in out
    assert f"{9.229 - math.log(9999):+.4f} nats" in out
    assert "KL divergence" in out
    doc = json.loads(runner.invoke(app, ["baseline", "--vocab-size", "10000", "--loss", "9.229", "--json"]).output)
    assert doc["loss"]["perplexity"] == pytest.approx(math.exp(9.229))
    assert doc["loss"]["excess_dummy_nats"] == pytest.approx(9.229 - math.log(9999))
    assert doc["loss"]["position"] == "near_floor"


def test_loss_in_chinese():
    res = runner.invoke(app, ["baseline", "--vocab-size", "10000", "--loss", "13.29", "--lang", "zh"])
    assert res.exit_code == 0
    out = _flat(res.output)
    assert "以 V = 10000 解读损失 13.2900" in out and "高于健康初始范围" in out and "以比特记录" in out


def test_init_logit_std_option():
    doc = json.loads(runner.invoke(app, ["baseline", "--vocab-size", "10000", "--init-logit-std", "1", "--json"]).output)
    assert doc["init"]["logit_std"] == 1.0 and doc["init"]["logit_std_source"] == "given" and doc["init"]["d_model"] is None
    assert doc["init"]["expected_nats"] == pytest.approx(math.log(10000) + 0.5 - math.expm1(1) / 20000, abs=1e-6)
    res = runner.invoke(app, ["baseline", "--vocab_size", "1e4", "--init_logit_std", "0"])
    assert res.exit_code == 0 and "σ = 0.0000 as given" in _flat(res.output)


def test_help_lists_the_options():
    res = runner.invoke(app, ["baseline", "--help"])
    assert res.exit_code == 0
    for opt in ("--vocab-size", "--loss", "--init-logit-std", "--json", "--lang"):
        assert opt in res.output


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["baseline", "--vocab-size", "1"], "integer >= 2"),
        (["baseline", "--vocab-size", "0"], "integer >= 2"),
        (["baseline", "--vocab-size", "abc"], "'abc'"),
        (["baseline", "--vocab-size", "2.5"], "'2.5'"),
        (["baseline", "--vocab-size", "nan"], "'nan'"),
        (["baseline"], "needs --vocab-size"),
        (["baseline", "--loss", "9.2"], "needs --vocab-size"),
        (["baseline", "--vocab-size", "100", "--loss", "abc"], "finite number"),
        (["baseline", "--vocab-size", "100", "--loss", "inf"], "finite number"),
        (["baseline", "--vocab-size", "100", "--loss", "-1"], "cannot be negative"),
        (["baseline", "--vocab-size", "100", "--init-logit-std", "-1"], "from 0 to 50"),
        (["baseline", "--vocab-size", "100", "--init-logit-std", "x"], "from 0 to 50"),
        (["baseline", "--vocab-size", "100", "--init-logit-std", "300"], "from 0 to 50"),
        (["baseline", "--vocab-size", "100", "--lang", "fr"], "unknown language"),
        (["baseline", "--vocab-size", "100", "--bogus"], "--bogus"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, needle, capsys):
    rc = run(argv)
    cap = capsys.readouterr()
    assert rc == 2
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1, cap.err
    assert lines[0].startswith("lossdoc: error: ") and needle in lines[0]
    assert "Traceback" not in cap.err and cap.out == ""


def test_bad_input_in_chinese(capsys):
    rc = run(["baseline", "--vocab-size", "1", "--lang", "zh"])
    cap = capsys.readouterr()
    assert rc == 2
    assert cap.err.strip().splitlines() == [
        "lossdoc: 错误: --vocab-size '1' 无效：词表大小必须是不小于 2 的整数（只有一个词元时没有什么可预测，损失恒为 0）"
    ]


def test_no_torch():
    # how fast it is: python benchmarks/baseline_speed.py (a number, not a test)
    code = (
        "import sys; from lossdoc.cli import run; "
        "rc = run(['baseline', '--vocab-size', '10000']); "
        "assert rc == 0; assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'datasets' not in sys.modules, 'datasets imported'"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "9.2103" in proc.stdout
