"""Logs pasted into Markdown (issue 23): code fences with prose around them, and pipe tables in a README."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lossdoc.cli import run as lossdoc_cli
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.markdown import blocks

PROSE = "# My tiny GPT\n\nI trained a small model on Shakespeare. Below is what it printed.\n\n"
CSV_LOG = "step,loss\n" + "".join(f"{s},{4.0 - s / 1000:.3f}\n" for s in range(100, 1100, 100))


def _warn(run, key):
    return [w.args for w in run.warnings if w.key == key]


def test_fenced_csv_in_a_readme(tmp_path):
    """The first line of the file is a title, so no detector saw the table before: 'cannot tell which kind of log'."""
    p = tmp_path / "README.md"
    p.write_text(PROSE + "```bash\npython train.py --lr 3e-4\n```\n\nThe log:\n\n```csv\n" + CSV_LOG + "```\n\nIt went well.\n")
    run = read_run(p)
    assert run.format == "csv" and run.source == str(p)
    assert run.batches.step.tolist() == list(range(100, 1100, 100))
    assert _warn(run, "warn.markdown_fence") == [{"file": "README.md", "first": 12, "last": 22, "fmt": "csv"}]
    assert p.read_text().splitlines()[11] == "step,loss"  # line 12 of the file is the block's first


def test_pipe_table(tmp_path):
    p = tmp_path / "README.md"
    rows = [(1, 2.91, 2.95), (2, 2.41, 2.52), (3, 2.10, 2.33), (4, 1.92, 2.30), (5, 1.80, 2.31)]
    table = "| Epoch | Train Loss | Val Loss |\n|:-----:|-----------:|---------:|\n" + "".join(f"| {e} | **{t}** | {v} |\n" for e, t, v in rows)
    p.write_text(PROSE + "## Results\n\n" + table + "\nDone.\n")
    run = read_run(p)
    assert run.format == "csv"
    assert run.epochs.epoch.tolist() == [1, 2, 3, 4, 5]
    assert run.epochs.train_loss.tolist() == [t for _, t, _ in rows]
    assert run.epochs.val_loss.tolist() == [v for _, _, v in rows]
    assert _warn(run, "warn.markdown_table") == [{"file": "README.md", "first": 7, "last": 13, "fmt": "csv"}]


def test_a_results_table_without_steps_is_not_a_curve(tmp_path):
    p = tmp_path / "README.md"
    p.write_text(PROSE + "| Model | Val Loss |\n|---|---|\n| small | 2.31 |\n| large | 2.05 |\n")
    run = read_run(p)  # two models' final losses: a page of values (readers/values.py), no series
    assert run.format == "values" and not len(run.batches) and not len(run.epochs)
    assert [(v["name"], v["value"]) for v in run.config["values"]] == [("small Val Loss", 2.31), ("large Val Loss", 2.05)]


def test_log_far_below_the_head(tmp_path):
    """A README whose log starts after 8 KB of prose: detection looks further into a .md than the head."""
    p = tmp_path / "NOTES.md"
    nano = "".join(f"iter {i}: loss {4.2 - i / 100:.4f}, time 12.00ms, mfu 1.00%\n" for i in range(0, 50, 10))
    p.write_text(PROSE + ("Some words about the data. " * 20 + "\n\n") * 30 + "```\n" + nano + "```\n")
    assert p.stat().st_size > 16000
    run = read_run(p)
    assert run.format == "nanogpt" and run.batches.step.tolist() == [1, 11, 21, 31, 41]


def test_the_longest_block_is_read_and_the_others_named(tmp_path):
    p = tmp_path / "README.md"
    short = "```\nstep 10 | loss 3.0\nstep 20 | loss 2.9\nstep 30 | loss 2.8\n```\n"
    long = "```\n" + "".join(f"step {s} | loss {3.5 - s / 1000:.3f}\n" for s in range(10, 210, 10)) + "```\n"
    p.write_text(PROSE + short + "\nand the full run:\n\n" + long)
    run = read_run(p)
    assert len(run.batches) == 20
    assert _warn(run, "warn.markdown_other_blocks") == [{"file": "README.md", "count": 1}]


def test_chinese_notes_in_a_fence(tmp_path):
    """A Chinese notes file: 13 epochs, each with a training and a validation loss (both series)."""
    train = [5.21, 4.8, 4.41, 4.1, 3.85, 3.62, 3.44, 3.3, 3.18, 3.09, 3.01, 2.95, 2.9]
    val = [5.3, 4.95, 4.6, 4.35, 4.18, 4.05, 3.96, 3.9, 3.86, 3.83, 3.81, 3.8, 3.79]
    p = tmp_path / "笔记.md"
    body = "".join(f"第 {e} 轮 | 训练损失 {t} | 验证损失 {v}\n" for e, (t, v) in enumerate(zip(train, val), 1))
    p.write_text("# 训练记录\n\n模型：小型 Transformer，学习率 3e-4。\n\n```text\n" + body + "```\n\n结论：还在下降。\n", encoding="utf-8")
    run = read_run(p)
    assert run.epochs.train_loss.tolist() == train and run.epochs.val_loss.tolist() == val
    assert run.epochs.epoch.tolist() == list(range(1, 14))


def test_warning_lines_are_the_files_lines(tmp_path):
    p = tmp_path / "log.md"
    p.write_text("Run 3\n\n```\nstep 1 | loss 3.0\nstep 2 | loss 2.9\nstep 3 | loss oops\nstep 4 | loss 2.7\n```\n")
    run = read_run(p)
    assert _warn(run, "warn.not_numbers") == [{"count": 1, "first": 6}]


def test_a_text_file_with_fences(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("notes from the run\n```\n" + CSV_LOG + "```\n")
    assert read_run(p).format == "csv"


def test_console_log_without_fences_is_untouched(tmp_path):
    p = tmp_path / "train.log"
    p.write_text("".join(f"step {s} | loss {3 - s / 100}\n" for s in (1, 2, 3)) + "| epoch | loss |\n|---|---|\n| 1 | 2.9 |\n| 2 | 2.8 |\n")
    run = read_run(p)
    assert run.format == "console" and not _warn(run, "warn.markdown_table")


def test_blocks_unterminated_fence_and_tilde():
    bs = blocks("a\n~~~\nx 1\n~~~\n````\ny\n```\nz\n")
    assert [(b.kind, b.first, b.last) for b in bs] == [("fence", 3, 3), ("fence", 6, 8)]
    assert bs[1].text == "y\n```\nz\n"  # a shorter fence does not close a longer one; left open, it runs to the end


def test_explain_json_on_a_readme(tmp_path, capsys):
    p = tmp_path / "README.md"
    losses = 4.0 * np.exp(-np.arange(1, 41) / 15) + 1.5
    p.write_text(PROSE + "```\n" + "".join(f"step {i} | loss {x:.4f}\n" for i, x in enumerate(losses, 1)) + "```\n")
    code = lossdoc_cli(["explain", str(p), "--json"])  # the CLI's own entry, in this process (tests/cli runs `python -m lossdoc`)
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format"] == "console" and doc["reader_warnings"][0]["key"] == "warn.markdown_fence"


def test_trainer_model_card_results_table(tmp_path):
    """The README.md the Hugging Face Trainer writes (transformers' modelcard.py, make_markdown_table): a
    'Training results' table with 'No log' where no training loss was logged yet."""
    p = tmp_path / "README.md"
    p.write_text(
        "---\nlicense: mit\ntags:\n- generated_from_trainer\n---\n\n# gpt2-finetuned\n\n"
        "It achieves the following results on the evaluation set:\n- Loss: 3.2100\n\n### Training results\n\n"
        "| Training Loss | Epoch | Step | Validation Loss |\n|:-------------:|:-----:|:----:|:---------------:|\n"
        "| No log        | 1.0   | 100  | 3.5120          |\n| 3.6500        | 2.0   | 200  | 3.3010          |\n"
        "| 3.4000        | 3.0   | 300  | 3.2100          |\n\n\n### Framework versions\n\n- Transformers 4.30.0\n"
    )
    run = read_run(p)
    assert run.epochs.step.tolist() == [100, 200, 300] and run.epochs.val_loss.tolist() == [3.512, 3.301, 3.21]
    assert np.isnan(run.epochs.train_loss[0]) and run.epochs.train_loss[1:].tolist() == [3.65, 3.4]
    assert _warn(run, "warn.not_numbers") == [{"count": 1, "first": 16}]  # 'No log', on line 16 of the README


def _ddp_console(n=20, stale=True):
    """Lines like ezpz/wordplay's trainer (a progress bar, then key=value pairs), the val column repeated from step 0."""
    out = []
    for i in range(1, n + 1):
        loss = 2.4 + 1.3 * 0.8**i
        val = 4.2905 if stale else 2.5 + 1.3 * 0.8**i
        out.append(
            f" {i}%|#  | {i}/100 [00:04<07:04,  4.29s/it][2024-04-02 01:59:45][INFO][trainer:837] - step={5 * i} loss={loss:.4f} dt=85.2 train_loss=4.2922 val_loss={val:.4f}"
        )
    return out


def test_a_console_pasted_into_the_pages_own_text(tmp_path):
    # no code block holds the log: a Markdown page whose console sits in its text, after inline code spans that open
    # with three backticks (not fences, by CommonMark: a backtick fence's info string holds no backtick)
    page = ["## HW-6 Log Files", "```View run stilted-puddle-1 at: https://wandb.ai/x/y```", "", "```View job at https://wandb.ai/x/z```", ""]
    page += [f"[2024-04-02 01:59:23][INFO][distributed_c10d:442] - Added key: store_based_barrier_key:1 for rank: {r}" for r in range(300)]
    page += _ddp_console(stale=False)
    page += ["wandb: Run summary:", "wandb:          Training/loss 2.40747", "wandb:                   iter 100"]
    md = tmp_path / "homework.md"
    md.write_text("\n".join(page) + "\n")
    assert blocks(md.read_text()) == []  # the inline spans are no fences
    run = read_run(md)
    assert run.format == "console"
    assert any(w.key == "warn.markdown_text" for w in run.warnings)
    assert run.epochs.step.tolist() == [5.0 * i for i in range(1, 21)]  # W&B's closing summary lines are not read
    assert run.epochs.val_loss.tolist() == pytest.approx([round(2.5 + 1.3 * 0.8**i, 4) for i in range(1, 21)])
    # a page whose text holds no log is still "no log in this page"
    (tmp_path / "notes.md").write_text("# Notes\n\nThe loss went down.\n")
    with pytest.raises(LossdocError) as e:
        read_run(tmp_path / "notes.md")
    assert e.value.key in ("error.markdown_no_log", "error.unknown_format")


def test_a_block_its_reader_cannot_read_gives_way_to_the_next(tmp_path):
    # a JSON config with comments, claimed by the JSON reader, then refused: the log in the other block is read
    md = tmp_path / "progress.md"
    cfg = '```json\n{\n  "training_config": {\n    "max_steps": 300,  // more\n    "eval_steps": 20,\n    "save_steps": 100,\n    "lr": 0.0001\n  }\n}\n```\n'
    log = "```\n" + "".join(f"epoch 1 | step {s} | loss {4 - s / 100:.3f}\n" for s in range(1, 6)) + "```\n"
    md.write_text("# Progress\n\n" + cfg + "\nThe run:\n\n" + log)
    run = read_run(md)
    assert run.batches.loss.tolist() == pytest.approx([4 - s / 100 for s in range(1, 6)])


def test_a_page_whose_only_block_cannot_be_read_falls_back_to_its_text(tmp_path):
    # a fenced config, claimed and refused, then a console pasted into the text right after a table no reader claims
    md = tmp_path / "notes.md"
    console = "".join(f"step {s} | loss {4 - s / 100:.3f}\n" for s in range(10, 60, 10))
    md.write_text("# Run\n\n| step | acc |\n|---|---|\n" + console + '\n```json\n{"lr": 0.001, "batch": 32}\n```\n')
    run = read_run(md)
    assert run.batches.loss.tolist() == pytest.approx([4 - s / 100 for s in range(10, 60, 10)])  # the line after the table too
    assert any(w.key == "warn.markdown_text" for w in run.warnings)


def test_an_indented_code_block_in_notes(tmp_path):
    """A converter that writes no fences indents the log four spaces (CommonMark's indented code block): the twelfth
    held-out set's notes were 'cannot tell which kind of log'. In a .md file it is a block; in a .txt file indented
    lines are not Markdown."""
    table = "Epoch   Loss    Grad Norm   Learning Rate\n" + "".join(
        f"{e}     {x}    61.8       0.0002\n" for e, x in ((0.8, 2.07), (1.0, 0.95), (1.8, 1.45), (2.0, 1.42), (2.8, 1.29), (3.0, 1.30))
    )
    body = "".join(("    " + x if x else x) + "\n" for x in table.splitlines())
    p = tmp_path / "fine_tuning_progress.md"
    p.write_text(PROSE + "## Raw Training Log\n\n" + body + "\n**Observations:** the loss decreases.\n\n    train_runtime: 15.0s\n")
    run = read_run(p)
    assert run.batches.loss.tolist() == [2.07, 0.95, 1.45, 1.42, 1.29, 1.30]
    assert _warn(run, "warn.markdown_fence") == [{"file": "fine_tuning_progress.md", "first": 7, "last": 13, "fmt": "csv"}]
    assert p.read_text().splitlines()[6].strip().startswith("Epoch")  # line 7 of the file is the block's first
    assert [b.kind for b in blocks(p.read_text())][:1] == ["indented"]
    assert blocks(p.read_text(), tables=False) == []  # a text file that is not Markdown: fences only
