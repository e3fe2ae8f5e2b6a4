"""Checks on synthetic Runs whose right answer is known by construction."""

import math

import numpy as np
import pytest

from lossdoc import floors
from lossdoc.analysis import diagnose
from lossdoc.runlog.run import BatchSeries, EpochSeries, Run

V = 1000


def make_run(losses, vals=None, *, v=V, floor=None, random_data=False, lr=1e-3, tokens=512, val_tokens=8192, init=None, init_std=None):
    n = len(losses)
    steps = np.arange(1, n + 1, dtype=float)
    b = BatchSeries(steps, np.ones(n), np.asarray(losses, float), np.full(n, lr, float), np.ones(n), np.full(n, tokens, float))
    vals = [] if vals is None else vals
    ep = [0.0] if init is not None else []
    vv = [init] if init is not None else []
    for i, x in enumerate(vals, start=1):
        ep.append(float(i))
        vv.append(x)
    k = len(ep)
    e = EpochSeries(np.array(ep), np.linspace(0, n, k), np.full(k, np.nan), np.array(vv, float), np.full(k, val_tokens, float))
    return Run(
        source="synthetic",
        format="lossdoc",
        vocab_size=v,
        entropy_floor=floor,
        random_data=random_data,
        batches=b,
        epochs=e,
        init_logit_std=init_std,
        status="completed",
        records_read=n + k,
    )


def noisy(level, n, sd=0.02, seed=0):
    return level + np.random.default_rng(seed).normal(0, sd, n)


def test_plateau_at_the_random_floor_is_expected():
    floor = math.log(V - 1)
    losses = np.concatenate([np.linspace(7.1, floor + 0.01, 100), noisy(floor + 0.005, 300)])
    d = diagnose(make_run(losses, [floor + 0.02, floor + 0.012, floor + 0.011], floor=floor, random_data=True, init=7.08, init_std=0.577))
    assert d.verdict == "expected-plateau"
    assert d.finding("floor").status == "ok"
    assert d.finding("batch-noise").status == "info"  # single batches dip below the floor


def test_nan_is_broken_and_reports_the_step_and_grad_norm():
    losses = list(noisy(3.0, 50))
    losses[30] = math.nan
    run = make_run(losses, [3.0, 3.0])
    run.batches.grad_norm[25:30] = [1, 2, 5, 50, 900]
    d = diagnose(run)
    f = d.finding("nonfinite-loss")
    assert d.verdict == "broken" and f.status == "fail"
    assert f.args["step"] == 31 and f.args["grad_max"] == 900


def test_log2_confusion_at_init():
    d = diagnose(make_run(noisy(5.0, 40), [4.9, 4.8], init=math.log2(V)))
    assert d.finding("init-loss").key == "f.init.log2"


def test_init_far_below_ln_v_is_a_leak_sign():
    run = make_run(noisy(3.0, 40), [3.0, 3.0], init=2.0)
    run.pretrained = False  # lossdoc's own runs start from scratch (the reader says so)
    d = diagnose(run)
    assert d.finding("init-loss").key == "f.init.low" and d.verdict == "broken"


def test_a_foreign_log_below_ln_v_before_any_update_is_a_pretrained_start():
    run = make_run(noisy(3.0, 40), [3.0, 3.0], init=2.0)
    run.format = "hf-trainer"  # nothing says how it started: a fresh model cannot be below ln V before any update
    d = diagnose(run)
    assert d.finding("init-loss").key == "f.init.pretrained" and d.facts.sources["pretrained"]["where"] == "where.init_below_ln_v"
    assert d.verdict != "broken"


def test_init_excess_is_explained_by_logit_std():
    s = 1.0
    init = floors.expected_init_loss(V, s)
    d = diagnose(make_run(noisy(4.0, 40), [4.2, 4.1], init=init, init_std=s))
    f = d.finding("init-loss")
    assert f.status == "ok" and f.args["implied_std"] == pytest.approx(s, abs=0.01)


