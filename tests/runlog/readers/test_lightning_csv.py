"""PyTorch Lightning CSVLogger: metrics.csv + hparams.yaml written by Lightning itself."""

from __future__ import annotations

import csv

import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import lightning_csv, read_run

RUNS = ["random_plateau", "counting_healthy", "memorising_overfit"]


def _csv_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", RUNS)
def test_sparse_rows_map_with_lightning_step_convention(fix, name):
    vdir = fix / "lightning_csv" / name / "lightning_logs" / "version_0"
    rows = _csv_rows(vdir / "metrics.csv")
    train = [(int(r["step"]) + 1, int(r["epoch"]) + 1, float(r["train_loss_step"])) for r in rows if r["train_loss_step"]]
    vals = [(int(r["epoch"]) + 1, int(r["step"]) + 1, float(r["val_loss"])) for r in rows if r["val_loss"]]
    tr_epoch = {int(r["epoch"]) + 1: float(r["train_loss_epoch"]) for r in rows if r["train_loss_epoch"]}
    run = read_run(vdir / "metrics.csv")
    assert run.format == "lightning-csv"
    assert run.batches.step.tolist() == [t[0] for t in train]
    assert run.batches.epoch.tolist() == [t[1] for t in train]
    assert run.batches.loss.tolist() == [t[2] for t in train]
    assert run.epochs.epoch.tolist() == [v[0] for v in vals]
    assert run.epochs.step.tolist() == [v[1] for v in vals]
    assert run.epochs.val_loss.tolist() == [v[2] for v in vals]
    assert run.epochs.train_loss.tolist() == [tr_epoch[v[0]] for v in vals]
    assert run.vocab_size == 64  # from hparams.yaml
    assert run.warnings == []


def test_validation_step_is_after_the_epochs_updates(fix):
    # 8 batches per epoch (128 rows / 16): the first validation is after 8 updates.
    run = read_run(fix / "lightning_csv" / "counting_healthy")
    assert run.epochs.step[0] == 8
    steps_in_epoch1 = run.batches.step[run.batches.epoch == 1]
    assert steps_in_epoch1.max() <= 8 < run.batches.step[run.batches.epoch == 2].min()


@pytest.mark.parametrize("sub", ["", "lightning_logs", "lightning_logs/version_0"])
def test_folder_inputs(fix, sub):
    base = fix / "lightning_csv" / "counting_healthy"
    run = read_run(base / sub if sub else base)
    assert run.source.endswith("version_0/metrics.csv")


def test_highest_version_wins(fix, tmp_path):
    import shutil

    src = fix / "lightning_csv" / "counting_healthy" / "lightning_logs" / "version_0"
    shutil.copytree(src, tmp_path / "version_2")
    shutil.copytree(fix / "lightning_csv" / "random_plateau" / "lightning_logs" / "version_0", tmp_path / "version_10")
    assert read_run(tmp_path).source.endswith("version_10/metrics.csv")


def test_custom_columns_and_validation_before_fit(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,step,my_val,my_train\n0,0,4.2,\n0,0,,4.3\n0,1,,4.1\n0,1,4.0,\n")
    run = read_run(p, train_col="my_train", val_col="my_val")
    assert run.epochs.epoch.tolist() == [0, 1] and run.epochs.step.tolist() == [0, 2]
    assert run.epochs.val_loss.tolist() == [4.2, 4.0]
    assert run.batches.step.tolist() == [1, 2]


def test_hparams_with_python_tags_and_nested_vocab(tmp_path):
    (tmp_path / "metrics.csv").write_text("epoch,step,train_loss\n0,0,3.0\n")
    (tmp_path / "hparams.yaml").write_text("model: !!python/object:foo.Bar\n  vocab_size: 5000\nlr: 0.1\n")
    run = read_run(tmp_path)
    assert run.vocab_size == 5000
    assert run.batches.step.tolist() == [1]


@pytest.mark.parametrize(
    "text,opts,key",
    [
        ("epoch,step,accuracy\n0,1,0.5\n", {}, "error.no_loss_columns"),
        ("epoch,step,train_loss\n0,1,\n", {}, "error.no_loss_values"),
        ("epoch,step,train_loss\n0,1,2.0\n", {"val_col": "nope"}, "error.column_missing"),
        ("a,b\n1,2\n", {}, "error.lightning_columns"),
        ('epoch,step,train_loss\n0,"1,2.0\n', {}, "error.csv_bad"),
    ],
)
def test_malformed(tmp_path, text, opts, key):
    p = tmp_path / "metrics.csv"
    p.write_text(text)
    with pytest.raises(LossdocError) as ei:
        lightning_csv.read(p, **opts)
    assert ei.value.key == key
