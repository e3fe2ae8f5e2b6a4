"""Several runs appended to one log: the script started again, writing to the same file (Keras'
``CSVLogger(append=True)``, ``open(..., "a")``). Classes of the thirty-eighth and thirty-ninth held-out sets
(docs/accuracy.md): an Airbus U-Net's ``training_history.csv`` holding three runs (epochs 0-2, 0-2, 0-15; the first
with a loss of exactly 0.0 and a validation spike), and an HPN model's ``loss.txt`` whose epoch 0 was written three
times. Only the last run is the run the user asks about; a warning says where it starts."""

from __future__ import annotations

import numpy as np
import pytest

from lossdoc.runlog.readers import read_run
from lossdoc.runlog.readers.numbers import run_starts

RUN = [(1.21, 1.10), (1.03, 0.96), (0.89, 0.80), (0.70, 0.59), (0.53, 0.45), (0.42, 0.39), (0.37, 0.37), (0.35, 0.33)]


def _read(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return read_run(path)


def _appended(run):
    return any(w.key == "warn.runs_appended" for w in run.warnings)


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
    run = _read(tmp_path, "metrics.csv", ["epoch,step,train_loss"] + [f"{s // 10},{s},{3.0 - s * 0.01}" for s in range(1, 40)])
    assert len(run.batches) == 39 and not _appended(run)


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


def test_a_list_whose_count_starts_again_reads_its_last_run(tmp_path):
    path = tmp_path / "loss.txt"
    path.write_text("0: 0.31\n1: 0.25\n2: 0.22\n0: 0.30\n1: 0.19\n2: 0.155\n3: 0.141\n4: 0.133\n")
    run = read_run(path)
    assert run.batches.loss.tolist() == pytest.approx([0.30, 0.19, 0.155, 0.141, 0.133])
    assert run.batches.step.tolist() == [1, 2, 3, 4, 5]  # (a bare count from 0 is numbered from 1, as epochs are)
    assert next(w for w in run.warnings if w.key == "warn.runs_appended").args == {"runs": 2, "line": 4}


def test_a_first_count_written_three_times_is_one_run(tmp_path):
    # the thirty-ninth set's HPN model: 0: 0.2986, 0: 0.3223, 0: 0.2986, 1: ..., 4: ...: the count never rose before
    # it came back, so nothing says a run ended (all seven values are read)
    path = tmp_path / "loss.txt"
    path.write_text("0: 0.2986\n0: 0.3223\n0: 0.2986\n1: 0.1903\n2: 0.1559\n3: 0.1411\n4: 0.1326\n")
    run = read_run(path)
    assert len(run.batches) == 7
    assert not any(w.key == "warn.runs_appended" for w in run.warnings)


def test_paired_lists_are_cut_each_at_its_own_last_run(tmp_path):
    # the last run stopped before its last evaluation: its validation list is one shorter
    (tmp_path / "train_loss.txt").write_text(
        "".join(f"Epoch {e}: {x}\n" for e, x in [(1, 2.0), (2, 1.5), (3, 1.2), (1, 2.1), (2, 1.4), (3, 1.1), (4, 0.9), (5, 0.8)])
    )
    (tmp_path / "val_loss.txt").write_text(
        "".join(f"Epoch {e}: {x}\n" for e, x in [(1, 2.1), (2, 1.6), (3, 1.3), (1, 2.2), (2, 1.5), (3, 1.2), (4, 1.0)])
    )
    run = read_run(tmp_path / "train_loss.txt")
    assert run.batches.loss.tolist() == pytest.approx([2.1, 1.4, 1.1, 0.9, 0.8])
    assert run.epochs.val_loss.tolist() == pytest.approx([2.2, 1.5, 1.2, 1.0])


@pytest.mark.parametrize("line", ["Iter {i}/20 | {x}", "{i}: {x}"])
def test_a_count_that_starts_again_every_epoch_on_a_flat_curve_is_one_run(tmp_path, line):
    rng = np.random.default_rng(3)
    values = 0.5 + rng.normal(0, 0.05, 100)
    path = tmp_path / "train_loss.txt"
    path.write_text("".join(line.format(i=k % 20 + (line[0] == "I"), x=f"{x:.4f}") + "\n" for k, x in enumerate(values)))
    run = read_run(path)
    assert len(run.batches) == 100
    assert not any(w.key == "warn.runs_appended" for w in run.warnings)


def test_a_second_fit_that_goes_on_training_is_one_run(tmp_path):
    # Keras fit() twice with CSVLogger(append=True): the epochs start again, the loss goes on from where it was
    path = tmp_path / "training_log.csv"
    first = [(2.3, 2.35), (1.8, 1.9), (1.5, 1.6), (1.3, 1.4), (1.1, 1.25), (1.02, 1.17)]
    second = [(0.87, 1.02), (0.7, 0.9), (0.6, 0.8), (0.5, 0.7), (0.43, 0.6), (0.38, 0.51)]
    path.write_text("\n".join(["epoch,loss,val_loss", *_rows(first), *_rows(second)]) + "\n")
    run = read_run(path)
    assert len(run.epochs) == 12
    assert not any(w.key == "warn.runs_appended" for w in run.warnings)


def test_a_rising_step_column_keeps_one_run_when_the_epoch_starts_again(tmp_path):
    rows = ["step,epoch,train_loss,val_loss"] + [f"{100 * (i + 1)},{i % 6},{3.0 - 0.1 * i},{3.1 - 0.1 * i}" for i in range(12)]
    run = _read(tmp_path, "log.csv", rows)
    assert len(run.epochs) == 12 and not _appended(run)


def test_the_last_runs_rows_are_numbered_from_its_start(tmp_path):
    path = tmp_path / "training_history.csv"
    aborted = [(0.77, 0.85), (0.9, 0.95), (0.57, 2.18)]
    path.write_text("\n".join(["epoch,loss,val_loss", *_rows(aborted), *_rows(RUN)]) + "\n")
    run = read_run(path)
    assert run.epochs.step.tolist() == [float(i) for i in range(1, len(RUN) + 1)]


def test_run_starts():
    assert run_starts([1, 2, 3], [3.0, 2.0, 1.0]) == [0]
    assert run_starts([1, 2, 1, 2, 3], [3.0, 2.0, 3.0, 2.0, 1.0]) == [0, 2]
    # the value back at the level the run had reached: the same run (a count per epoch, a second fit())
    assert run_starts([1, 2, 1, 2], [3.0, 2.0, 1.9, 1.8]) == [0]
    assert run_starts([1, 2, 1, 2], [3.0, 2.0, 2.9, 1.8]) == [0, 2]
    # a count that printed its total starts again every epoch; so does one in stretches of one length
    assert run_starts([1, 2, 1, 2], [3.0, 2.0, 2.9, 1.8], per_epoch=True) == [0]
    assert run_starts([1, 2, 1, 2, 1, 2], [3.0, 2.0, 2.9, 1.8, 2.95, 1.7]) == [0]
    # counted from the top down (a file sorted newest first): the count never rose, no run ended
    assert run_starts([5, 4, 3, 2, 1], [1.0, 1.1, 1.2, 1.3, 1.4]) == [0]


def test_a_run_that_ended_in_nan_and_was_started_again(tmp_path):
    # Keras' TerminateOnNaN, then the script run again into the same file: the NaN is no level to be near
    path = tmp_path / "train_loss.txt"
    rows = [(1, 2.3), (2, 2.1), (3, 9.5), (4, "nan")] + [(e, 2.3 * 0.8**e + 0.4) for e in range(1, 13)]
    path.write_text("".join(f"Epoch {e}: {x}\n" for e, x in rows))
    run = read_run(path)
    assert len(run.batches) == 12 and any(w.key == "warn.runs_appended" for w in run.warnings)
    csv = tmp_path / "log.csv"
    csv.write_text("\n".join(["epoch,loss,val_loss", "0,2.3,2.4", "1,2.1,2.2", "2,5.5,6.0", "3,nan,nan", *_rows(RUN)]) + "\n")
    run = read_run(csv)
    assert run.epochs.val_loss.tolist() == pytest.approx([v for _, v in RUN])


def test_three_runs_of_one_length_counted_by_epoch_are_three_runs(tmp_path):
    path = tmp_path / "train_loss.txt"
    path.write_text("".join(f"Epoch {e}: {2.4 * 0.82**e:.4f}\n" for _ in range(3) for e in range(1, 11)))
    run = read_run(path)
    assert len(run.batches) == 10
    assert next(w for w in run.warnings if w.key == "warn.runs_appended").args["runs"] == 3


def test_a_step_count_that_starts_again_as_the_epoch_moves_on_is_one_run(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["epoch,step,loss,val_loss"]
    for e in range(5):
        rows += [f"{e},{s},{0.5 + rng.normal(0, 0.05) - 0.01 * e:.4f}," for s in range(0, 100, 10)]
        rows.append(f"{e},99,,{0.55 - 0.01 * e}")
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    run = read_run(tmp_path / "log.csv")
    assert len(run.epochs) == 5
    assert not any(w.key == "warn.runs_appended" for w in run.warnings)