def test_uniform_lock_on_structured_data_is_broken():
    ln_v = math.log(V)
    losses = np.full(200, ln_v) + np.random.default_rng(0).normal(0, 1e-5, 200)
    d = diagnose(make_run(losses, [ln_v, ln_v], floor=2.0))
    assert d.finding("uniform-lock").key == "f.uniform.locked" and d.verdict == "broken"


def test_uniform_lock_at_a_padded_vocabulary():
    padded = 1024  # V = 1000 padded to a multiple of 64
    losses = np.full(200, math.log(padded))
    d = diagnose(make_run(losses, [math.log(padded)] * 2, floor=2.0))
    assert d.finding("uniform-lock").args["size"] == padded


def test_still_learning_and_converged():
    falling = np.linspace(6.9, 3.0, 400) + np.random.default_rng(0).normal(0, 0.02, 400)
    assert diagnose(make_run(falling, [5.0, 4.0, 3.1])).verdict == "still-learning"
    flat = np.concatenate([np.linspace(6.9, 3.0, 100), noisy(3.0, 300)])
    assert diagnose(make_run(flat, [3.5, 3.01, 3.0])).verdict == "converged"


def test_overfitting_val_rises_while_train_falls():
    losses = np.linspace(6.9, 2.0, 400) + np.random.default_rng(0).normal(0, 0.02, 400)
    run = make_run(losses, [4.0, 3.5, 3.7, 3.9])
    run.epochs.train_loss[:] = [5.0, 4.0, 3.0, 2.5]
    d = diagnose(run)
    assert d.verdict == "overfitting" and d.finding("overfitting").key == "f.overfit.val_rising"


def test_rise_within_noise_is_not_overfitting():
    flat = np.concatenate([np.linspace(6.9, 3.0, 100), noisy(3.0, 300)])
    run = make_run(flat, [3.2, 3.0, 3.0005])
    run.epochs.train_loss[:] = [3.3, 3.0, 2.99]
    assert diagnose(run).finding("overfitting").status == "ok"


def test_thresholds_scale_with_noise():
    # the same +0.05 rise of validation is overfitting with a big val set, noise with a tiny one
    losses = np.linspace(6.9, 3.0, 400) + np.random.default_rng(0).normal(0, 0.05, 400)
    big = make_run(losses, [3.2, 3.1, 3.15], val_tokens=10**6)
    small = make_run(losses, [3.2, 3.1, 3.15], val_tokens=64)
    for r in (big, small):
        r.epochs.train_loss[:] = [3.5, 3.2, 3.0]
    assert diagnose(big).finding("overfitting").status == "fail"
    assert diagnose(small).finding("overfitting").status == "ok"


def test_spikes_are_found():
    losses = noisy(3.0, 300)
    losses[150] = 6.0
    d = diagnose(make_run(losses, [3.0, 3.0]))
    f = d.finding("spikes")
    assert f.status == "warn" and f.args["step"] == 151


def test_unknown_vocab_skips_with_the_flag():
    d = diagnose(make_run(noisy(3.0, 50), [3.1, 3.0], v=None))
    f = d.finding("init-loss")
    assert f.status == "skipped" and f.flag == "--vocab-size"
    assert d.finding("floor").status == "skipped"


def test_too_little_is_inconclusive():
    assert diagnose(make_run([6.9, 6.8, 6.7])).verdict == "inconclusive"


def test_every_verdict_and_status_has_text_in_both_languages():
    from lossdoc.analysis.model import STATUSES, VERDICTS
    from lossdoc.i18n import catalogs

    for lang in ("en", "zh"):
        cat = catalogs()[lang]
        assert all(f"verdict.{v}" in cat and f"headline.{v}" in cat and f"expl.close.{v}" in cat for v in VERDICTS)
        assert all(f"status.{s}" in cat for s in STATUSES)


