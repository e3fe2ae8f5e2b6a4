"""An evaluation loss that is k x the training level at every evaluation: summed over k processes
where a mean was meant (issue 16). Read divided by k, with a finding and a next step."""

from __future__ import annotations

import math

import numpy as np

from lossdoc.analysis import checks, diagnose
from lossdoc.render.diagnosis import finding_sentence
from tests.analysis.test_checks import make_run, noisy


def _curve(n=400):
    # a healthy real-text curve: 7 -> 3.2, flattening
    x = np.arange(n)
    return 3.2 + 3.8 * np.exp(-x / 60) + np.random.default_rng(1).normal(0, 0.03, n)


def _levels_at_evals(losses, n_evals):
    # the training level just before each evaluation
    # (make_run spaces evaluations evenly over steps 0..n; the one at step 0 comes before any batch)
    steps = np.linspace(0, len(losses), n_evals).astype(int)
    return [float(np.median(losses[max(0, s - 21) : s])) if s else float(losses[0]) for s in steps]


def test_a_validation_loss_summed_over_two_processes_is_found_and_read_halved():
    losses = _curve()
    true_val = [lv + 0.02 for lv in _levels_at_evals(losses, 5)]
    run = make_run(losses, [2 * v for v in true_val], v=None)
    d = diagnose(run)
    f = d.finding("scale")
    assert f.key == "f.scale.eval_multiple" and f.status == "warn"
    assert f.args["k"] == 2 and f.args["pairs"] == 4
    assert math.isclose(f.args["ratio"], 2.0, abs_tol=0.05)
    # what the verdict is built on is the halved series: the best evaluation is the true one
    assert math.isclose(d.facts.best_val_loss, min(true_val), rel_tol=1e-9)
    assert d.verdict != "overfitting" and "next.eval_average" in d.next_steps
    assert "2" in finding_sentence(f, "en") and "2" in finding_sentence(f, "zh")


def test_four_processes_give_k_4():
    losses = _curve()
    run = make_run(losses, [4 * (lv + 0.01) for lv in _levels_at_evals(losses, 4)], v=None)
    f = checks.check_scale(checks.build_context(run))
    assert f.key == "f.scale.eval_multiple" and f.args["k"] == 4


def test_overfitting_whose_ratio_passes_two_on_the_way_is_not_a_multiple():
    # validation rising while training falls: the ratio changes from evaluation to evaluation
    losses = np.concatenate([np.linspace(4.0, 1.0, 200), noisy(1.0, 200, sd=0.01)])
    vals = [3.0, 3.4, 3.9, 4.5, 5.0]
    d = diagnose(make_run(losses, vals, v=None))
    assert d.finding("scale").key != "f.scale.eval_multiple"


def test_a_healthy_run_with_validation_close_to_training_is_left_alone():
    losses = _curve()
    run = make_run(losses, [lv + 0.05 for lv in _levels_at_evals(losses, 5)], v=None)
    assert checks.check_scale(checks.build_context(run)).key != "f.scale.eval_multiple"
