"""The seed's console output: Chinese and English copies, encodings, line ends, debris."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run, seed_console

COPIES = ["seed_zh.txt", "seed_en.txt", "seed_zh_gb18030.txt", "seed_zh_utf16.txt"]


def _expected_from_text(text: str):
    """An independent parse: the batch lines and summaries, by simple string handling."""
    batches = {}
    for line in text.splitlines():
        m = re.fullmatch(r"Epoch (\d+), Batch (\d+)/(\d+), Loss: ([\d.]+)", line.strip())
        if m:
            e, b, z, loss = int(m[1]), int(m[2]), int(m[3]), float(m[4])
            batches[(e - 1) * z + b] = (e, loss)
    vals = [float(line.split(":")[1]) for line in text.splitlines() if line.startswith(("验证损失", "Val Loss"))]
    trains = [float(line.split(":")[1]) for line in text.splitlines() if line.startswith(("训练损失", "Train Loss"))]
    return batches, trains, vals


@pytest.mark.parametrize("name", COPIES)
def test_seed_copies_parse_to_the_seed_numbers(fix, name):
    path = fix / "seed_console" / name
    run = read_run(path)
    assert run.format == "seed-console"
    # the dummy-data line (line 2) says random ids in [1, V); V is the seed script's default 10000
    assert run.random_data is True and run.sources["random_data"].kind == "log" and dict(run.sources["random_data"].args) == {"line": 2}
    assert run.vocab_size == 10000 and run.sources["vocab_size"].kind == "default"
    assert run.random_low == 1 and run.entropy_floor == pytest.approx(math.log(9999), abs=1e-12)
    assert run.pretrained is False and run.model["params"] == 7812624
    text = (fix / "seed_console" / "seed_en.txt").read_text(encoding="utf-8")
    batches, trains, vals = _expected_from_text(text)
    assert run.batches.step.tolist() == sorted(batches)
    assert run.batches.loss.tolist() == [batches[s][1] for s in sorted(batches)]
    assert run.batches.epoch.tolist() == [batches[s][0] for s in sorted(batches)]
    # The seed's own numbers: first loss ~9.38 (batch 1, before any update), best validation 9.2290.
    assert run.batches.step[0] == 1 and run.batches.loss[0] == pytest.approx(9.38, abs=0.005)
    assert 9.19 <= run.batches.loss[-20:].min() and run.batches.loss[-20:].max() <= 9.245
    assert run.epochs.epoch.tolist() == [1, 2, 3]
    assert run.epochs.step.tolist() == [250, 500, 750]  # Z = 250 batches per epoch
    assert run.epochs.train_loss.tolist() == trains
    assert run.epochs.val_loss.tolist() == vals
    assert float(np.min(run.epochs.val_loss)) == 9.2290
    assert np.isnan(run.batches.lr).all() and np.isnan(run.epochs.val_tokens).all()
    kinds = [(e.kind, e.step) for e in run.events]
    assert kinds.count(("checkpoint_saved", 250.0)) == 1 and ("best_saved", 750.0) in kinds
    assert run.warnings == []


def test_chinese_and_english_copies_are_the_same_run(fix):
    a, b = read_run(fix / "seed_console" / "seed_zh.txt"), read_run(fix / "seed_console" / "seed_en.txt")
    for field in ("step", "loss", "epoch"):
        assert np.array_equal(getattr(a.batches, field), getattr(b.batches, field))
    assert np.array_equal(a.epochs.val_loss, b.epochs.val_loss)


def test_messy_paste_timestamps_tqdm_fullwidth_colons_nan(fix):
    run = read_run(fix / "seed_console" / "seed_messy.txt")
    assert run.batches.step.tolist() == [1, 50, 100, 150, 200]
    assert run.batches.loss[0] == 9.3790 and math.isnan(run.batches.loss[3])
    assert run.batches.epoch.tolist() == [1, 1, 1, 2, 2]
    assert run.epochs.epoch.tolist() == [1, 2]
    assert run.epochs.step.tolist() == [100, 200]
    assert run.epochs.train_loss.tolist() == [9.2601, 9.2250]
    assert run.epochs.val_loss.tolist() == [9.2330, 9.2310]
    # "最佳验证损失：9.2330" is printed after a lower 9.2310: the reader says so.
    assert [w.key for w in run.warnings] == ["warn.best_mismatch"]
    assert run.warnings[0].args == {"logged": "9.2330", "line": 13, "computed": "9.2310"}


def test_zero_based_batches_and_epochs_are_shifted(tmp_path):
    p = tmp_path / "log.txt"
    p.write_text(
        "Epoch 0, Batch 0/4, Loss: 5.0\nEpoch 0, Batch 3/4, Loss: 4.0\nTrain Loss: 4.5\nVal Loss: 4.4\n"
        "Epoch 1, Batch 0/4, Loss: 3.9\nVal Loss: 4.1\n",
        encoding="utf-8",
    )
    run = seed_console.read(p)
    assert run.batches.step.tolist() == [1, 4, 5]
    assert run.batches.epoch.tolist() == [1, 1, 2]
    assert run.epochs.epoch.tolist() == [1, 2] and run.epochs.step.tolist() == [4, 8]
    assert "warn.epochs_from_zero" in [w.key for w in run.warnings]


def test_batches_without_total_estimate_steps_with_a_warning(tmp_path):
    p = tmp_path / "log.txt"
    p.write_text("Epoch 1, Batch 10, Loss: 5.0\nEpoch 1, Batch 20, Loss: 4.0\nEpoch 2, Batch 10, Loss: 3.5\n", encoding="utf-8")
    run = seed_console.read(p)
    assert run.batches.step.tolist() == [10, 20, 30]
    assert [w.key for w in run.warnings] == ["warn.steps_estimated"]


def test_summaries_only_are_numbered_in_order(tmp_path):
    p = tmp_path / "log.txt"
    p.write_text("训练损失: 9.30\n验证损失: 9.25\n训练损失: 9.22\n验证损失: 9.23\n最佳验证损失: 9.23\n", encoding="utf-8")
    run = read_run(p)
    assert run.format == "seed-console" and len(run.batches) == 0
    assert run.epochs.epoch.tolist() == [1, 2]
    assert run.epochs.val_loss.tolist() == [9.25, 9.23]
    assert run.warnings == []


def test_no_training_lines_is_one_clear_error(fix):
    with pytest.raises(LossdocError) as ei:
        read_run(fix / "malformed" / "seed_no_numbers.txt")
    assert ei.value.key == "error.seed_no_lines"
    assert "\n" not in str(ei.value)