def test_findings_use_known_statuses_and_existing_messages():
    from lossdoc.analysis.model import STATUSES
    from lossdoc.i18n import catalogs

    runs = [make_run(noisy(3.0, 50), [3.1, 3.0]), make_run([6.9, 6.8, 6.7]), make_run(noisy(3.0, 50), [3.1, 3.0], v=None)]
    for run in runs:
        for f in diagnose(run).findings:
            assert f.status in STATUSES and f.key in catalogs()["en"], (f.code, f.key)


# ------------------------------------------------------------------ divergence: honest about both ends


def _divergence(losses, vals=None, **kw):
    from lossdoc.analysis import checks

    return checks.check_divergence(checks.build_context(make_run(losses, vals, **kw)))


def test_flat_noise_is_rarely_called_divergence_and_a_real_rise_is_caught():
    # 300 flat runs of single-batch losses (sd 0.4 at 2.3, the noise of a small-batch fine-tune): the lowest
    # of many running medians leans low, so without the best level's own error and that lean 14% of them were
    # "diverging"; docs/verdicts.md states 0-2.3% for 12 to 2,000 batches
    alarms, caught = 0, 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        alarms += _divergence(2.3 + rng.normal(0, 0.4, 50), v=None).status == "fail"
        risen = 2.3 + rng.normal(0, 0.4, 100)
        risen[70:] += 1.0  # the last 30% up by 2.5 batch sd
        caught += _divergence(risen, v=None).status == "fail"
    assert alarms / 300 <= 0.03
    assert caught / 300 >= 0.95


def test_a_run_that_blows_up_after_its_first_batch_is_diverging():
    losses = np.r_[4.2, np.linspace(300.0, 75.0, 20), 75.0 + np.random.default_rng(1).normal(0, 8.0, 40)]
    f = _divergence(losses, v=None)
    assert f.status == "fail" and f.key == "f.diverge.rise" and f.args["best"] == pytest.approx(4.2)


def test_validation_and_training_rising_together_is_the_run_getting_worse():
    # after a resume: validation 3.563 -> 3.604, and the training level rising with it by 0.07 nats, about 4 standard
    # errors of two epoch means of 80 batches of sd 0.1 (at 0.049, as in the real log, it was 2.7: a t quantile and the
    # batches' own autocorrelation estimate put that inside the noise)
    n = 400
    train = np.r_[np.full(100, 3.670), np.full(100, 3.670), np.full(100, 3.687), np.full(100, 3.740)]
    losses = train + np.random.default_rng(2).normal(0, 0.1, n)
    run = make_run(losses, [3.60, 3.5629, 3.5660, 3.5701, 3.6042], v=None, val_tokens=200_000)
    run.epochs.train_loss[:] = [3.7, 3.6696, 3.6697, 3.6869, 3.7396]
    from lossdoc.analysis import checks

    f = checks.check_divergence(checks.build_context(run))
    assert f.status == "fail" and f.key == "f.diverge.val_train_rise"
    assert f.args["trise"] == pytest.approx(3.7396 - 3.6696, abs=1e-4)
    # the same validation with the training loss falling is not this (it is the overfitting check's business)
    run.epochs.train_loss[:] = [3.7, 3.6696, 3.6, 3.5, 3.4]
    assert checks.check_divergence(checks.build_context(run)).key != "f.diverge.val_train_rise"


def test_a_drop_made_before_the_second_record_counts_as_learning_and_flat_noise_rarely_does():
    from lossdoc.analysis import checks

    def no_learning(losses):
        return checks.check_no_learning(checks.build_context(make_run(losses, v=None)))

    # a short LoRA log: 1.57 at the first record, ~1.41 from the second on (each record an average of 10 steps)
    short = np.r_[1.571, 1.41 + np.random.default_rng(3).normal(0, 0.035, 30)]
    f = no_learning(short)
    assert f.status == "ok" and f.args["init"] == pytest.approx(1.571)
    # flat noise: its first record is one more draw, judged with the error of one record; with the medians'
    # comparison (3-4% at this length), flat noise passes as "moved" under 5% of the time
    moved = sum(no_learning(2.0 + np.random.default_rng(s).normal(0, 0.05, 31)).status == "ok" for s in range(300))
    assert moved / 300 <= 0.05


