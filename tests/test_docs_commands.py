"""Every `lossdoc` command that README.md, README.zh-CN.md and docs/ show runs as written.

Commands in code blocks, and concrete ones in inline code, are collected in the order the page shows
them and run through the real CLI in a scratch folder laid out like a checkout (configs/ and tests/
linked in). Runs the pages read but that take minutes to make (`runs/dummy`, `runs/text-small`) are
stood in for by small runs of the same kind; training commands that take minutes are parsed and their
configuration resolved and validated instead of run. Templates (RUN, FILE, `runs/<id>`, `--lr X`)
are skipped: they are not commands.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", ROOT / "README.zh-CN.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)
INLINE = re.compile(r"`(lossdoc [^`]+)`")
# a template, not a command: upper-case placeholders, <...>, alternatives, ellipses, brackets
TEMPLATE = re.compile(r"(^|\s)(-?[A-Z][A-Z_0-9.]*|RUN\S*|FILE\S*|DIR|SOURCE|FAULT)(\s|$)|<[^>]*>|\||\.\.\.|\[|…")
CHEAP_CONFIGS = ("configs/tiny.yaml", "configs/faults.yaml")
# a file name the pages use for the reader's own log -> the fixture that stands in for it
USER_FILES = {"seed.txt": "tests/fixtures/seed_console/seed_zh.txt"}


def _commands(text: str) -> list[str]:
    found = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip()
            for part in line.split(" && "):
                if part.startswith("lossdoc "):
                    found.append(part.strip())
    for cmd in INLINE.findall(text):
        if len(cmd.split()) > 2:  # `lossdoc train` alone in prose names the command; it is not one to run
            found.append(cmd.strip())
    return found


def documented_commands() -> list[tuple[str, str]]:
    out = []
    for page in PAGES:
        for cmd in _commands(page.read_text(encoding="utf-8")):
            if not TEMPLATE.search(cmd.replace("lossdoc ", "", 1)):
                out.append((page.name, cmd))
    return out


def test_the_pages_show_the_commands_this_check_runs():
    cmds = {c for _, c in documented_commands()}
    for expected in (
        "lossdoc train --data dummy",
        "lossdoc baseline --vocab-size 10000",
        "lossdoc explain run.jsonl",
        "lossdoc explain runs/dummy --plot",
        "lossdoc compare runs/dummy runs/text-small",
    ):
        assert expected in cmds, expected


def _workspace(tmp: Path, tiny_run: Path, text_run: Path) -> Path:
    ws = tmp / "ws"
    ws.mkdir()
    for name in ("configs", "tests"):
        (ws / name).symlink_to(ROOT / name)
    (ws / "docs" / "img").mkdir(parents=True)  # reports are written here, never into the checkout's docs/
    for stand_in, src in (("dummy", tiny_run), ("text-small", text_run)):
        shutil.copytree(src, ws / "runs" / stand_in)
    for name, fixture in USER_FILES.items():
        shutil.copy(ROOT / fixture, ws / name)
    return ws


@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> Path:
    """A small character-level run on real text, standing in for configs/text-small.yaml."""
    from lossdoc.train.config import resolve_config
    from lossdoc.train.loop import train

    base = tmp_path_factory.mktemp("text")
    (base / "doc.txt").write_text("".join(f"Line {i}: the quick brown fox jumps over the lazy dog.\n" for i in range(60)))
    out = base / "run"
    train(resolve_config(ROOT / "configs" / "tiny.yaml", data=str(base / "doc.txt"), seq_len=32, out=str(out), cache_dir=str(base / "c")))
    return out


def _check_train_without_running(args: list[str]) -> None:
    """Parse a train command exactly as the CLI does and resolve its configuration (which validates it)."""
    import typer

    from lossdoc.cli import app
    from lossdoc.cli.train import given_flags
    from lossdoc.train.config import resolve_config

    group = typer.main.get_command(app)
    sub = group.get_command(None, "train")
    ctx = sub.make_context("train", list(args))
    params = dict(ctx.params)
    if params.get("resume") is not None:
        assert Path(params["resume"]).is_dir(), args
        return
    flags = given_flags(ctx, {k: v for k, v in params.items() if k not in ("config", "resume", "overwrite", "lang", "nproc", "master_port")})
    resolve_config(params.get("config"), **flags)


@pytest.mark.slow  # runs every command the docs show, a torchrun launch included (~8 s)
def test_every_documented_command_runs_as_written(tiny_run, text_run, tmp_path, monkeypatch, capsys):
    from lossdoc.cli import run

    ws = _workspace(tmp_path, tiny_run, text_run)
    monkeypatch.chdir(ws)
    monkeypatch.setenv("LOSSDOC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ran, checked = [], []
    for page, cmd in documented_commands():
        args = shlex.split(cmd)[1:]
        if args[0] == "train" and "--help" not in args and not (any(c in cmd for c in CHEAP_CONFIGS) or "--resume runs/tiny" in cmd):
            _check_train_without_running(args[1:])
            checked.append(cmd)
            continue
        code = run(args)
        captured = capsys.readouterr()
        assert code == 0, f"{page}: {cmd}\n{captured.err}"
        assert "Traceback" not in captured.err
        if args[0] == "compare" and "--json" in args:
            # the examples compare healthy runs: a fact given for one log must not make another look broken
            verdicts = [r["verdict"] for r in json.loads(captured.out)["runs"]]
            assert "broken" not in verdicts, (cmd, verdicts)
        ran.append(cmd)
    assert len(ran) >= 15 and len(checked) >= 5, (ran, checked)


def test_no_placeholder_is_left_in_the_pages():
    for page in PAGES:
        for line in page.read_text(encoding="utf-8").splitlines():
            assert not re.fullmatch(r"\s*[A-Z][A-Z0-9]*_[A-Z0-9_]+\s*", line), f"{page.name}: {line}"


def _shell_examples(page: Path) -> list[str]:
    """The `$ lossdoc ...` lines of a page's code blocks: examples shown with their output."""
    return [
        line[2:].split(" #", 1)[0].strip()
        for block in FENCE.findall(page.read_text(encoding="utf-8"))
        for line in block.splitlines()
        if line.startswith("$ lossdoc ")
    ]


