"""Reading classes of the nineteenth held-out set (docs/accuracy.md), each a test that fails before its change:
JSON objects whose loss arrays sit one level down, and a NaN in a validation column of epoch rows."""

from __future__ import annotations

import json
import math

import numpy as np

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run

TRAIN = [4.08, 3.05, 2.63, 2.33, 2.08, 1.84, 1.65, 1.46, 1.25, 1.09]
VAL = [3.29, 2.92, 2.73, 2.63, 2.58, 2.59, 2.56, 2.56, 2.58, 2.61]


def test_per_split_groups_of_per_epoch_lists_are_the_training_and_validation_curves(tmp_path):
    # class: {"train": {"loss": [...], "f1": [...]}, "val": {"loss": [...], "f1": [...]}}, a script's metrics by split
    doc = {"train": {"loss": TRAIN, "f1": [0.5 + 0.03 * i for i in range(10)]}, "val": {"loss": VAL, "f1": [0.5] * 10}}
    (tmp_path / "training_metrics.json").write_text(json.dumps(doc, indent=4))
    run = read_run(tmp_path / "training_metrics.json")
    assert run.epochs.val_loss.tolist() == VAL
    assert run.epochs.train_loss.tolist() == TRAIN
    assert diagnose(run).verdict in ("converged", "overfitting")


def test_a_metrics_object_beside_an_epochs_array_is_read(tmp_path):
    # class: {"epochs": [...], "metrics": {"train_loss": [...], "val_loss": [...], "learning_rate": [...]}}
    doc = {"epochs": list(range(10)), "metrics": {"learning_rate": [1e-3] * 10, "train_loss": TRAIN, "val_loss": VAL}}
    (tmp_path / "history.json").write_text(json.dumps(doc))
    run = read_run(tmp_path / "history.json")
    assert run.epochs.val_loss.tolist() == VAL and run.epochs.train_loss.tolist() == TRAIN


def test_nested_arrays_never_replace_a_top_level_loss(tmp_path):
    # a loss at the top level is the curve; an object of other arrays beside it (of another length) changes nothing
    doc = {"loss": TRAIN, "config": {"layers": [64, 64], "loss": [9.0, 9.0]}}
    (tmp_path / "h.json").write_text(json.dumps(doc))
    assert read_run(tmp_path / "h.json").batches.loss.tolist() == TRAIN


def _nan_tail(fmt: str, tmp_path):
    train = [5.0, 3.9, 3.5, float("nan"), float("nan")]
    val = [4.1, 3.8, 3.6, float("nan"), float("nan")]
    if fmt == "json":  # json.dump writes NaN as NaN, as Python and Keras histories do
        path = tmp_path / "history.json"
        path.write_text(json.dumps({"epochs": [0, 1, 2, 3, 4], "metrics": {"train_loss": train, "val_loss": val}}))
    elif fmt == "csv":
        path = tmp_path / "log.csv"
        path.write_text("epoch,train_loss,val_loss\n" + "".join(f"{e},{t},{v}\n" for e, (t, v) in enumerate(zip(train, val), 1)))
    else:  # a Markdown report's epoch table, the numbers as a notebook printed them
        path = tmp_path / "report.md"
        rows = "".join(f"| {e} | {t:.4f} | {v:.4f} |\n" for e, (t, v) in enumerate(zip(train, val), 1)).replace("nan", "NaN")
        path.write_text("# Training report\n\nThe run failed.\n\n| Epoch | Training Loss | Validation Loss |\n|---|---|---|\n" + rows)
    return read_run(path)


def test_validation_gone_nan_in_epoch_rows_is_a_non_finite_loss():
    # class: losses that turn NaN at an epoch and stay NaN to the end, in rows of evaluations (no batches): the reader
    # took a NaN validation cell for "not evaluated" and the run for a healthy one of 3 epochs
    import tempfile
    from pathlib import Path

    for fmt in ("json", "csv", "md"):
        with tempfile.TemporaryDirectory() as tmp:
            run = _nan_tail(fmt, Path(tmp))
            events = [e for e in run.events if e.kind == "nonfinite_val"]
            assert len(events) == 1 and events[0].step == 4, fmt
            d = diagnose(run)
            assert d.verdict == "broken" and d.finding("nonfinite-loss").status == "fail", fmt


def test_nan_written_where_no_evaluation_ran_is_a_placeholder_not_a_nan_loss(tmp_path):
    # f"{step},{loss},{val}" with val = nan between evaluations: training rows, not 200 evaluations of NaN
    rows = ["step,loss,val_loss"]
    for s in range(1, 201):
        val = f"{3 * math.exp(-s / 80) + 1.1}" if s % 50 == 0 else "nan"
        rows.append(f"{s},{3 * math.exp(-s / 80) + 1 + 0.02 * math.sin(s)},{val}")
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    run = read_run(tmp_path / "log.csv")
    assert len(run.batches) == 196 and len(run.epochs) == 4
    assert not [e for e in run.events if e.kind == "nonfinite_val"]
    assert np.isfinite(run.epochs.val_loss).all()
    assert diagnose(run).verdict == "still-learning"


def test_an_infinite_validation_loss_stays_an_evaluation(tmp_path):
    # inf is no placeholder: the row keeps its evaluation, and the check reports it as before
    (tmp_path / "log.csv").write_text("epoch,train_loss,val_loss\n1,3.0,3.1\n2,2.5,2.6\n3,2.2,inf\n")
    run = read_run(tmp_path / "log.csv")
    assert math.isinf(run.epochs.val_loss[-1])
    assert diagnose(run).verdict == "broken"
