"""The first hour as a new user (issue 24): usage errors before any work, one wording, clear lines."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossdoc.cli import app, run

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"


def _one_line(capsys, args) -> str:
    assert run(args) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossdoc: "), captured.err
    return lines[0]


def test_report_into_a_missing_folder_fails_before_anything_is_printed(capsys):
    line = _one_line(capsys, ["explain", str(FIX / "seed_console" / "seed_en.txt"), "--report", "/nonexistent/dir/r.png", "--lang", "en"])
    assert "/nonexistent/dir" in line and "does not exist" in line


def test_report_into_a_missing_folder_prints_nothing_on_stdout(capsys):
    assert run(["explain", str(FIX / "seed_console" / "seed_en.txt"), "--report", "/nonexistent/dir/r.html"]) == 2
    assert capsys.readouterr().out == ""


USAGE_ERRORS = [
    (["--lr", "-1"], "invalid --lr '-1.0': must be > 0"),
    (["--epochs", "0"], "invalid --epochs '0': must be >= 1"),
    (["--data", "dumy"], "did you mean 'dummy'"),
    (["--device", "cpux"], "did you mean 'cpu'"),
    (["--num-heads", "3"], "invalid --num-heads '3': must divide --d-model (256)"),
    (["--resume", "nonexistent"], "no such folder: nonexistent"),
    (["--config", "BAD_YAML"], "(line 2)"),
    (["--config", "TYPO_YAML"], "unknown key 'epoch'"),
    (["--vocab-size", "abc"], "invalid --vocab-size 'abc': must be an integer"),
]

_EACH_USAGE_ERROR = """
import json, sys
from lossdoc.cli import run
for i, args in enumerate(json.loads(sys.argv[1])):
    print(f"@@ case {i}", file=sys.stderr, flush=True)
    code = run(["train", *args, "--lang", "en"])
    sys.stderr.flush()
    print(json.dumps([i, "torch" in sys.modules, code]), flush=True)
"""


@pytest.fixture(scope="module")
def usage_errors(tmp_path_factory):
    """Every case of USAGE_ERRORS through lossdoc.cli.run, one after another in one fresh Python process (one process,
    not one a case: a process importing lossdoc costs a quarter of a second of CPU): for each case, whether torch was
    imported by then, the exit code and what it wrote on stderr. Torch, once imported, stays: a case that imported it
    shows, and so does every case after it."""
    tmp = tmp_path_factory.mktemp("usage")
    (tmp / "bad.yaml").write_text("epochs: 1\nlr: [1\n")
    (tmp / "typo.yaml").write_text("epoch: 1\n")
    cases = [
        [str(tmp / "bad.yaml") if a == "BAD_YAML" else str(tmp / "typo.yaml") if a == "TYPO_YAML" else a for a in args] for args, _ in USAGE_ERRORS
    ]
    proc = subprocess.run([sys.executable, "-c", _EACH_USAGE_ERROR, json.dumps(cases)], cwd=tmp, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.stderr.startswith("@@ case 0\n"), proc.stderr  # nothing on stderr before the first case (importing lossdoc)
    errs = proc.stderr.split("@@ case ")[1:]
    assert [r[0] for r in results] == list(range(len(cases))) and len(errs) == len(cases), (proc.stdout, proc.stderr)
    return {i: (torch, code, err.split("\n", 1)[1]) for (i, torch, code), err in zip(results, errs)}


@pytest.mark.parametrize("case", range(len(USAGE_ERRORS)), ids=[f"args{i}-{needle}" for i, (_, needle) in enumerate(USAGE_ERRORS)])
def test_train_usage_errors_arrive_before_torch_is_imported(usage_errors, case):
    torch_imported, code, err = usage_errors[case]
    assert [torch_imported, code] == [False, 2], err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and USAGE_ERRORS[case][1] in lines[0], err


def test_explain_dot_reads_the_newest_run_under_runs_not_the_whole_tree(tiny_run, tmp_path, monkeypatch):
    shutil.copytree(tiny_run, tmp_path / "runs" / "only")
    (tmp_path / "other" / "tb").mkdir(parents=True)  # anything else in the tree is not walked
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["explain", ".", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["source"] == str(Path("runs") / "only" / "run.jsonl")


def test_a_runs_config_yaml_given_to_explain_or_generate_says_what_it_is(tiny_run, capsys):
    line = _one_line(capsys, ["explain", str(tiny_run / "config.yaml"), "--lang", "en"])
    assert "config" in line and "run.jsonl" in line
    line = _one_line(capsys, ["generate", str(tiny_run / "config.yaml"), "--lang", "en"])
    assert "is not a checkpoint" in line


def test_resume_of_a_finished_run_says_so(tiny_run, capsys):
    line = _one_line(capsys, ["train", "--resume", str(tiny_run), "--lang", "en"])
    assert "already complete" in line and "--epochs" in line


def test_explain_vocab_size_zero_is_one_line_in_the_common_wording(capsys):
    line = _one_line(capsys, ["explain", str(FIX / "seed_console" / "seed_en.txt"), "--vocab-size", "0", "--lang", "en"])
    assert "invalid --vocab-size '0'" in line


def test_check_with_debug_shows_the_traceback_and_no_longer_offers_it(tmp_path, capsys):
    model = tmp_path / "bad_model.py"
    model.write_text("raise RuntimeError('boom')\n")
    assert run(["check", f"{model}:make", "--lang", "en"]) == 2
    assert "(--debug shows the traceback)" in capsys.readouterr().err
    for lang, hint in (("en", "--debug"), ("zh", "--debug")):
        assert run(["check", f"{model}:make", "--debug", "--lang", lang]) == 2
        err = capsys.readouterr().err
        assert "Traceback" in err and "RuntimeError: boom" in err
        assert hint not in err.strip().splitlines()[-1], err


@pytest.mark.parametrize("cmd", ["explain", "watch"])
def test_fail_on_near_miss_gets_a_did_you_mean(cmd, capsys):
    line = _one_line(capsys, [cmd, str(FIX / "seed_console" / "seed_en.txt"), "--fail-on", "brokn", "--lang", "en"])
    assert "invalid --fail-on 'brokn': must be one of: broken, overfitting, never; did you mean 'broken'?" in line
