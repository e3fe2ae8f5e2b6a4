"""A history inside a larger JSON document, or a table in pandas' JSON: classes of the thirty-fifth, thirty-eighth and
thirty-ninth held-out sets (docs/accuracy.md). A U-Net's ``train_history.json`` written by
``pd.DataFrame(history.history).to_json()`` (``{"loss": {"0": 0.45, ...}}``) was refused as "one JSON document";
a sound-event model's ``json.dump({epoch: {"train_loss": ..., "val_loss": ...}})`` on one line was read as one record
("too little in this log"); an LSTM's ``training_results.json`` (settings, ``training_history``, test scores, a list of
per-class records) was read as the per-class records ("no loss column"); a character RNN's ``.meta.json`` (a
``losses`` array beside a list of category names) had its losses "spread" against the names. The tables are written
here by pandas itself (a dependency of ``datasets``)."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from lossdoc.analysis import diagnose
from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import read_run

TRAIN = [1.36, 1.02, 0.81, 0.66, 0.55, 0.47, 0.41, 0.36, 0.32, 0.29, 0.26, 0.24]
VAL = [1.30, 1.05, 0.90, 0.82, 0.78, 0.77, 0.79, 0.83, 0.88, 0.94, 1.01, 1.09]


def _is_the_overfitting_history(run):
    val, train = _eval_losses(run)
    assert val == pytest.approx(VAL) and train == pytest.approx(TRAIN)
    assert diagnose(run).verdict == "overfitting"


def _eval_losses(run):
    from lossdoc.analysis.context import eval_rows

    rows = eval_rows(run.epochs)
    return [float(x) for x in run.epochs.val_loss[rows]], [float(x) for x in run.epochs.train_loss[rows]]


@pytest.mark.parametrize("orient", ["columns", "index", "split"])
def test_a_dataframe_written_by_pandas_to_json_is_its_history(tmp_path, orient):
    path = tmp_path / "train_history.json"
    pd.DataFrame({"loss": TRAIN, "val_loss": VAL}).to_json(path, orient=orient)
    run = read_run(path)
    val, train = _eval_losses(run)
    assert val == pytest.approx(VAL)
    assert train == pytest.approx(TRAIN)
    # the index 0..11 is the rows' places, not steps (a step 0 would be "before any update")
    assert run.epochs.step.tolist() == [float(i) for i in range(1, 13)]
    assert diagnose(run).verdict == "overfitting"


def test_pandas_null_is_a_nan(tmp_path):
    # pandas writes NaN as null: a history gone NaN at its seventh epoch is broken, as the same history through
    # json.dump (NaN) is
    path = tmp_path / "h.json"
    pd.DataFrame({"loss": TRAIN[:6] + [math.nan] * 2, "val_loss": VAL[:6] + [math.nan] * 2}).to_json(path)
    assert '"6":null' in path.read_text()
    run = read_run(path)
    val, _ = _eval_losses(run)
    assert val == pytest.approx(VAL[:6])
    assert diagnose(run).verdict == "broken"
    (tmp_path / "h2.json").write_text(json.dumps({"loss": TRAIN[:6] + [math.nan] * 2, "val_loss": VAL[:6] + [math.nan] * 2}))
    assert diagnose(read_run(tmp_path / "h2.json")).verdict == "broken"


def test_a_history_beside_a_per_class_object_keyed_by_index(tmp_path):
    # arrays named for a loss at the top are the history; an object keyed "0", "1", ... beside them is not a table
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"loss": TRAIN, "val_loss": VAL, "per_class_loss": {"0": 0.2, "1": 0.3, "2": 0.4}}))
    val, train = _eval_losses(read_run(path))
    assert val == pytest.approx(VAL) and train == pytest.approx(TRAIN)


def test_split_orient_with_an_index_of_steps(tmp_path):
    path = tmp_path / "h.json"
    pd.DataFrame({"train_loss": TRAIN}, index=[100 * (i + 1) for i in range(12)]).to_json(path, orient="split")
    assert read_run(path).batches.step.tolist() == [100 * (i + 1) for i in range(12)]


@pytest.mark.parametrize("prefix", ["val", "valid", "eval", "test"])
def test_a_split_container_holds_that_splits_loss(tmp_path, prefix):
    path = tmp_path / "metrics.csv"
    rows = [f"epoch,train_metrics/loss,{prefix}_metrics/loss"] + [f"{e},{t},{v}" for e, (t, v) in enumerate(zip(TRAIN, VAL), start=1)]
    path.write_text("\n".join(rows) + "\n")
    _is_the_overfitting_history(read_run(path))


def test_one_object_per_epoch_keyed_by_its_number_on_one_line(tmp_path):
    # json.dump({epoch: {...}}) writes one line: not a JSON Lines file of one record
    path = tmp_path / "losses.json"
    path.write_text(json.dumps({str(e): {"train_loss": t, "val_loss": v} for e, (t, v) in enumerate(zip(TRAIN, VAL), start=1)}))
    _is_the_overfitting_history(read_run(path))


def test_index_keys_that_are_not_places_are_steps(tmp_path):
    path = tmp_path / "h.json"
    steps = [100 * (i + 1) for i in range(len(TRAIN))]
    pd.DataFrame({"train_loss": TRAIN}, index=steps).to_json(path)
    run = read_run(path)
    assert run.batches.step.tolist() == steps
    assert run.batches.loss.tolist() == pytest.approx(TRAIN)


def test_a_history_inside_a_results_file_beside_per_class_records(tmp_path):
    path = tmp_path / "training_results.json"
    doc = {
        "model_config": {"vocab_size": 20000, "num_classes": 4, "num_epochs": 12},
        "training_history": {
            "train_loss": TRAIN,
            "val_loss": VAL,
            "train_acc": [0.5 + 0.03 * i for i in range(12)],
            "val_acc": [0.6 + 0.01 * i for i in range(12)],
        },
        "test_results": {"test_accuracy": 0.91, "best_epoch": 6},
        "per_class_performance": [{"class": "World", "precision": 0.93, "recall": 0.9}, {"class": "Sports", "precision": 0.97, "recall": 0.98}],
    }
    path.write_text(json.dumps(doc, indent=2))
    _is_the_overfitting_history(read_run(path))


def test_a_validation_container_is_not_read_as_the_training_loss(tmp_path):
    # "val_history/loss" is a validation figure: alone, it is no training loss
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"settings": {"lr": 0.1}, "val_history": {"loss": VAL}}))
    try:
        run = read_run(path)
    except LossdocError:
        return  # refused: no loss it can name
    assert len(run.batches) == 0 or not any(math.isfinite(x) for x in run.batches.loss)


def test_a_losses_array_beside_a_list_of_names(tmp_path):
    path = tmp_path / "model.meta.json"
    losses = [2.9 - 0.05 * i for i in range(30)]
    path.write_text(json.dumps({"n_hidden": 128, "losses": losses, "train_time": "11:33", "categories": ["Arabic", "Irish", "Spanish"]}))
    run = read_run(path)
    assert run.batches.loss.tolist() == pytest.approx(losses)
    assert len(run.epochs) == 0
    assert not any(w.key == "warn.json_spread" for w in run.warnings)


def test_an_object_keyed_by_index_with_no_loss_is_still_refused(tmp_path):
    path = tmp_path / "acc.json"
    pd.DataFrame({"accuracy": [0.5, 0.6, 0.7], "f1": [0.4, 0.5, 0.6]}).to_json(path)
    with pytest.raises(LossdocError):
        read_run(path)


def test_a_long_table_in_pandas_json_keeps_its_placeholders_empty(tmp_path):
    # four training rows, then one validation row, every epoch: pandas' nulls between values are cells not measured
    rows = []
    for e in range(10):
        rows += [{"epoch": e, "train_loss": 2.3 - 0.03 * (5 * e + k), "val_loss": None} for k in range(4)]
        rows.append({"epoch": e, "train_loss": None, "val_loss": 2.2 - 0.1 * e})
    path = tmp_path / "log.json"
    pd.DataFrame(rows).to_json(path)
    run = read_run(path)
    assert len(run.batches) == 40 and len(run.epochs) == 10
    assert not run.events
