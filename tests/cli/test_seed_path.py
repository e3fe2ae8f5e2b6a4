"""The seed's path, walked as a new user (issue #12): find the run, run the seed's own flags, read the output."""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

import pytest
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
    assert last == f"Explain this run again: lossdoc explain {tmp_path / 'runs' / folder.name / 'run.jsonl'}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the printed command works from any folder (issue 24)
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
    for v in (
        "HF_HUB_OFFLINE",
        "HF_DATASETS_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(v, raising=False)


@pytest.mark.xdist_group("hf-lightning")  # where datasets is imported once (tests/data/test_hf_sources.py)
def test_the_seeds_command_line_is_accepted_and_fails_offline_in_one_line_leaving_no_run(tmp_path, monkeypatch, capsys):
    # through the CLI's own entry (lossdoc.cli.run: the exit code and the one stderr line) in this process: the same
    # refusal from a fresh `python` process, with an empty HF_HOME, is tests/data/test_hf_sources.py's
    # test_offline_error_is_one_line_exit_2
    import datasets
    import huggingface_hub.constants

    _no_hub_env(monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "80")
    # an empty cache: datasets and huggingface_hub read HF_HOME when imported, so their cache folders are set here
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf" / "datasets")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    monkeypatch.setattr(datasets.config, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"), raising=False)
    monkeypatch.chdir(tmp_path)
    code = run(["train", "--dataset", "wikitext2", *SEED_FLAGS])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "No such option" not in lines[0]
    assert lines[0].startswith("lossdoc: error: cannot load dataset Salesforce/wikitext:wikitext-2-raw-v1: the Hugging Face hub is unreachable")
    assert str(tmp_path / "hf" / "datasets") in lines[0]  # the cache it looked in
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


@pytest.mark.xdist_group("hf-lightning")  # where datasets is imported once (tests/data/test_hf_sources.py)
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
    return CliRunner().invoke(
        app, ["train", "--config", str(ROOT / "configs" / "faults.yaml"), "--out", str(tmp_path / "r"), *extra], env={"COLUMNS": None}
    )  # piped, no width asked for: text is not hard-wrapped


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
    assert "--data wikitext2 (needs the Hugging Face hub)" in result.output and "is not reachable from here" not in result.output


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
        for args in (
            ["train", "--vocab-size", "0", "--out", str(tmp_path / "r")],
            ["baseline", "--vocab-size", "0"],
            ["baseline", "--vocab-size", "1"],
            ["train", "--vocab-size", "1", "--data", "zipf", "--out", str(tmp_path / "r")],
        ):
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


# ---- 5. train output ---------------------------------------------------------------------------------------


