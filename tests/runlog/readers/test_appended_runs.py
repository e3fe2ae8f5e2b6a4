"""Several runs appended to one log: the script started again, writing to the same file (Keras'
``CSVLogger(append=True)``, ``open(..., "a")``). Classes of the thirty-eighth and thirty-ninth held-out sets
(docs/accuracy.md): an Airbus U-Net's ``training_history.csv`` holding three runs (epochs 0-2, 0-2, 0-15; the first
with a loss of exactly 0.0 and a validation spike), and an HPN model's ``loss.txt`` whose epoch 0 was written three
times. Only the last run is the run the user asks about; a warning says where it starts."""

from __future__ import annotations

import pytest

from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.numbers import run_starts

RUN = [(1.21, 1.10), (1.03, 0.96), (0.89, 0.80), (0.70, 0.59), (0.53, 0.45), (0.42, 0.39), (0.37, 0.37), (0.35, 0.33)]


def _rows(pairs, first=0):
    return [f"{e},{t},{v}" for e, (t, v) in enumerate(pairs, start=first)]


def test_a_keras_csv_with_earlier_attempts_reads_the_last_run(tmp_path):
    path = tmp_path / "training_history.csv"
    aborted = [(0.77, 0.85), (0.0, 0.85), (0.57, 2.18)]
    path.write_text("\n".join(["epoch,loss,val_loss", *_rows(aborted), *_rows(aborted[:2]), *_rows(RUN)]) + "\n")
    run = read_run(path)
    assert run.epochs.val_loss.tolist() == pytest.approx([v for _, v in RUN])
    assert run.epochs.train_loss.tolist() == pytest.approx([t for t, _ in RUN])
    warning = next(w for w in run.warnings if w.key == "warn.runs_appended")
    assert warning.args == {"runs": 3, "line": 7}
    assert run.records_read == 13 and run.records_skipped == 0


def test_one_run_whose_epochs_repeat_in_batch_rows_is_one_run(tmp_path):
    # epoch 0 on many batch rows, then 1, ...: the count never goes back
    path = tmp_path / "metrics.csv"
    rows = ["epoch,step,train_loss"] + [f"{s // 10},{s},{3.0 - s * 0.01}" for s in range(1, 40)]
    path.write_text("\n".join(rows) + "\n")
    run = read_run(path)
    assert len(run.batches) == 39
    assert not any(w.key == "warn.runs_appended" for w in run.warnings)


def test_a_step_count_that_starts_again_each_epoch_is_not_a_new_run(tmp_path):
    # step 1..5 every epoch, no epoch column: the loss goes on from where it was, not from a fresh model's level
    path = tmp_path / "log.csv"
    losses = [3.0 * 0.97**i for i in range(20)]
    rows = ["step,loss"] + [f"{i % 5 + 1},{x}" for i, x in enumerate(losses)]
    path.write_text("\n".join(rows) + "\n")
    run = read_run(path)
    assert not any(w.key == "warn.runs_appended" for w in run.warnings)


def test_a_step_count_back_at_a_fresh_models_level_is_a_new_run(tmp_path):
    path = tmp_path / "log.csv"
    first = [3.0 * 0.97**i for i in range(10)]
    second = [3.05 * 0.95**i for i in range(12)]
    rows = ["step,loss"] + [f"{10 * (i + 1)},{x}" for i, x in enumerate(first)] + [f"{10 * (i + 1)},{x}" for i, x in enumerate(second)]
    path.write_text("\n".join(rows) + "\n")
    run = read_run(path)
    assert run.batches.loss.tolist() == pytest.approx(second)
    assert any(w.key == "warn.runs_appended" for w in run.warnings)


def test_a_list_whose_first_epoch_was_written_three_times(tmp_path):
    path = tmp_path / "loss.txt"
    path.write_text("0: 0.2986\n0: 0.3223\n0: 0.2986\n1: 0.1903\n2: 0.1559\n3: 0.1411\n4: 0.1326\n")
    run = read_run(path)
    assert run.batches.loss.tolist() == pytest.approx([0.2986, 0.1903, 0.1559, 0.1411, 0.1326])
    assert next(w for w in run.warnings if w.key == "warn.runs_appended").args == {"runs": 3, "line": 3}


def test_run_starts():
    assert run_starts([1, 2, 3], [3.0, 2.0, 1.0], epochs=True) == [0]
    assert run_starts([1, 2, 1, 2, 3], [3.0, 2.0, 3.0, 2.0, 1.0], epochs=True) == [0, 2]
    # a step count back at the start, the value at the level the run had reached: the same run (steps per epoch)
    assert run_starts([1, 2, 1, 2], [3.0, 2.0, 1.9, 1.8], epochs=False) == [0]
    assert run_starts([1, 2, 1, 2], [3.0, 2.0, 2.9, 1.8], epochs=False) == [0, 2]