def test_the_end_of_a_short_log_is_at_most_its_second_half():
    from lossdoc.analysis import checks

    # a 10-record LoRA log: 8.6 -> 0.42 in three records, then flat: its end is the flat half, which has converged
    losses = [8.637, 3.764, 1.015, 0.504, 0.47, 0.432, 0.425, 0.42, 0.426, 0.415]
    c = checks.build_context(make_run(losses, v=None))
    assert int(c.tail.sum()) == 5
    assert diagnose(make_run(losses, v=None)).verdict == "converged"
    assert int(checks.build_context(make_run(np.full(200, 2.0) + np.linspace(0, 1e-3, 200), v=None)).tail.sum()) == 50  # long logs: a quarter


def test_a_training_loss_near_zero_with_no_epochs_and_no_validation_is_memorised_or_leaked():
    from lossdoc.analysis import checks

    losses = np.r_[np.linspace(11.0, 0.2, 20), [0.182, 0.065, 0.021, 0.011, 0.006, 0.005]]  # a console log with no epoch
    run = make_run(losses, v=None)
    run.batches.epoch[:] = np.nan
    f = checks.check_overfitting(checks.build_context(run))
    assert f.status == "fail" and f.key == "f.overfit.train_memorised_no_epochs" and f.args["train"] < 0.05
    assert diagnose(run).verdict == "overfitting"
    run.batches.epoch[:] = 1.0  # within a first pass it is the scale check's business (padding, or a leak)
    assert checks.check_overfitting(checks.build_context(run)).key != "f.overfit.train_memorised_no_epochs"


# ------------------------------------------------------------------ the review's cases (false alarms kept rare)


def test_a_single_step_first_record_of_a_trainer_log_is_judged_with_its_own_noise():
    from lossdoc.analysis import checks

    # logging_first_step: step 1 is one step's loss, the others average 10 steps each (sd 0.3 / sqrt 10)
    moved = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        losses = np.r_[2.0 + rng.normal(0, 0.3), 2.0 + rng.normal(0, 0.3 / math.sqrt(10), 30)]
        run = make_run(losses, v=None)
        run.format = "hf-trainer"
        run.batches.step[:] = np.r_[1.0, np.arange(10.0, 310.0, 10.0)]
        moved += checks.check_no_learning(checks.build_context(run)).status == "ok"
    assert moved / 200 <= 0.06  # it was 34-38% when the first record was given the noise of a 10-step average


def test_flat_training_with_wobbling_validation_is_not_called_the_run_getting_worse():
    from lossdoc.analysis import checks

    worse = 0
    for seed in range(100):
        run = make_run(2.0 + np.random.default_rng(seed).normal(0, 0.1, 300), [2.10, 2.04, 2.10], v=None, val_tokens=200_000)
        worse += checks.check_divergence(checks.build_context(run)).key == "f.diverge.val_train_rise"
    assert worse <= 5  # the training level read from 21 batches has noise of its own (it was 29 of 100)


def test_a_short_tail_that_still_falls_is_not_settled_for_want_of_significance():
    verdicts = [diagnose(make_run(np.linspace(2.3, 1.9, 12) + np.random.default_rng(s).normal(0, 0.05, 12), v=None)).verdict for s in range(100)]
    assert verdicts.count("converged") <= 8  # 6 measured; it was 34 of 100: a fall of 8% of the level is not a settle


def test_a_loss_that_starts_low_and_ends_near_zero_is_not_called_memorised_without_epochs():
    from lossdoc.analysis import checks

    run = make_run(np.r_[np.linspace(0.69, 0.05, 20), np.full(10, 0.004)], v=None)  # a DPO or classifier loss
    run.batches.epoch[:] = np.nan
    assert checks.check_overfitting(checks.build_context(run)).key != "f.overfit.train_memorised_no_epochs"