def test_resume_counts_epochs_against_the_new_total_and_says_resumed_once(tmp_path):
    out = tmp_path / "r"
    assert CliRunner().invoke(app, ["train", "--config", str(TINY), "--out", str(out)]).exit_code == 0
    result = CliRunner().invoke(app, ["train", "--resume", str(out), "--epochs", "4", "--lang", "en"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Epoch 3/4:" in text and "Epoch 4/4:" in text and "/2:" not in text
    assert "Resumed: resumed" not in text and "Resumed from checkpoints/last.pt after 2 epochs and 0 batches (step 18)" in text
    zh = CliRunner().invoke(app, ["train", "--resume", str(out), "--epochs", "5", "--lang", "zh"], env={"COLUMNS": "200"})
    assert zh.exit_code == 0 and "第 5/5 轮" in zh.output and "已从 checkpoints/last.pt 续训：此前已完成 4 轮又 0 批" in zh.output
    assert "resumed from" not in zh.output and "已保存 last.pt" in zh.output


def test_a_failed_start_leaves_no_folder_that_blocks_the_next_run(tmp_path, capsys):
    import torch

    from lossdoc.errors import LossdocError
    from lossdoc.train.config import resolve_config
    from lossdoc.train.loop import train

    out = tmp_path / "r"
    if not torch.cuda.is_available():
        assert run(["train", "--config", str(TINY), "--device", "cuda", "--out", str(out)]) == 2
        assert "device 'cuda' is not available" in capsys.readouterr().err
        assert not out.exists()
    # a failure after the folder was made (too little text for one sequence) removes what it made
    (tmp_path / "t.txt").write_text("hello world\n" * 3)
    try:
        train(resolve_config(TINY, data=str(tmp_path / "t.txt"), seq_len=64, out=str(out), device="cpu"))
    except LossdocError as exc:
        assert "seq_len=64" in str(exc)
    assert not out.exists()
    out.mkdir()  # a folder the user made stays, emptied of what lossdoc wrote
    try:
        train(resolve_config(TINY, data=str(tmp_path / "t.txt"), seq_len=64, out=str(out), device="cpu"))
    except LossdocError:
        pass
    assert out.is_dir() and not any(out.iterdir())
    assert run(["train", "--config", str(TINY), "--out", str(out)]) == 0  # the same --out works next time


def test_singular_counts_and_chinese_events():
    import io

    from rich.console import Console

    from lossdoc.render.train_console import RichReporter

    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=80, color_system=None), "en", progress_every_s=0)
    header = {
        "model": {"params": 10, "d_model": 8, "num_layers": 1, "num_heads": 1},
        "data": {"kind": "dummy"},
        "vocab_size": 64,
        "env": {"device": "cpu"},
        "config": {"epochs": 2},
    }
    rep.start(header, 10, 0)
    rep.end({})
    assert "1 layer, 1 head)" in buf.getvalue()
    from lossdoc.runlog.events import event_record

    # the records the training loop writes: a message key with its arguments (the English sentence is the log's)
    events = [
        event_record("resumed", 18, "train.event.resumed", {"epoch": 2, "batch": 0, "step": 18}, epoch=2, batch=0),
        event_record("interrupted", 5, "train.event.interrupted", {"epoch": 1, "batch": 5, "step": 5}, path="runs/x"),
        event_record("interrupted", 5, "train.event.aborted", {"step": 5}, aborted=True),
        event_record("nonfinite_loss", 7, "train.event.nonfinite_loss", {"value": float("nan"), "epoch": 1, "batch": 7, "step": 7}),
        event_record("nonfinite_loss", 9, "train.event.nonfinite_val", {"value": float("inf"), "epoch": 1}, split="val"),
        event_record("nonfinite_grad", 3, "train.event.nonfinite_grad", {"value": float("inf"), "step": 3}),
    ]
    zh = io.StringIO()
    rep = RichReporter(Console(file=zh, width=80, color_system=None), "zh")
    for e in events:
        rep.event({**e, "message": "english message"})
    text = zh.getvalue()
    assert "english message" not in text and "resumed" not in text and "Non-finite" not in text
    assert text.count("\n") == len(events)
    assert "续训" in text and "中断" in text and "Ctrl-C" in text and "梯度范数" in text and "验证损失" in text


def test_piped_output_prints_a_plain_progress_line_every_n_seconds():
    import io

    from rich.console import Console

    from lossdoc.render.train_console import PROGRESS_EVERY_S, RichReporter

    ticks = iter(range(0, 10_000, 7))  # a clock that moves 7 s per reading
    buf = io.StringIO()
    rep = RichReporter(Console(file=buf, width=80, color_system=None), "en", progress_every_s=20, clock=lambda: next(ticks))
    header = {
        "model": {"params": 10, "d_model": 8, "num_layers": 2, "num_heads": 2},
        "data": {"kind": "dummy"},
        "vocab_size": 64,
        "env": {"device": "cpu"},
        "config": {"epochs": 1},
    }
    rep.start(header, 9, 0)
    for i in range(1, 10):
        rep.batch({"epoch": 1, "loss": 4.0 + i / 100, "step": i, "tokens": 70})
    rep.end({})
    lines = [x for x in buf.getvalue().splitlines() if x.startswith("step ")]
    # readings at 7, 14, 21, ...: a line once 20 s have passed since the last one
    assert lines == [
        # 70 tokens a step, a step every 7 s: 10 tokens/s; the time left at that pace
        "step 3/9 (33%), epoch 1, loss 4.0300, 10 tokens/s, 0:00:21 elapsed, about 0:00:42 left",
        "step 6/9 (67%), epoch 1, loss 4.0600, 10 tokens/s, 0:00:42 elapsed, about 0:00:21 left",
        "step 9/9 (100%), epoch 1, loss 4.0900, 10 tokens/s, 0:01:03 elapsed, about 0:00:00 left",
    ]
    assert "1 layer" not in buf.getvalue() and "2 layers, 2 heads" in buf.getvalue()
    assert PROGRESS_EVERY_S > 0


