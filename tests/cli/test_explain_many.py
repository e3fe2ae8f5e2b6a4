"""`lossdoc explain A B C`, `explain runs/*` and a sweep root: one table, worst first, verdict counts, the exit code,
--json as a list, and a row of its own for every file that cannot be read (lossdoc/batch.py, lossdoc/render/many.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lossdoc.batch import Row, exit_code, explain_many, runs_in, runs_to_explain, sort_rows
from lossdoc.cli import run

SCALE = Path(__file__).resolve().parents[1] / "fixtures" / "scale"


class Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.exit_code, self.output, self.stderr = code, out, err


@pytest.fixture
def invoke_pooled(capsys, monkeypatch):
    """`lossdoc explain ARGS` through the CLI's own entry (lossdoc.cli.run: exit codes and the one stderr line), the
    runs read by the process pool as the command reads them (one worker a core)."""
    monkeypatch.setenv("COLUMNS", "250")

    def call(*args):
        code = run(["explain", *map(str, args)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture
def invoke(invoke_pooled, monkeypatch):
    """invoke_pooled with the runs read one after the other in this process (lossdoc.batch.workers gives 1): the same
    rows, sorted the same way (explain_many sorts whatever order they come in), without forking this test process,
    torch and all, for every call (~1 s of CPU a call). The pool keeps its own tests: the table's (CLI) and
    test_missing_and_empty_files_get_rows (jobs=2)."""
    import lossdoc.batch

    monkeypatch.setattr(lossdoc.batch, "workers", lambda n_runs: 1)
    return invoke_pooled


@pytest.fixture
def sweep(tmp_path) -> Path:
    """A sweep root of mixed formats: Megatron and fairseq consoles, an mlruns/ tree, a wandb/ folder, a bad file."""
    root = tmp_path / "sweep"
    (root / "megatron").mkdir(parents=True)
    for kind in ("healthy", "diverging"):
        shutil.copy(SCALE / "megatron" / f"{kind}.log", root / "megatron" / f"{kind}.log")
    (root / "fs").mkdir()
    shutil.copy(SCALE / "fairseq" / "plateau.log", root / "fs" / "train.log")
    shutil.copytree(SCALE / "mlruns", root / "mlruns")
    shutil.copytree(SCALE / "wandb_sweep" / "wandb", root / "wandb")
    (root / "wandb" / "debug.log").write_text("wandb's own debug log: not a run\n", encoding="utf-8")
    (root / "garbage.log").write_text("this is not a training log\n", encoding="utf-8")
    (root / "notes.md").write_text("# notes\n", encoding="utf-8")
    return root


def test_a_sweep_root_expands_to_its_runs(sweep):
    found = runs_to_explain([sweep])
    assert found is not None
    names = sorted(str(p.relative_to(sweep)) for p in found)
    assert len(names) == 2 + 1 + 3 + 3 + 1  # megatron x2, fairseq, 3 MLflow runs, 3 W&B runs, garbage.log
    assert "garbage.log" in names and "fs/train.log" in names and "notes.md" not in names
    assert not any("debug" in n for n in names)
    assert sum(n.startswith("mlruns/") for n in names) == 3 and sum(n.startswith("wandb/offline-run-") for n in names) == 3


def test_one_run_stays_one_run(tmp_path):
    """A file, or a folder that is one run, is explained as before (no table)."""
    assert runs_to_explain([SCALE / "megatron" / "healthy.log"]) is None
    mlrun = next(SCALE.glob("mlruns/*/*/meta.yaml")).parent
    assert runs_to_explain([mlrun]) is None
    assert runs_to_explain(None) is None


def test_table_worst_first_with_counts_and_exit_code(sweep, invoke_pooled):
    result = invoke_pooled(sweep, "--lang", "en")
    assert result.exit_code == 2, result.output  # a run could not be read: one line on stderr says so
    assert result.stderr.strip() == "lossdoc: error: 1 of 10 runs could not be read: their rows above say why"
    lines = result.output.splitlines()
    assert "10 runs, worst first" in lines[0]
    body = [ln for ln in lines if ln.startswith("│/")]
    verdicts = [next(v for v in ("broken", "unreadable", "still learning", "converged") if v in ln) for ln in body]
    assert verdicts == ["broken"] * 3 + ["unreadable"] + ["still learning"] * 3 + ["converged"] * 3
    assert "Verdicts: broken 3, unreadable 1, still learning 3, converged 3" in result.output
    bad = next(ln for ln in body if "unreadable" in ln)
    assert "garbage.log" in bad and "cannot tell which kind of log" in result.output


def test_fail_on_applies_to_any_run(sweep, invoke):
    (sweep / "garbage.log").unlink()
    assert invoke(sweep).exit_code == 0
    assert invoke(sweep, "--fail-on", "broken").exit_code == 1
    healthy = [SCALE / "megatron" / "healthy.log", SCALE / "olmo" / "plateau.log"]
    assert invoke(*healthy, "--fail-on", "broken").exit_code == 0
    assert invoke(*healthy, SCALE / "deepspeed" / "diverging.log", "--fail-on", "overfitting").exit_code == 1


def test_json_is_a_list(sweep, invoke):
    result = invoke(sweep, "--json")
    docs = json.loads(result.output)
    assert isinstance(docs, list) and len(docs) == 10
    assert [d["verdict"] for d in docs[:3]] == ["broken"] * 3
    bad = next(d for d in docs if d["verdict"] is None)
    assert bad["source"].endswith("garbage.log") and "cannot tell" in bad["error"]
    good = next(d for d in docs if d.get("format") == "fairseq")
    assert good["schema"] == "lossdoc.diagnosis/1" and good["table"]["best_of"] == "val"
    assert good["table"]["best_loss"] == pytest.approx(good["facts"]["best_val_loss"])
    assert any(w["key"] == "warn.loss_base2" for w in good["reader_warnings"])


def test_several_arguments_and_chinese(sweep, invoke):
    files = [sweep / "megatron" / "healthy.log", sweep / "garbage.log", sweep / "fs" / "train.log"]
    result = invoke(*files, "--lang", "zh")
    assert result.exit_code == 2
    assert "3 个运行，最差的在前" in result.output and "无法读取" in result.output
    assert "结论统计：" in result.output


def test_missing_and_empty_files_get_rows(tmp_path):
    """Every bad file gets its own one-line row; the others are still explained."""
    empty = tmp_path / "empty.log"
    empty.write_text("", encoding="utf-8")
    rows = explain_many([tmp_path / "missing.log", empty, SCALE / "litgpt" / "healthy.log"], None, {}, {}, "en", jobs=2)
    assert [r.verdict for r in rows] == [None, None, "still-learning"]
    assert all(r.error and "\n" not in r.error for r in rows[:2])
    assert exit_code(rows, "never") == 2


def test_rows_sort_worst_first():
    rows = [
        Row("c", verdict="converged"),
        Row("a", verdict="broken", gap=0.1),
        Row("b", verdict="broken", gap=0.5),
        Row("x", error="bad"),
        Row("o", verdict="overfitting"),
    ]
    assert [r.source for r in sort_rows(rows)] == ["b", "a", "o", "x", "c"]


def test_a_folder_of_junk_files_is_not_a_sweep(tmp_path, invoke):
    """Files that merely end in .txt do not make a sweep: the folder is refused as before, in one line."""
    for i in range(300):
        (tmp_path / f"f{i}.txt").write_bytes(b"x")
    assert runs_to_explain([tmp_path]) is None
    result = invoke(tmp_path)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1


def test_charts_refused_with_many_runs(invoke):
    result = invoke(SCALE / "olmo" / "healthy.log", SCALE / "olmo" / "plateau.log", "--plot")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert "--plot and --report draw one run" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_runs_in_skips_hidden_and_links(tmp_path):
    (tmp_path / ".hidden").mkdir()
    shutil.copy(SCALE / "olmo" / "healthy.log", tmp_path / ".hidden" / "a.log")
    shutil.copy(SCALE / "olmo" / "healthy.log", tmp_path / "b.log")
    (tmp_path / "link.log").symlink_to(tmp_path / "b.log")
    assert [p.name for p in runs_in(tmp_path)] == ["b.log"]


def test_a_sweep_of_every_scale_format_in_one_command(tmp_path, invoke):
    """Every console of training at scale, the real litgpt's healthy run, and three bad files in one folder: each run
    is found and explained with no --format, each bad file gets one row of one line, and --fail-on sets the code."""
    root = tmp_path / "sweep"
    for folder in ("megatron", "torchtitan", "litgpt", "fairseq", "fairseq_json", "deepspeed", "olmo", "composer"):
        (root / folder).mkdir(parents=True)
        shutil.copy(SCALE / folder / "diverging.log", root / folder / "train.log")
    (root / "litgpt_real").mkdir()
    shutil.copy(SCALE / "litgpt_real" / "healthy.log", root / "litgpt_real" / "train.log")
    (root / "empty.log").write_text("", encoding="utf-8")
    (root / "binary.log").write_bytes(b"\x00\x01\x02" * 100)
    (root / "no_loss.log").write_text(" > padded vocab (size: 50257) with 175 dummy tokens (new size: 50432)\n", encoding="utf-8")
    result = invoke(root, "--fail-on", "broken", "--lang", "en")
    assert result.exit_code == 1, result.output
    body = [ln for ln in result.output.splitlines() if ln.startswith("│/")]
    assert sum("broken" in ln for ln in body) == 8 and sum("still learning" in ln for ln in body) == 1
    assert sum("unreadable" in ln for ln in body) == 3
    assert "Verdicts: broken 8, unreadable 3, still learning 1" in result.output
    assert "holds no Megatron-LM loss lines" in result.output  # the reader's own refusal, in its row
    result = invoke(root, "--lang", "zh")
    assert result.exit_code == 2  # no --fail-on: a file that could not be read sets 2
    assert "结论统计：训练有问题 8，无法读取 3，仍在学习 1" in result.output
    assert not any(w in result.output for w in ("broken", "unreadable", "still learning", "Verdicts"))
    docs = json.loads(invoke(root, "--json").output)
    bad = {Path(d["source"]).name: d["error"] for d in docs if d["verdict"] is None}
    assert sorted(bad) == ["binary.log", "empty.log", "no_loss.log"] and not any("\n" in e for e in bad.values())
    assert sorted(d.get("format") for d in docs if d["verdict"]) == sorted(
        ["megatron", "torchtitan", "litgpt", "litgpt", "fairseq", "fairseq", "deepspeed", "olmo", "composer"]
    )
