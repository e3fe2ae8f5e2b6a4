"""Chinese keys in console logs (issue 23): 损失, 训练损失, 验证损失, 平均损失, 轮, 步, 批次, 学习率, full-width ： and ，."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers._common import zh_to_en

TRAIN = [5.21, 4.80, 4.41, 4.10, 3.85, 3.62, 3.44, 3.30, 3.18, 3.09, 3.01, 2.95, 2.90]
VAL = [5.30, 4.95, 4.60, 4.35, 4.18, 4.05, 3.96, 3.90, 3.86, 3.83, 3.81, 3.80, 3.79]


@pytest.mark.parametrize(
    "line",
    [
        "第 {e} 轮 训练损失: {t} 验证损失: {v}",  # the seed reader's keys
        "第 {e} 轮 训练损失 {t} 验证损失 {v}",  # no colon
        "第{e}轮，训练损失：{t}，验证损失：{v}",  # full-width punctuation
        "轮次 {e}/13 | 训练损失 = {t} | 验证损失 = {v}",
    ],
)
def test_epoch_notes_give_train_and_val_per_epoch(tmp_path, line):
    """An epoch line with a training loss gives the training series too: 13 epochs, each with both losses."""
    p = tmp_path / "notes.txt"
    p.write_text("实验记录\n" + "".join(line.format(e=e, t=t, v=v) + "\n" for e, (t, v) in enumerate(zip(TRAIN, VAL), 1)), encoding="utf-8")
    run = read_run(p)
    assert run.epochs.epoch.tolist() == list(range(1, 14))
    assert run.epochs.train_loss.tolist() == TRAIN
    assert run.epochs.val_loss.tolist() == VAL


def test_batches_steps_and_lr(tmp_path):
    p = tmp_path / "train.log"
    p.write_text(
        "2024-05-01 10:00:00 开始训练\n"
        "第 1 轮 第 100 步 损失: 8.20 学习率: 0.0003\n"
        "第 1 轮 第 200 步 损失: 7.10 学习率: 0.0003\n"
        "第 1 轮 训练损失: 7.50 验证损失: 7.20\n"
        "第 2 轮 第 300 步 损失: 6.40 学习率: 0.0002\n"
        "第 2 轮 第 400 步 损失: 6.00 学习率: 0.0001\n"
        "第 2 轮 训练损失: 6.20 验证损失: 6.10\n",
        encoding="utf-8",
    )
    run = read_run(p)
    assert run.format == "console"  # not the seed's: its 训练损失 lines are epoch summaries without steps
    assert run.batches.step.tolist() == [100, 200, 300, 400]
    assert run.batches.loss.tolist() == [8.2, 7.1, 6.4, 6.0]
    assert run.batches.lr.tolist() == [0.0003, 0.0003, 0.0002, 0.0001]
    assert run.batches.epoch.tolist() == [1, 1, 2, 2]
    assert run.epochs.train_loss.tolist() == [7.5, 6.2] and run.epochs.val_loss.tolist() == [7.2, 6.1]


def test_batch_and_average_loss(tmp_path):
    p = tmp_path / "train.log"
    lines = [f"轮次：{e}/2，批次：{b}/50，损失：{5 - 0.01 * (e * 50 + b):.3f}" for e in (1, 2) for b in (10, 20, 30, 40, 50)]
    lines.insert(5, "第 1 轮 平均损失：4.30")
    lines.append("第 2 轮 平均损失：3.80")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = read_run(p)
    assert run.format == "console"
    assert run.batches.step.tolist() == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]  # (epoch - 1) * 50 + batch
    assert run.epochs.train_loss.tolist() == [4.3, 3.8] and np.isnan(run.epochs.val_loss).all()


def test_vocab_line_last_wins(tmp_path):
    """The console reader reads V from a line printed before training; printed twice, the last one wins."""
    p = tmp_path / "train.log"
    p.write_text(
        "词表大小: 5000\n配置已更新\n词表大小：8000\n" + "".join(f"step {s} | loss {9 - s / 100}\n" for s in (100, 200, 300)), encoding="utf-8"
    )
    run = read_run(p)
    assert run.format == "console"
    assert run.vocab_size == 8000 and dict(run.sources["vocab_size"].args) == {"line": 3}


def test_seed_console_vocab_last_wins(tmp_path):
    p = tmp_path / "seed.txt"
    p.write_text(
        "vocab_size: 5000\nvocab_size: 12000\n"
        + "".join(f"Epoch 1, Batch {b}/30, Loss: {9.3 - b / 100:.4f}\n" for b in (10, 20, 30))
        + "训练损失: 9.10\n"
    )
    run = read_run(p)
    assert run.format == "seed-console"
    assert run.vocab_size == 12000 and dict(run.sources["vocab_size"].args) == {"line": 2}


def test_zh_to_en_leaves_ascii_alone():
    line = "step 10 | loss 3.2"
    assert zh_to_en(line) is line
    assert zh_to_en("第 3 轮，第 120 步，损失：3.21").split() == ["epoch", "3", ",", "step", "120", ",", "loss", ":3.21"]


def test_chinese_column_names_in_a_table(tmp_path):
    """A CSV whose header is Chinese (轮次, 训练损失, 验证损失) is read by the column names of docs/formats.md."""
    p = tmp_path / "history.csv"
    p.write_text("轮次,训练损失,验证损失,学习率\n1,3.2,3.3,0.001\n2,2.9,3.1,0.001\n3,2.7,3.0,0.001\n", encoding="utf-8")
    run = read_run(p)
    assert run.format == "csv"
    assert run.epochs.epoch.tolist() == [1, 2, 3]
    assert run.epochs.train_loss.tolist() == [3.2, 2.9, 2.7] and run.epochs.val_loss.tolist() == [3.3, 3.1, 3.0]


def test_chinese_pipe_table_in_markdown(tmp_path):
    p = tmp_path / "结果.md"
    p.write_text("# 结果\n\n| 步数 | 损失 |\n|---|---|\n| 100 | 3.2 |\n| 200 | 3.0 |\n| 300 | 2.9 |\n", encoding="utf-8")
    run = read_run(p)
    assert run.batches.step.tolist() == [100, 200, 300] and run.batches.loss.tolist() == [3.2, 3.0, 2.9]