def test_progress_lines_reach_a_piped_train(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSDOC_PROGRESS_S", "0.000001")
    result = CliRunner().invoke(app, ["train", "--config", str(TINY), "--out", str(tmp_path / "r"), "--lang", "zh"])
    assert result.exit_code == 0
    assert "第 18/18 步（100%），第 2 轮，损失" in result.output


# ---- 6. help and layout ------------------------------------------------------------------------------------

COMMANDS = ("train", "explain", "baseline", "generate", "compare")


def test_shell_completion_is_on(capsys, monkeypatch):
    import subprocess
    import sys

    assert "--install-completion" in CliRunner().invoke(app, ["--help"]).output
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")  # name the shell instead of detecting it
    assert run(["--show-completion", "bash"]) == 0
    assert "_lossdoc_completion" in capsys.readouterr().out
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "_LOSSDOC_COMPLETE": "complete_bash", "COMP_WORDS": "lossdoc tr", "COMP_CWORD": "1"}
    proc = subprocess.run([sys.executable, "-m", "lossdoc"], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.split() == ["train"]


def test_help_keeps_brackets_names_and_says_what_each_value_is():
    for cmd in COMMANDS:
        for width in ("60", "100"):
            text = CliRunner().invoke(app, [cmd, "--help"], env={"COLUMNS": width}).output
            for placeholder in ("<bool>", "<str>", "<int>", "<float>"):
                assert placeholder not in text, (cmd, placeholder)
            assert "…" not in text
    train = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "60"}).output
    assert "--markov-successors, --markov_successors N" in train and "--data, --dataset SOURCE" in train
    explain = CliRunner().invoke(app, ["explain", "--help"], env={"COLUMNS": "100"}).output
    assert "lossdoc[report]" in explain  # rich markup used to eat "[report]"
    flat = " ".join(explain.split())
    for fmt in ("run.jsonl", "metrics.jsonl", "trainer_state.json", "metrics.csv", "TensorBoard", "nanoGPT", "CSV/JSONL", "newest run under ./runs"):
        assert fmt in flat, fmt
    assert "A metrics.jsonl or a run folder" not in flat


def test_findings_stack_instead_of_squeezing_at_60_columns(tiny_run):
    import io

    from rich.cells import cell_len
    from rich.console import Console

    from lossdoc.analysis import diagnose
    from lossdoc.i18n import t
    from lossdoc.render.diagnosis import render_diagnosis
    from lossdoc.runlog.readers import read_run

    r = read_run(tiny_run)
    d = diagnose(r)
    for lang in ("en", "zh"):
        buf = io.StringIO()
        render_diagnosis(Console(file=buf, width=60, color_system=None), d, r, lang)
        text = buf.getvalue()
        findings = text.split(t("ui.explanation", lang))[0]  # (Chinese prose after it is left to the terminal to wrap)
        assert max(cell_len(x) for x in findings.splitlines()) <= 60
        if lang == "en":
            assert "Every logged loss is finite." in text  # one sentence, not 6-character slivers
            assert "\nlog  ok  measured" in text
        wide = io.StringIO()
        render_diagnosis(Console(file=wide, width=100, color_system=None), d, r, lang)
        assert "┃" in wide.getvalue()  # wide enough: still the table


def test_piped_output_keeps_commands_whole(default_run):
    result = CliRunner().invoke(app, ["explain", str(default_run), "--lang", "en"], env={"COLUMNS": None})
    assert result.exit_code == 0
    assert "lossdoc train --data pydoc (Python's own documentation, works offline)" in result.output
    paragraph = next(x for x in result.output.splitlines() if x.startswith("At initialisation"))
    assert "not a failed run." in paragraph  # the whole explanation on one line: nothing hard-wrapped at 80
    wrapped = CliRunner().invoke(app, ["explain", str(default_run), "--lang", "en"], env={"COLUMNS": "80"})
    assert max(len(x) for x in wrapped.output.splitlines()) <= 80  # a width that was asked for is kept


def test_typer_parse_errors_follow_the_language(capsys):
    cases = [
        (["train", "--dataset2", "x"], "没有这个选项：--dataset2（可能是：--data, --dataset）"),
        (["train", "--epochs", "abc"], "--epochs 'abc' 无效：必须是整数"),
        (["train", "--lr", "fast"], "--lr 'fast' 无效：必须是数字"),
        (["watch", "a", "b"], "多余的参数：b"),  # explain takes several runs (issue 26)
        (["nosuch"], "没有这个命令：'nosuch'。"),
        (["generate"], "缺少参数 'CHECKPOINT'。"),
    ]
    for args, expected in cases:
        assert run([*args, "--lang", "zh"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"lossdoc: 错误: {expected}"], err
    assert run(["train", "--epochs", "--lang", "zh"]) == 2  # "--lang" taken as the value of --epochs
    assert "必须是整数" in capsys.readouterr().err
    assert run(["train", "--epochs"]) == 2
    assert capsys.readouterr().err.strip() == "lossdoc: error: Option '--epochs' requires an argument."


# ---- 4. Chinese PNG reports ---------------------------------------------------------------------------------


def _last_resort() -> str:
    import matplotlib

    return str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "LastResortHE-Regular.ttf")


