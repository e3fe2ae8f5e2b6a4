"""Console lines printed through Python's logging: the level and logger before each message. A class of the
twenty-seventh held-out set (docs/accuracy.md): a CGCNN regression's log, ``2025-07-07 13:55:26.649 INFO: Epoch
[001/300] - Train Loss: 145.13, Valid Loss: 70.66, LR: [0.001]`` a line for 300 epochs, was read as 34 evaluations
(its epochs only from the "[SAVE] Best model at epoch N" lines): read as a name, "INFO" took "Epoch" as its value."""

from __future__ import annotations

import pytest

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run

LINES = [
    "INFO: Epoch {e} - Train Loss: {t}, Valid Loss: {v}",
    "INFO:root:Epoch {e} - Train Loss: {t}, Valid Loss: {v}",
    "INFO:__main__:Epoch {e}: train_loss={t} val_loss={v}",
    "WARNING:root:Epoch {e} loss {t} val loss {v}",
    "INFO Epoch [{e}/300] - Train Loss: {t}, Valid Loss: {v}",
    "2025-07-07 13:55:26.649 INFO: Epoch [{e:03d}/300] - Train Loss: {t}, Valid Loss: {v}, LR: [0.001]",
    "2023-01-01 12:00:00.000 | INFO     | __main__:train:42 - Epoch {e} | loss {t} | val_loss {v}",
    "INFO: epoch={e} train_loss={t} val_loss={v}",
]


@pytest.mark.parametrize("line", LINES)
def test_every_epoch_is_read_after_a_logging_prefix(tmp_path, line):
    path = tmp_path / "train.log"
    train = [3.0 * 0.95**e for e in range(1, 41)]
    val = [3.1 * 0.96**e for e in range(1, 41)]
    path.write_text("".join(line.format(e=e, t=f"{t:.5f}", v=f"{v:.5f}") + "\n" for e, t, v in zip(range(1, 41), train, val)))
    run = read_run(path)
    assert run.epochs.epoch.tolist() == [float(e) for e in range(1, 41)]
    assert run.epochs.val_loss.tolist() == pytest.approx(val, abs=1e-5)
    assert diagnose(run).verdict == "still-learning"


def test_a_level_word_inside_a_message_is_left_alone(tmp_path):
    # "INFO" only as a logging level: a key that happens to hold the word is still read as before
    path = tmp_path / "train.log"
    path.write_text("".join(f"step {s} | loss {3.0 - 0.01 * s:.4f} | INFOnce 3\n" for s in range(1, 61)))
    run = read_run(path)
    assert len(run.batches) == 60


def test_a_level_word_after_a_split_is_not_a_prefix(tmp_path):
    # "val ERROR: 0.49" is an error rate named in capitals, not a logging prefix: no validation loss
    path = tmp_path / "train.log"
    path.write_text("".join(f"Epoch {e} | train_loss {3 - 0.05 * e:.4f} | val ERROR: {0.5 - 0.01 * e:.4f}\n" for e in range(1, 21)))
    run = read_run(path)
    assert len(run.batches) == 20 and len(run.epochs) == 0


def test_a_counter_joined_by_colons_after_the_logger(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("".join(f"INFO:root:epoch:{e} loss:{3 - 0.05 * e:.4f} val_loss:{3.1 - 0.05 * e:.4f}\n" for e in range(1, 21)))
    assert read_run(path).epochs.epoch.tolist() == [float(e) for e in range(1, 21)]
