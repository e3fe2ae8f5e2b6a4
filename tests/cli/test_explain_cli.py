import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdoc.cli import app, run

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def invoke(*args):
    return CliRunner().invoke(app, ["explain", *map(str, args)], env={"COLUMNS": "250"})


def test_default_dummy_run_is_an_expected_plateau_in_english(default_run):
    result = invoke(default_run, "--lang", "en")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Verdict: expected plateau" in text
    assert "ln V = ln 10000 = 9.2103" in text  # init loss against ln V
    assert "ln 9999 = 9.2102" in text  # the floor ln(V - 1)
    assert "above the floor" in text and "nats (" in text  # best val excess in nats and %
    # batch noise: either single batches dip below the floor by chance, or (here: rows seen twice) their
    # average itself is below it, which is early memorisation; both are named, with the batch sd
    # (the batch-noise finding is an info row: in the table of every check, --details)
    full = invoke(default_run, "--lang", "en", "--details").output
    assert ("Single training batches dip" in full) or ("Training batches end at" in full and "Single batches" in full)
    noise = next(f for f in json.loads(invoke(default_run, "--json").output)["findings"] if f["code"] == "batch-noise")
    assert noise["status"] == "info" and f"sd {noise['args']['sd']:.4f}" in noise["message"]


def test_default_dummy_run_in_chinese(default_run):
    result = invoke(default_run, "--lang", "zh")
    assert result.exit_code == 0, result.output
    text = result.output
    assert "结论：符合预期的平台期" in text
    assert "ln 9999 = 9.2102" in text and "根本没有规律可学" in text
    assert "不是训练失败" in text


def test_json_is_one_document_with_the_numbers(default_run):
    result = invoke(default_run, "--json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    assert doc["schema"] == "lossdoc.diagnosis/1" and doc["verdict"] == "expected-plateau"
    recs = [json.loads(x) for x in (default_run / "run.jsonl").read_text().splitlines()]
    best = min(r["val_loss"] for r in recs if r["type"] == "epoch" and r["epoch"] >= 1)
    assert doc["facts"]["best_val_loss"] == best
    assert doc["facts"]["entropy_floor"] == pytest.approx(9.21024036697585)
    codes = [f["code"] for f in doc["findings"]]
    assert codes[:5] == ["log", "nonfinite-loss", "init-loss", "scale", "floor"]
    assert all(f["message"] for f in doc["findings"])


def test_fail_on_sets_the_exit_code(tmp_path):
    from lossdoc.train.config import resolve_config
    from lossdoc.train.loop import train
    from tests.conftest import ROOT

    train(resolve_config(ROOT / "configs" / "faults.yaml", out=str(tmp_path / "r"), inject="zero-lr"))
    assert invoke(tmp_path / "r", "--fail-on", "broken").exit_code == 1
    assert invoke(tmp_path / "r", "--fail-on", "overfitting").exit_code == 1
    assert invoke(tmp_path / "r").exit_code == 0


@pytest.mark.parametrize(
    "setup, key",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_text(""), "holds no training records"),
        (lambda p: p.write_bytes(b"\x00\x01garbage"), "binary"),
        (lambda p: p.write_text('{"type": "batch"}\n'), "--train-col"),
    ],
)
def test_unreadable_logs_are_one_line_and_exit_2(tmp_path, capsys, setup, key):
    p = tmp_path / "run.jsonl"
    setup(p)
    assert run(["explain", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and key in err[0], err


def test_bad_flags_are_one_line(tmp_path, capsys, tiny_run):
    assert run(["explain", str(tiny_run), "--fail-on", "sometimes"]) == 2
    assert run(["explain", str(tiny_run), "--vocab-size", "1"]) == 2
    assert run(["explain", str(tiny_run), "--floor", "-1"]) == 2
    errs = capsys.readouterr().err.strip().splitlines()
    assert len(errs) == 3 and all(e.startswith("lossdoc: error: ") for e in errs)


def test_explain_never_imports_torch(tiny_run):
    """Nor pydantic: its RUN... values go through lossdoc's plain converter (lossdoc/cli/coercion.py), ~0.08 s of CPU less."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        f"import sys; from lossdoc.cli import run; assert run(['explain', {str(tiny_run)!r}, '--json']) == 0; "
        "assert 'torch' not in sys.modules; assert 'pydantic' not in sys.modules, 'pydantic'"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_overrides_supply_facts_for_a_log_without_them(tiny_run, tmp_path):
    lines = (tiny_run / "run.jsonl").read_text().splitlines()
    header = json.loads(lines[0])
    header["vocab_size"] = None
    header["data"] = {"kind": "unknown"}
    p = tmp_path / "run.jsonl"
    p.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    doc = json.loads(invoke(p, "--json").output)
    assert next(f for f in doc["findings"] if f["code"] == "init-loss")["status"] == "skipped"
    doc = json.loads(invoke(p, "--json", "--vocab-size", "64", "--random").output)
    assert doc["facts"]["entropy_floor"] == pytest.approx(__import__("math").log(64))
    assert next(f for f in doc["findings"] if f["code"] == "init-loss")["status"] != "skipped"


@pytest.mark.parametrize(
    "lang,verdict,floor_words,init_words",
    [
        ("en", "Verdict: expected plateau", "no model can do better than ln 9999 = 9.2102", "At initialisation the loss was 9.3812"),
        ("zh", "结论：符合预期的平台期", "任何模型的平均损失都不可能低于 ln 9999 = 9.2102", "初始化时损失为 9.3812"),
    ],
)
def test_the_seeds_console_with_no_flags(lang, verdict, floor_words, init_words):
    """The person in the seed passes no flags: the log's dummy-data line and the script's defaults are enough."""
    result = invoke(FIX / "seed_console" / ("seed_zh.txt" if lang == "zh" else "seed_en.txt"), "--lang", lang)
    assert result.exit_code == 0, result.output
    text = result.output
    assert verdict in text and floor_words in text and init_words in text
    assert ("script default" in text) if lang == "en" else ("脚本默认值" in text)  # the facts table names V's source


def test_pretrained_and_from_scratch_flags_are_one_option():
    result = invoke(FIX / "seed_console" / "seed_en.txt", "--pretrained", "--json")
    doc = json.loads(result.output)
    assert doc["facts"]["pretrained"] is True and doc["facts"]["sources"]["pretrained"]["kind"] == "flag"
    assert next(f for f in doc["findings"] if f["code"] == "init-loss")["message_key"].startswith("f.init.pretrained")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_default_runs_short_answer_fits_35_lines_at_100_columns(default_run, lang):
    result = CliRunner().invoke(app, ["explain", str(default_run), "--lang", lang], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) <= 35, result.output
    details = CliRunner().invoke(app, ["explain", str(default_run), "--lang", lang, "--details"], env={"COLUMNS": "100"})
    assert len(details.output.splitlines()) > len(result.output.splitlines())


def test_details_flag_shows_every_check_and_the_default_only_the_deciding_ones():
    log = FIX / "seed_console" / "seed_en.txt"
    short, full = invoke(log, "--lang", "en").output, invoke(log, "--lang", "en", "--details").output
    assert "Why this verdict" in short and "distance to floor" in short and "--details" in short
    checks = ("non-finite loss", "loss scale", "uniform output", "spikes", "val below train")
    assert all(c in full for c in checks) and not any(c in short for c in checks)
    doc = json.loads(invoke(log, "--json").output)
    assert len(doc["findings"]) == 14  # --json always carries every finding
