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
