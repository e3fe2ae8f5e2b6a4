"""Hugging Face Trainer: trainer_state.json made by transformers' Trainer on tiny GPT-2 models."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lossdoc.errors import LossdocError
from lossdoc.runlog.readers import hf_trainer, read_run

RUNS = ["random_plateau", "counting_healthy", "exploding_lr"]


@pytest.mark.parametrize("name", RUNS)
def test_log_history_maps_to_batches_and_evaluations(fix, name):
    folder = fix / "hf_trainer" / name
    state = json.loads((folder / "trainer_state.json").read_text())
    logs = [e for e in state["log_history"] if "loss" in e]
    evals = [e for e in state["log_history"] if "eval_loss" in e]
    run = read_run(folder / "trainer_state.json")
    assert run.format == "hf-trainer"
    assert run.batches.step.tolist() == [e["step"] for e in logs]
    assert run.batches.loss.tolist() == [e["loss"] for e in logs]
    assert run.batches.lr.tolist() == [e["learning_rate"] for e in logs]
    assert run.batches.grad_norm.tolist() == [e["grad_norm"] for e in logs]
    assert run.batches.epoch.tolist() == [e["epoch"] for e in logs]
    assert run.epochs.step.tolist() == [e["step"] for e in evals]
    assert run.epochs.val_loss.tolist() == [e["eval_loss"] for e in evals]
    assert run.epochs.epoch.tolist() == [e["epoch"] for e in evals]
    assert np.isnan(run.epochs.train_loss).all()  # HF logs no training loss at evaluation time
    # No loss before the first update: HF's first log is after logging_steps updates.
    assert run.batches.step[0] == state["logging_steps"] and 0 not in run.epochs.epoch
    # vocab_size from config.json beside it
    assert run.vocab_size == json.loads((folder / "config.json").read_text())["vocab_size"] == 64
    assert run.model["model_type"] == "gpt2" and run.model["n_layer"] == 1
    assert run.config["global_step"] == state["global_step"]


def test_output_folder_and_checkpoint_folder(fix):
    out = fix / "hf_trainer" / "random_plateau"
    whole = read_run(out)
    assert whole.source == str(out / "trainer_state.json")
    ck = read_run(out / "checkpoint-64")
    assert ck.source == str(out / "checkpoint-64" / "trainer_state.json")
    assert ck.batches.step.max() == 64 and whole.batches.step.max() == 128
    n = len(ck.batches)
    assert np.array_equal(ck.batches.loss, whole.batches.loss[:n])
    assert ck.vocab_size == 64


def test_folder_with_only_checkpoints_reads_the_latest(fix, tmp_path):
    import shutil

    for n in (64, 128):
        shutil.copytree(fix / "hf_trainer" / "random_plateau" / f"checkpoint-{n}", tmp_path / f"checkpoint-{n}")
    run = read_run(tmp_path)
    assert run.source.endswith("checkpoint-128/trainer_state.json")
    assert run.vocab_size == 64


def test_nan_losses_and_missing_config(tmp_path):
    p = tmp_path / "trainer_state.json"
    p.write_text(
        '{"log_history": [{"loss": 2.5, "step": 1, "epoch": 0.1}, {"loss": NaN, "step": 2, "epoch": 0.2},'
        ' {"eval_loss": 2.4, "step": 0, "epoch": 0}, {"train_loss": 2.0, "step": 2}]}'
    )
    run = read_run(p)
    assert run.vocab_size is None
    assert run.batches.step.tolist() == [1, 2]
    assert run.batches.loss[0] == 2.5 and math.isnan(run.batches.loss[1])
    assert run.epochs.epoch.tolist() == [0] and run.epochs.step.tolist() == [0]  # an evaluation before any update


def test_unreadable_config_is_a_warning_not_a_guess(tmp_path):
    (tmp_path / "trainer_state.json").write_text('{"log_history": [{"loss": 2.5, "step": 1}]}')
    (tmp_path / "config.json").write_text("{not json")
    run = read_run(tmp_path)
    assert run.vocab_size is None
    assert [w.key for w in run.warnings] == ["warn.config_unreadable"]


@pytest.mark.parametrize(
    "text,key",
    [
        ('{"global_step": 10, "log_history": [{"loss": 2.0, "step"', "error.json_invalid"),
        ('{"global_step": 10, "history": []}', "error.hf_not_state"),
        ('{"log_history": [{"learning_rate": 3e-4, "step": 10}]}', "error.hf_no_losses"),  # a summary alone is read (test_hf_summary_only.py)
        ('{"log_history": []}', "error.hf_no_losses"),
        ("[1, 2, 3]", "error.hf_not_state"),
    ],
)
def test_malformed_state(tmp_path, text, key):
    p = tmp_path / "trainer_state.json"
    p.write_text(text)
    with pytest.raises(LossdocError) as ei:
        hf_trainer.read(p)
    assert ei.value.key == key
    assert str(p) in str(ei.value)
