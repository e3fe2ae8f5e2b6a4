"""A header's loss_scale (logged losses are r x the true mean) is divided out by explain, and shown as a fact."""

import json
import math

import pytest

from lossdoc.analysis import diagnose
from lossdoc.runlog.corrections import loss_scale
from lossdoc.runlog.logger import RunLogger
from lossdoc.runlog.readers import read_run


def _log(tmp_path, scale):
    with RunLogger(tmp_path / "run", vocab_size=64, data="random", seq_len=16, batch_size=4, loss_scale=scale) as log:
        for step in range(1, 41):
            log.batch(step, 3.0 + 0.01 * (step % 3), lr=1e-3)
            if step % 10 == 0:
                log.eval(step, 3.0)
    return tmp_path / "run" / "run.jsonl"


def test_losses_are_divided_by_the_scale(tmp_path):
    run = read_run(_log(tmp_path, {"logged_over_true": 0.75, "cause": "test"}))
    assert run.loss_scale == 0.75 and run.sources["loss_scale"].kind == "log"
    assert run.epochs.val_loss.tolist() == [4.0] * 4
    assert math.isclose(run.batches.loss[0], 3.01 / 0.75) and math.isclose(
        run.epochs.train_loss[0], sum(3.0 + 0.01 * (s % 3) for s in range(1, 11)) / 10 / 0.75
    )
    assert diagnose(run).facts.header["loss_scale"] == 0.75


@pytest.mark.parametrize("value", [0.2, 1.0, 1.5, "0.9", True, None, float("nan")])
def test_an_unusable_scale_changes_nothing(tmp_path, value):
    assert loss_scale({"loss_scale": {"logged_over_true": value}}) is None
    run = read_run(_log(tmp_path, {"logged_over_true": value}))
    assert run.loss_scale is None and run.epochs.val_loss.tolist() == [3.0] * 4


def test_without_a_scale_nothing_changes(tmp_path):
    run = read_run(_log(tmp_path, None))
    assert run.loss_scale is None and "loss_scale" not in json.loads((tmp_path / "run" / "run.jsonl").read_text().splitlines()[0])
