"""The seed's path, walked as a new user (issue #12): find the run, run the seed's own flags, read the output."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

from typer.testing import CliRunner

from lossdoc.cli import app, run
from tests.conftest import TINY


def _copy_run(src: Path, dst: Path, mtime: float | None = None) -> Path:
    shutil.copytree(src, dst)
    if mtime is not None:
        os.utime(dst / "run.jsonl", (mtime, mtime))
    return dst


# ---- 1. finding the run ------------------------------------------------------------------------------------


def test_train_writes_run_jsonl_and_ends_with_the_explain_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["train", "--config", str(TINY), "--lang", "en"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    (folder,) = (tmp_path / "runs").iterdir()  # no --out: the run goes to ./runs/<run id>
    assert (folder / "run.jsonl").is_file() and not (folder / "metrics.jsonl").exists()
    last = result.output.strip().splitlines()[-1]
    assert last == f"Explain this run again: lossdoc explain runs/{folder.name}/run.jsonl"
    again = CliRunner().invoke(app, shlex.split(last.split(": ", 1)[1])[1:] + ["--lang", "en"])
    assert again.exit_code == 0 and "Verdict:" in again.output


def test_explain_without_a_run_takes_the_newest_under_runs_and_says_so(tiny_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _copy_run(tiny_run, tmp_path / "runs" / "old", mtime=1_700_000_000)
    _copy_run(tiny_run, tmp_path / "runs" / "new", mtime=1_800_000_000)
    (tmp_path / "runs" / "not-a-run").mkdir()
    for args in ([], ["runs/"], ["runs"], ["run.jsonl"]):
        result = CliRunner().invoke(app, ["explain", *args, "--lang", "en"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        assert f"Explaining the newest run in runs: {Path('runs') / 'new'}" in result.stderr, args
        assert "lossdoc explain: runs/new/run.jsonl" in result.stdout
    as_json = CliRunner().invoke(app, ["explain", "--json"])
    assert json.loads(as_json.stdout)["source"] == "runs/new/run.jsonl"  # the note went to stderr: stdout stays JSON
    zh = CliRunner().invoke(app, ["explain", "--lang", "zh"])
    assert "正在解释 runs 中最新的一次训练" in zh.stderr


def test_explain_without_a_run_and_no_runs_folder_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run(["explain"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no run given" in err[0] and "lossdoc train --data dummy" in err[0]
    (tmp_path / "runs").mkdir()
    assert run(["explain", "--lang", "zh"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lossdoc: 错误: ") and "run.jsonl" in err[0]


def test_old_metrics_jsonl_folders_still_read_and_resume_into_the_same_file(tiny_run, tmp_path):
    from lossdoc.train.loop import train

    old = _copy_run(tiny_run, tmp_path / "old")
    (old / "run.jsonl").rename(old / "metrics.jsonl")
    for target in (old, old / "metrics.jsonl"):
        result = CliRunner().invoke(app, ["explain", str(target), "--lang", "en"])
        assert result.exit_code == 0 and "Verdict:" in result.output
    before = (old / "metrics.jsonl").read_text().count("\n")
    assert train(resume=old, overrides={"epochs": 3}).status == "completed"
    assert not (old / "run.jsonl").exists() and (old / "metrics.jsonl").read_text().count("\n") > before


def test_readme_says_where_runs_go():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "runs/<run id>/run.jsonl" in readme


# ---- 2. the seed's command line, offline ------------------------------------------------------------------

SEED_FLAGS = ["--d_model", "256", "--num_layers", "2", "--num_heads", "4", "--batch_size", "4", "--use_amp"]


def _closed_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: a connection is refused at once
    return port


def _no_hub_env(monkeypatch):
    for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "HTTPS_PROXY", "https_proxy",
              "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(v, raising=False)


def test_the_seeds_command_line_is_accepted_and_fails_offline_in_one_line_leaving_no_run(tmp_path):
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "COLUMNS": "80"}
    proc = subprocess.run([sys.executable, "-m", "lossdoc", "train", "--dataset", "wikitext2", *SEED_FLAGS],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "No such option" not in lines[0]
    assert lines[0].startswith("lossdoc: error: cannot load dataset Salesforce/wikitext:wikitext-2-raw-v1: the Hugging Face hub is unreachable")
    assert not (tmp_path / "runs").exists()


def test_an_unreachable_hub_is_found_by_one_short_probe(monkeypatch):
    import socket

    from lossdoc.data.sources import hub_offline

    _no_hub_env(monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    assert hub_offline() is True
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert hub_offline() is False
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the variable wins without any connection
        assert hub_offline() is True


def test_hub_offline_mode_is_restored_after_loading(monkeypatch, tmp_path):
    import datasets

    from lossdoc.data.sources import Spec, load_hf
    from lossdoc.errors import LossdocError

    _no_hub_env(monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    before = datasets.config.HF_HUB_OFFLINE
    try:
        load_hf(Spec("hf", "lossdoc-test/surely-not-cached-anywhere", None))
    except LossdocError as exc:
        assert exc.key in ("error.hf_offline", "error.hf_not_found")
    assert datasets.config.HF_HUB_OFFLINE == before and "HF_HUB_OFFLINE" not in os.environ


def _dummy_train(tmp_path, *extra):
    from tests.conftest import ROOT

    # configs/faults.yaml: a small dummy run that reaches its floor (an expected plateau) in seconds
    return CliRunner().invoke(app, ["train", "--config", str(ROOT / "configs" / "faults.yaml"), "--out", str(tmp_path / "r"), *extra],
                              env={"COLUMNS": "80"})


def test_after_a_dummy_run_the_next_step_names_pydoc_when_the_hub_is_out_of_reach(tmp_path, monkeypatch):
    _no_hub_env(monkeypatch)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_closed_port()}")
    result = _dummy_train(tmp_path, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Verdict: expected plateau" in result.output
    assert "lossdoc train --data pydoc" in result.output and "--data wikitext2 would not load" in result.output
    zh = CliRunner().invoke(app, ["explain", str(tmp_path / "r"), "--lang", "zh"])
    assert zh.exit_code == 0


def test_after_a_dummy_run_the_next_step_keeps_wikitext2_when_the_hub_answers(tmp_path, monkeypatch):
    import socket

    _no_hub_env(monkeypatch)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        result = _dummy_train(tmp_path, "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "lossdoc train --data wikitext2" in result.output and "--data pydoc" not in result.output


# ---- 3. markov with its defaults; 9. one rule for V ---------------------------------------------------------


def test_markov_trains_with_its_own_default_vocabulary(tmp_path):
    from lossdoc.train.config import MARKOV_DEFAULT_VOCAB, TrainConfig, resolve_config

    assert resolve_config(data="markov").vocab_size == MARKOV_DEFAULT_VOCAB == 64
    assert TrainConfig().vocab_size == 10000 and resolve_config(data="zipf").vocab_size == 10000
    out = tmp_path / "m"
    small = ["--num-samples", "64", "--seq-len", "16", "--d-model", "16", "--num-layers", "1", "--num-heads", "2", "--epochs", "1"]
    result = CliRunner().invoke(app, ["train", "--data", "markov", *small, "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "run.jsonl").read_text().splitlines()[0])["vocab_size"] == 64


def test_vocab_size_follows_one_rule_in_train_and_baseline(capsys, tmp_path):
    from lossdoc.i18n import t

    for lang in ("en", "zh"):
        rule = t("rule.vocab_size", lang, bound=2)
        assert rule in t("error.baseline_vocab", lang, value="0")  # baseline states the very same rule
        for args in (["train", "--vocab-size", "0", "--out", str(tmp_path / "r")], ["baseline", "--vocab-size", "0"],
                     ["baseline", "--vocab-size", "1"], ["train", "--vocab-size", "1", "--data", "zipf", "--out", str(tmp_path / "r")]):
            assert run([*args, "--lang", lang]) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and rule in err[0], err
    # V = 2 is a vocabulary (baseline reads it); dummy data explains why it needs one id more
    assert run(["baseline", "--vocab-size", "2"]) == 0
    capsys.readouterr()
    assert run(["train", "--vocab-size", "2", "--out", str(tmp_path / "r"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "dummy data needs V >= 3" in err and "randint(1, V)" in err and ">= 2" not in err
    assert not (tmp_path / "r").exists()