def test_a_placeholder_font_is_never_taken_for_chinese(tmp_path):
    from lossdoc.render.png import CJK_PROBE, DIGITS, draws_chinese, pick_cjk_font
    from tests.render.fake_cjk_font import FAMILY, build

    assert Path(_last_resort()).is_file()
    assert not draws_chinese(_last_resort())  # claims every code point, draws boxes
    assert pick_cjk_font({"Last Resort High-Efficiency": _last_resort()}) is None
    real = build(tmp_path / "cjk.ttf", CJK_PROBE + DIGITS + "abc")
    assert draws_chinese(str(real))
    assert pick_cjk_font({"Last Resort High-Efficiency": _last_resort(), FAMILY: str(real)}) == FAMILY
    no_digits = build(tmp_path / "nodigits.ttf", CJK_PROBE)
    assert not draws_chinese(str(no_digits))


def _only_fonts(monkeypatch, entries):
    from matplotlib import font_manager

    from lossdoc.render import png

    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    png.cjk_font.cache_clear()
    monkeypatch.setattr(png, "cjk_font", png.cjk_font)  # (cleared again below, after the test)


def test_chinese_png_without_a_cjk_font_uses_english_labels_and_says_so(tiny_run, tmp_path, monkeypatch):
    from matplotlib import font_manager

    from lossdoc.render import png

    keep = [f for f in font_manager.fontManager.ttflist if f.name.startswith(("DejaVu", "Last Resort"))]
    _only_fonts(monkeypatch, keep)
    try:
        target = tmp_path / "zh.png"
        result = CliRunner().invoke(app, ["explain", str(tiny_run), "--report", str(target), "--lang", "zh"])
        assert result.exit_code == 0, result.output
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "未找到可用于 PNG 的中文字体" in result.stderr
        assert png.label_lang("zh") == ("en", None)
    finally:
        png.cjk_font.cache_clear()


def test_chinese_png_with_a_cjk_font_draws_chinese_with_it(tiny_run, tmp_path, monkeypatch):
    from matplotlib import font_manager

    from lossdoc.analysis import diagnose
    from lossdoc.i18n import catalogs
    from lossdoc.render import png
    from lossdoc.render.charts import chart_data
    from lossdoc.runlog.readers import read_run
    from tests.render.fake_cjk_font import FAMILY, build

    chars = "".join(sorted({c for v in catalogs()["zh"].values() for c in v if ord(c) > 0x2E80})) + png.CJK_PROBE + png.DIGITS
    font = build(tmp_path / "cjk.ttf", chars)
    entries = list(font_manager.fontManager.ttflist)
    _only_fonts(monkeypatch, entries)
    try:
        font_manager.fontManager.addfont(str(font))
        png.cjk_font.cache_clear()
        assert png.cjk_font() == FAMILY and png.label_lang("zh") == ("zh", FAMILY)
        target = tmp_path / "zh.png"
        result = CliRunner().invoke(app, ["explain", str(tiny_run), "--report", str(target), "--lang", "zh"])
        assert result.exit_code == 0 and "中文字体" not in result.stderr
        run_ = read_run(tiny_run)
        import matplotlib

        with matplotlib.rc_context(png._rc(FAMILY)):
            fig = png.build_figure(chart_data(run_, diagnose(run_)), "zh")
            label = fig.axes[0].xaxis.label
            assert label.get_text() == "训练步数"
            assert font_manager.findfont(label.get_fontproperties()) == str(font)
    finally:
        png.cjk_font.cache_clear()


# ---- 8. the quick start's time is a measured number --------------------------------------------------------


def test_readme_gives_the_measured_quick_start_time_and_how_it_was_measured():
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "about a minute" not in quick
    assert "44 s on 2 CPU cores" in quick and "`python -m lossdoc train --data dummy`" in quick and "load average" in quick
    for page in ("docs/train.md", "docs/reports.md"):
        assert "about a minute" not in (root / page).read_text(encoding="utf-8"), page