def test_every_lossdoc_target_in_check_md_exists_or_is_made_just_before():
    made = set()
    for cmd in _shell_examples(ROOT / "docs" / "check.md"):
        args = shlex.split(cmd)
        if args[1] == "train" and "--out" in args:
            made.add(args[args.index("--out") + 1])
        if args[1] == "check" and args[2].startswith("lossdoc:"):
            target = args[2].split(":", 1)[1]
            assert target in made or (ROOT / target).exists(), cmd


@pytest.mark.slow  # builds and checks the fault's model (~10 s of CPU)
def test_check_md_json_example_is_what_the_command_prints(capsys, monkeypatch):
    from lossdoc.cli import run

    text = (ROOT / "docs" / "check.md").read_text(encoding="utf-8")
    cmd = "lossdoc check lossdoc:configs/nomask.yaml --json"
    shown = text.split(f"$ {cmd}\n", 1)[1].split("(exit code", 1)[0]
    shown_doc = json.loads(re.sub(r"//[^\n]*", "", shown))
    monkeypatch.chdir(ROOT)
    assert run(shlex.split(cmd)[1:]) == 1  # the example's "(exit code 1)": a failing check
    doc = json.loads(capsys.readouterr().out)
    for key in ("schema", "target", "verdict", "verdict_text", "exit_code", "model", "notes"):
        assert doc[key] == shown_doc[key], key
    causality = next(f for f in doc["findings"] if f["code"] == "causality")
    assert causality["status"] == "fail" and causality["message"] == shown_doc["findings"][0]["message"]


def test_accuracy_benchmark_without_the_corpus_ends_in_one_line(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "accuracy.py"), str(tmp_path / "wild" / "manifest.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no manifest at" in lines[0] and "Traceback" not in proc.stderr
