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


def test_a_groups_dumps_training_loss_at_the_evaluations_is_their_training_level(tmp_path):
    # the eighteenth set's 208M run: {"training": {"iters", "loss"}, "validation": {"steps", "train_loss", "val_loss"}}.
    # The evaluations' train_loss (the model measured on training data at each evaluation) is each evaluation's
    # training level, as nanoGPT's console reader keeps "step N: train loss X, val loss Y"; it was dropped
    ev_train = [10.98, 8.22, 7.18, 7.03, 9.97, 10.60, 11.37, 10.06, 12.91, 9.80, 9.09]
    ev_val = [10.98, 8.41, 7.31, 7.25, 9.71, 10.83, 11.50, 10.14, 12.89, 9.87, 9.24]
    iters = list(range(0, 510, 10))
    doc = {
        "validation": {"steps": list(range(0, 550, 50)), "train_loss": ev_train, "val_loss": ev_val},
        "training": {"iters": iters, "loss": [max(6.3, 10.9 - 0.1 * i) for i in range(len(iters))]},
    }
    f = tmp_path / "training_data.json"
    f.write_text(json.dumps(doc))
    run = read_run(f)
    assert run.epochs.train_loss.tolist() == ev_train and run.epochs.val_loss.tolist() == ev_val
    assert run.batches.loss.tolist() == doc["training"]["loss"]
    # both measured on the same weights rose 2 nats from the best: the run got worse, not overfitting
    d = diagnose(run)
    assert d.verdict == "broken" and d.finding("divergence").key == "f.diverge.val_train_rise"


# ------------------------------------------------------------------ a review of the NaN and nested readings


def _placeholders(tmp_path, last_step: int, *, diverge_from: int | None = None, every: int = 50):
    rows = ["step,loss,val_loss"]
    for s in range(1, last_step + 1):
        nan_now = diverge_from is not None and s >= diverge_from
        loss = "nan" if nan_now else f"{3 * math.exp(-s / 80) + 1 + 0.02 * math.sin(s)}"
        val = "nan" if nan_now or s % every else f"{3 * math.exp(-s / 80) + 1.1}"
        rows.append(f"{s},{loss},{val}")
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    return read_run(tmp_path / "log.csv")


def test_placeholders_before_the_first_evaluation_are_no_nan_loss(tmp_path):
    # a run watched (or explained) before its first evaluation: every validation cell a placeholder
    run = _placeholders(tmp_path, 49)
    assert len(run.batches) == 49 and len(run.epochs) == 0 and not run.events
    assert diagnose(run).verdict != "broken"


def test_training_gone_nan_in_the_placeholder_layout_is_a_nan_batch(tmp_path):
    # rows "301,nan,nan" after the placeholders: training rows whose loss is NaN, not evaluations of NaN
    run = _placeholders(tmp_path, 400, diverge_from=301)
    assert len(run.epochs) == 6 and int(np.isnan(run.batches.loss).sum()) == 100
    d = diagnose(run)
    assert d.verdict == "broken" and d.finding("nonfinite-loss").key.startswith("f.nonfinite.batch")


def test_epoch_rows_evaluated_every_other_epoch_keep_their_placeholders_and_a_longer_nan_end_is_a_nan_loss(tmp_path):
    def rows(vals):
        text = "epoch,train_loss,val_loss\n" + "".join(f"{e},{3.0 - 0.1 * e},{v}\n" for e, v in enumerate(vals, 1))
        (tmp_path / "h.csv").write_text(text)
        return read_run(tmp_path / "h.csv")

    every_other = ["nan" if e % 2 else f"{3.1 - 0.1 * e}" for e in range(1, 13)]
    assert not rows(every_other).events  # ends on a placeholder, one NaN: no longer than the gaps
    gone = every_other[:8] + ["nan"] * 4
    ev = rows(gone).events
    assert [e.kind for e in ev] == ["nonfinite_val"] and ev[0].step == 9.0
    d = diagnose(rows(gone))
    assert d.verdict == "broken" and d.finding("nonfinite-loss").key == "f.nonfinite.val_event"


def test_nested_lists_of_different_lengths_are_spread_as_top_level_ones_are(tmp_path):
    # {"train": {"loss": [1000 batches]}, "val": {"loss": [10 epochs]}}: both read, as {"train_loss": [...1000], ...}
    train = [3.0 - 0.001 * i for i in range(1000)]
    val = [3.0 - 0.09 * i for i in range(10)]
    (tmp_path / "h.json").write_text(json.dumps({"train": {"loss": train}, "val": {"loss": val}}))
    run = read_run(tmp_path / "h.json")
    assert len(run.batches) == 1000 and run.epochs.val_loss.tolist() == val


def test_a_history_whose_every_loss_is_nan_is_a_run_of_non_finite_losses(tmp_path):
    # the simulator's handful tier: a run NaN from its first epoch, as json.dump and a CSV write it; it was refused
    # ("no loss values"), then read as a page of values and called inconclusive
    (tmp_path / "history.json").write_text('{"loss": [NaN, NaN, NaN], "val_loss": [NaN, NaN, NaN]}')
    (tmp_path / "log.csv").write_text("epoch,train_loss,val_loss\n1,nan,nan\n2,nan,nan\n3,nan,nan\n")
    for name in ("history.json", "log.csv"):
        run = read_run(tmp_path / name)
        assert len(run.batches) == 3 and np.isnan(run.batches.loss).all(), name
        assert [w.key for w in run.warnings if w.key == "warn.nan_losses"] == ["warn.nan_losses"], name
        d = diagnose(run)
        assert d.verdict == "broken" and d.finding("nonfinite-loss").status == "fail", name


def test_an_all_infinite_table_is_not_reported_as_nan(tmp_path):
    # the all-NaN path takes NaN only: infinite validation losses stay evaluations, reported at their first step
    (tmp_path / "log.csv").write_text("epoch,train_loss,val_loss\n1,inf,inf\n2,inf,inf\n3,inf,inf\n")
    run = read_run(tmp_path / "log.csv")
    assert not [w for w in run.warnings if w.key == "warn.nan_losses"] and np.isinf(run.epochs.val_loss).all()
    f = diagnose(run).finding("nonfinite-loss")
    assert f.status == "fail" and f.key == "f.nonfinite.event" and f.args["step"] == 1
