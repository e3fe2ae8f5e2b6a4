"""Generic CSV and JSON Lines tables."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import generic, read_run


def test_sparse_csv(fix):
    path = fix / "generic" / "counting_healthy.csv"
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    train = [(int(r["step"]), float(r["loss"]), float(r["lr"])) for r in rows if r["loss"]]
    vals = [(int(r["step"]), float(r["val_loss"])) for r in rows if r["val_loss"]]
    run = read_run(path)
    assert run.format == "csv"
    assert run.batches.step.tolist() == [t[0] for t in train]
    assert run.batches.loss.tolist() == [t[1] for t in train]
    assert run.batches.lr.tolist() == [t[2] for t in train]
    assert run.epochs.step.tolist() == [v[0] for v in vals]
    assert run.epochs.val_loss.tolist() == [v[1] for v in vals]
    assert run.epochs.epoch.tolist() == list(range(len(vals)))  # step 0 -> epoch 0, then numbered
    # the same numbers as the nanoGPT log of the same run (printed there to 4 decimals)
    nano = read_run(fix / "nanogpt" / "counting_healthy.log")
    np.testing.assert_allclose(run.batches.loss, nano.batches.loss, atol=5e-5)


def test_jsonl_with_named_columns(fix):
    path = fix / "generic" / "custom_names.jsonl"
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    # named by the loss's measure alone: read as the training and validation losses, each with a warning that names it
    auto = read_run(path)
    assert auto.batches.loss.tolist() == [r["nll"] for r in recs if "nll" in r]
    assert auto.epochs.val_loss.tolist() == [r["heldout_nll"] for r in recs if "heldout_nll" in r]
    assert {w.key for w in auto.warnings} >= {"warn.loss_by_measure", "warn.val_by_measure"}
    run = read_run(path, step_col="it", train_col="nll", val_col="heldout_nll")
    assert run.format == "jsonl"
    assert run.batches.step.tolist() == [r["it"] for r in recs if "nll" in r]
    assert run.batches.loss.tolist() == [r["nll"] for r in recs if "nll" in r]
    assert run.epochs.val_loss.tolist() == [r["heldout_nll"] for r in recs if "heldout_nll" in r]


def test_keras_epoch_table(fix):
    run = read_run(fix / "generic" / "keras_epochs.csv")
    assert len(run.batches) == 0
    assert run.epochs.epoch.tolist() == [1, 2, 3, 4]  # Keras counts from 0 after training: renumbered
    keys = [w.key for w in run.warnings]
    assert keys == ["warn.no_step_column", "warn.epochs_from_zero"]
    with open(fix / "generic" / "keras_epochs.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert run.epochs.train_loss.tolist() == [float(r["loss"]) for r in rows]
    assert run.epochs.val_loss.tolist() == [float(r["val_loss"]) for r in rows]


def test_tsv_nested_jsonl_nan_strings_and_bad_values(tmp_path):
    p = tmp_path / "log.tsv"
    p.write_text("step\ttrain/loss\n1\t2.5\n2\tNaN\n3\toops\n4\t\n5\t2.0\n")
    run = read_run(p)
    assert run.batches.step.tolist() == [1, 2, 5]
    assert np.isnan(run.batches.loss[1])
    assert [w.key for w in run.warnings] == ["warn.not_numbers"] and run.warnings[0].args["first"] == 4
    q = tmp_path / "log.jsonl"
    q.write_text(
        '{"step": 1, "train": {"loss": 3.0}}\n{"step": 2, "val": {"loss": 2.9}}\n{"step": 3, "train": {"loss": "Infinity"}}\n{"step": 4, "tr'
    )
    run = read_run(q)
    assert run.batches.step.tolist() == [1, 3] and run.batches.loss[1] == np.inf
    assert run.epochs.val_loss.tolist() == [2.9] and run.epochs.epoch.tolist() == [1]
    assert [w.key for w in run.warnings] == ["warn.torn_last_line"]


@pytest.mark.parametrize(
    "name,text,key",
    [
        ("a.csv", 'step,loss\n"1,2.0\n', "error.csv_bad"),
        ("a.csv", "step,accuracy\n1,0.5\n", "error.no_loss_columns"),
        ("a.csv", "1,2\n3,4\n", "error.csv_no_header"),
        ("a.jsonl", '{"step": 1, "loss": 2.0\nnot json\n', "error.jsonl_no_records"),
        ("a.jsonl", '{"step": 1}\n', "error.no_loss_columns"),
    ],
)
def test_malformed(tmp_path, name, text, key):
    p = tmp_path / name
    p.write_text(text)
    reader = generic.read_csv if name.endswith(".csv") else generic.read_jsonl
    with pytest.raises(LossdocError) as ei:
        reader(p)
    assert ei.value.key == key
