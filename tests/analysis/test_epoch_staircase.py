"""A training loss that drops at epoch boundaries and is flat within epochs, with no validation: memorising."""

from __future__ import annotations

import numpy as np

from lossdoc.analysis import checks, diagnose
from lossdoc.render.diagnosis import finding_sentence
from tests.analysis.test_checks import make_run


def staircase(levels, per_epoch=200, within=0.0, sd=0.01, fractional=True, seed=0):
    """Batches of len(levels) epochs; epoch k sits at levels[k] and falls by ``within`` across the epoch.
    Epochs are logged as HF does (fractions 0.005 .. 1.0 .. 2.0) or as lossdoc does (1, 2, ...)."""
    rng = np.random.default_rng(seed)
    loss = np.concatenate([lv - within * np.linspace(0, 1, per_epoch) for lv in levels]) + rng.normal(0, sd, per_epoch * len(levels))
    run = make_run(loss, v=32000)
    n = loss.size
    run.batches.epoch = np.arange(1, n + 1) / per_epoch if fractional else np.repeat(np.arange(1, len(levels) + 1, dtype=float), per_epoch)
    return run


def test_a_staircase_without_validation_is_memorising():
    run = staircase([0.40, 0.30, 0.20, 0.12], within=0.01)
    d = diagnose(run)
    f = d.finding("overfitting")
    assert f.key == "f.overfit.epoch_steps" and f.status == "warn"
    assert (f.args["steps"], f.args["boundaries"], f.args["epochs"]) == (3, 3, 4)
    drops = [float(x) for x in f.args["drops"].split(", ")]
    # each drop: end of one epoch (level - within) to the start of the next
    assert np.allclose(drops, [0.40 - 0.01 - 0.30, 0.30 - 0.01 - 0.20, 0.20 - 0.01 - 0.12], atol=0.006)
    assert "next.hold_out" in d.next_steps
    assert "3" in finding_sentence(f, "zh") and "staircase" in finding_sentence(f, "en")


def test_lossdoc_integer_epochs_are_read_the_same_way():
    f = checks.check_overfitting(checks.build_context(staircase([0.40, 0.30, 0.20, 0.12], fractional=False)))
    assert f.key == "f.overfit.epoch_steps" and f.args["boundaries"] == 3


def test_a_curve_that_falls_smoothly_across_epochs_is_not_a_staircase():
    # the same total fall, spread evenly: the boundaries are no different from the rest of the epoch
    loss = np.linspace(0.40, 0.11, 800) + np.random.default_rng(1).normal(0, 0.01, 800)
    run = make_run(loss, v=32000)
    run.batches.epoch = np.arange(1, 801) / 200
    assert checks.check_overfitting(checks.build_context(run)).key != "f.overfit.epoch_steps"


def test_flat_epochs_without_drops_are_not_a_staircase():
    f = checks.check_overfitting(checks.build_context(staircase([0.3, 0.3, 0.3, 0.3])))
    assert f.key != "f.overfit.epoch_steps"


def test_with_validation_the_validation_series_decides():
    run = staircase([0.40, 0.30, 0.20, 0.12], within=0.01)
    with_val = make_run(run.batches.loss, [0.5, 0.5, 0.5], v=32000)
    with_val.batches.epoch = run.batches.epoch
    assert checks.check_overfitting(checks.build_context(with_val)).key != "f.overfit.epoch_steps"
