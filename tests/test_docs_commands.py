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
