"""Every threshold in lossdoc/analysis/thresholds.py, pinned by a pair of synthetic runs: one just past
the threshold (the finding that uses it says so) and one just short of it (it does not).

The runs are built from the module's own values (th.X), so the pairs follow the documented rule if it
is changed on purpose; an analyzer that stops using the rule (a threshold 10x too large or 100x too
small where a check reads it) fails one of the two. scripts/mutate_thresholds.py runs this file
against such mutants.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lossdoc import floors
from lossdoc.analysis import checks, diagnose, stats
from lossdoc.analysis import thresholds as th
from tests.analysis.test_checks import make_run

V = 1000
LN_V = math.log(V)
FLOOR = math.log(V - 1)  # random ids in [1, V)
U = floors.zipf_entropy(V, 1.0)  # what a unigram model scores on natural text with V ids (checks.py's estimate)

PAIRS = {}  # threshold name -> case(past: bool) -> bool: does the finding say the threshold is passed?


def pins(*names):
    def register(case):
        for name in names:
            PAIRS[name] = case
        return case

    return register


def wiggle(level, n, amp=2e-4):
    """n losses around ``level`` with a fixed, tiny noise of scale ``amp``: symmetric pairs (+x, -x), so
    the median is exactly ``level``; seeded, so every run of the suite sees the same numbers."""
    r = np.abs(np.random.default_rng(0).normal(0.0, 1.0, (n + 1) // 2)) + 0.5  # |x| >= amp / 2: no run of equal losses
    z = np.stack([r, -r], axis=1).ravel()[:n]
    if n % 2:
        z[-1] = 0.0
    return level + amp * z


def context(run):
    return checks.build_context(run)


# --------------------------------------------------------------------------- noise bands and the floor


@pins("Z")
def case_z(past):
    # floor check: |best - floor| <= Z * sigma_val is "within noise"; sigma_val from batch noise and token counts
    run = make_run(wiggle(FLOOR + 0.3, 200, amp=0.02), [FLOOR + 1.0], floor=FLOOR, random_data=True, init=7.0)
    band = th.Z * context(run).sigma_val
    assert band > 5 * th.MIN_BAND  # Z sets the band here, not the floor under it
    run.epochs.val_loss[-1] = FLOOR + band * (1.1 if past else 0.9)
    return checks.check_floor(context(run)).key != "f.floor.within_noise"


@pins("MIN_BAND")
def case_min_band(past):
    # no batch noise at all: the band is MIN_BAND
    run = make_run(np.full(200, FLOOR + 0.3), [FLOOR + 1.0], floor=FLOOR, random_data=True, init=7.0)
    run.epochs.val_loss[-1] = FLOOR + th.MIN_BAND * (1.1 if past else 0.9)
    return checks.check_floor(context(run)).key != "f.floor.within_noise"


def _tiny(top):
    """A regression's mean squared error: 200 records falling from ``top`` to a third of it, with a small wiggle."""
    return list(np.linspace(top, top / 3, 200) * (1 + 0.01 * np.tile([1.0, -1.0], 100)))


@pins("TINY_SCALE")
def case_tiny_scale(past):
    # every value under TINY_SCALE (or one over it): the smallest band is then a share of the level, not MIN_BAND
    run = make_run(_tiny(th.TINY_SCALE * (0.9 if past else 1.1)), v=None)
    return context(run).min_band < th.MIN_BAND


@pins("MIN_BAND_REL")
def case_min_band_rel(past):
    # a loss on a tiny scale: its smallest band is at least MIN_BAND_REL of its median level (a ruler just under it),
    # and not at 1.1 of it
    losses = _tiny(3e-5)
    ruler = th.MIN_BAND_REL * float(np.median(np.abs(losses))) * (0.9 if past else 1.1)
    return context(make_run(losses, v=None)).min_band >= ruler


@pins("DIVERGE_VAL_EVALS_MIN")
def case_diverge_val_evals_min(past):
    # training at 2.0 for 20 records, then up at 2.5 easing to 2.35 (a rise that stays); validation after the rise
    # falling in order at DIVERGE_VAL_EVALS_MIN evaluations (or one fewer): no divergence only from that many
    k = th.DIVERGE_VAL_EVALS_MIN if past else th.DIVERGE_VAL_EVALS_MIN - 1
    t = np.arange(200)
    losses = np.where(t < 20, 2.0, 2.5 - 0.15 * (t - 20) / 180) + 0.001 * np.tile([1.0, -1.0], 100)
    vals = [2.6] + [2.4 - 0.01 * i for i in range(k)]  # (the first at step 0, before the rise)
    f = checks.check_divergence(context(make_run(list(losses), vals, v=None)))
    assert f.key in ("f.diverge.val_falling", "f.diverge.rise"), f.key
    return f.key == "f.diverge.val_falling"


@pins("FROZEN_ACC_EVALS")
def case_frozen_acc_evals(past):
    # a validation accuracy of 0.2969 at FROZEN_ACC_EVALS evaluations (or one fewer) while the loss falls a little:
    # a model that predicts one class, only from that many
    k = th.FROZEN_ACC_EVALS if past else th.FROZEN_ACC_EVALS - 1
    run = make_run(list(3.0 - 0.001 * np.arange(100)), [2.9 - 0.01 * i for i in range(k)], v=None)
    run.val_accuracy = [0.2969432] * k
    f = checks.check_no_learning(context(run))
    return f.key == "f.nolearn.frozen_accuracy"


@pins("END_JUMP_REL")
def case_end_jump_rel(past):
    # 40 records falling to 1.0, then the last two just over (or under) END_JUMP_REL times that level, above every
    # earlier record (the first is 1.2): blown up at the end only from that share
    losses = list(1.0 + 0.2 * np.exp(-np.arange(40) / 5.0) + 0.001 * np.tile([1.0, -1.0], 20))
    jump = 1.0 * th.END_JUMP_REL * (1.02 if past else 0.98)
    f = checks.check_divergence(context(make_run([*losses, jump, jump], v=None)))
    return f.key == "f.diverge.end_jump"


@pins("ZERO_TOL")
def case_zero_tol(past):
    # 60 records of one tiny value just under (or over) ZERO_TOL: a loss of 0, none computed, only under it
    run = make_run([th.ZERO_TOL * (0.9 if past else 1.1)] * 60, v=None)
    return checks.check_uniform_lock(context(run)).key == "f.uniform.zero"


@pins("NEAR_FLOOR_REL")
def case_near_floor(past):
    run = make_run(np.full(200, FLOOR + 0.3), [FLOOR + 1.0], floor=FLOOR, random_data=True, init=7.0)
    run.epochs.val_loss[-1] = FLOOR + th.NEAR_FLOOR_REL * FLOOR * (1.05 if past else 0.95)
    return checks.check_floor(context(run)).key == "f.floor.above"


@pins("MEMORISE_REL")
def case_memorise(past):
    # one evaluation, at the floor; training below it by a share of the floor
    train = FLOOR * (1 - th.MEMORISE_REL * (1.1 if past else 0.9))
    run = make_run(np.full(200, train), [FLOOR + 0.01], floor=FLOOR, random_data=True, init=7.0)
    key = checks.check_overfitting(context(run)).key
    assert key in ("f.overfit.memorising", "f.overfit.memorising_slight")
    return key == "f.overfit.memorising"


@pins("TAIL_FRACTION", "MIN_TAIL")
def case_tail(past):
    # the end of the run is max(MIN_TAIL, TAIL_FRACTION * n) batches: just past the crossover the fraction rules
    n_cross = th.MIN_TAIL / th.TAIL_FRACTION
    n = int(n_cross * (1.1 if past else 0.9))
    run = make_run(wiggle(FLOOR + 0.01, n, amp=0.01), floor=FLOOR, random_data=True)
    tail = checks.check_batch_noise(context(run)).args["n"]
    expected = math.ceil(th.TAIL_FRACTION * n) if past else th.MIN_TAIL
    assert tail == expected, (n, tail, expected)
    return tail > th.MIN_TAIL


# --------------------------------------------------------------------------- uniform output


def _uniform(level, amp):
    run = make_run(wiggle(level, 200, amp=amp), v=V + 1)  # V' = 1001: padded sizes 1008 (8) and 1024 (64, 128, 256)
    return checks.check_uniform_lock(context(run))


@pins("UNIFORM_LOCK_NATS")
def case_uniform_nats(past):
    f = _uniform(math.log(V + 1) + th.UNIFORM_LOCK_NATS * (1.2 if past else 0.8), amp=2e-4)
    return f.key == "f.uniform.ok"


@pins("UNIFORM_LOCK_SD")
def case_uniform_sd(past):
    probe = make_run(wiggle(3.0, 200, amp=1e-3))
    amp = 1e-3 * th.UNIFORM_LOCK_SD / context(probe).sigma_b * (1.1 if past else 0.9)
    return _uniform(math.log(V + 1), amp).key == "f.uniform.ok"


@pins("PADDED_MULTIPLES")
def case_padded(past):
    # V = 1001 padded to a multiple of 64 is 1024; 1040 is no padded size (a multiple of 80 and 16 only)
    return _uniform(math.log(1040 if past else 1024), amp=2e-4).key == "f.uniform.ok"


@pins("CONSTANT_RUN")
def case_constant_run(past):
    losses = wiggle(3.0, 100, amp=0.02)
    k = th.CONSTANT_RUN - 1 if past else th.CONSTANT_RUN  # past: one identical loss too few
    losses[-k:] = 3.0
    f = checks.check_uniform_lock(context(make_run(losses, v=None)))
    return f.status != "fail"


@pins("GRAD_NONFINITE_MIN")
def case_grad_nonfinite_min(past):
    k = th.GRAD_NONFINITE_MIN if past else th.GRAD_NONFINITE_MIN - 1  # past: enough norms logged, every one non-finite
    run = make_run(wiggle(3.0, 30, amp=0.02), v=None)
    run.config = {"grad_norms": {"logged": k, "nonfinite": k}}
    return checks.check_nonfinite(context(run)).key == "f.nonfinite.grad_all"


@pins("ZERO_RUN")
def case_zero_run(past):
    k = th.ZERO_RUN - 1 if past else th.ZERO_RUN  # past: one zero too few
    f = checks.check_uniform_lock(context(make_run(np.zeros(k), v=None)))
    return f.key != "f.uniform.zero"


@pins("CONSTANT_TOL")
def case_constant_tol(past):
    losses = wiggle(3.0, 100, amp=0.02)
    d = th.CONSTANT_TOL * (1.2 if past else 0.8)
    losses[-6:] = [3.05, 3.0, 3.0 + d, 3.0, 3.0 + d, 3.0]
    f = checks.check_uniform_lock(context(make_run(losses, v=None)))
    return f.status != "fail"


# --------------------------------------------------------------------------- spikes and divergence


def _spiky(excess_of_threshold, amp):
    losses = wiggle(3.0, 200, amp=amp)
    losses[150] = 100.0  # placeholder: the noise estimate and the running median are robust to it
    ctx = context(make_run(losses))
    sd = max(ctx.sigma_b, stats.diff_noise_sd(ctx.loss))
    med = stats.rolling_median(ctx.loss, th.SPIKE_WINDOW)[150]
    thresh = max(th.SPIKE_Z * sd, th.SPIKE_MIN_NATS)
    losses[150] = med + thresh * excess_of_threshold
    return checks.check_spikes(context(make_run(losses))), sd


@pins("SPIKE_Z")
def case_spike_z(past):
    f, sd = _spiky(1.1 if past else 0.9, amp=0.02)
    assert th.SPIKE_Z * sd > 2 * th.SPIKE_MIN_NATS
    return f.key == "f.spikes.found"


@pins("SPIKE_MIN_NATS")
def case_spike_min(past):
    f, sd = _spiky(1.1 if past else 0.9, amp=1e-4)
    assert th.SPIKE_Z * sd < th.SPIKE_MIN_NATS / 2
    return f.key == "f.spikes.found"


@pins("SPIKE_WINDOW")
def case_spike_window(past):
    # a block of high losses is a level (no spike) once it fills half the running-median window
    losses = wiggle(3.0, 200, amp=1e-3)
    block = th.SPIKE_WINDOW // 2 + (1 if past else 0)
    losses[100 : 100 + block] = 4.0
    return checks.check_spikes(context(make_run(losses))).key == "f.spikes.none"


@pins("DIVERGE_MIN_NATS")
def case_diverge(past):
    losses = wiggle(3.0, 200, amp=1e-4)
    losses[-th.SPIKE_WINDOW :] += th.DIVERGE_MIN_NATS * (1.1 if past else 0.9)
    return checks.check_divergence(context(make_run(losses))).key == "f.diverge.rise"


@pins("MIN_EFFECT_REL")
def case_min_effect(past):
    # random ids, far above the floor: a fall beyond noise (tiny noise) counts as learning only when it is also at
    # least MIN_EFFECT_REL of the level it fell from; just short of it the loss "did not move materially"
    start = FLOOR + 2.0  # far above the floor: reaching it is not what makes the move count here
    drop = th.MIN_EFFECT_REL * start * (1.1 if past else 0.9)
    losses = np.r_[wiggle(start, 100, amp=1e-4), wiggle(start - drop, 100, amp=1e-4)]
    return checks.check_no_learning(context(make_run(losses, floor=FLOOR, random_data=True))).key == "f.nolearn.ok"


@pins("Z_TREND")
def case_z_trend(past):
    # still falling against settled: three evaluations (noise from token counts) falling evenly; with three, the end is
    # the last interval, its change just beyond / short of Z_TREND standard errors (sigma_val x sqrt(2) for two points)
    # (make_run puts its first evaluation at step 0, before training: not one of the three)
    base = make_run(wiggle(3.0, 300, amp=0.05), [3.1, 3.0, 2.9, 2.8], v=None, val_tokens=200_000)
    sigma_val = context(base).sigma_val
    d = th.Z_TREND * (1.1 if past else 0.9) * math.sqrt(2) * sigma_val
    run = make_run(wiggle(3.0, 300, amp=0.05), [3.1, 2.8 + 2 * d, 2.8 + d, 2.8], v=None, val_tokens=200_000)
    return checks.check_progress(context(run)).status == "info"


@pins("MIN_BATCHES")
def case_min_batches(past):
    n = th.MIN_BATCHES if past else th.MIN_BATCHES - 1
    return checks.check_spikes(context(make_run(wiggle(3.0, n, amp=0.01)))).status != "skipped"


# --------------------------------------------------------------------------- initialisation and pretrained starts


@pins("INIT_FIRST_STEP_MAX")
def case_init_first_step(past):
    run = make_run(wiggle(7.0, 50, amp=0.01))
    run.batches.step = run.batches.step + th.INIT_FIRST_STEP_MAX - (0 if past else 1)
    # past: the first batch comes after INIT_FIRST_STEP_MAX, so it is not the loss at initialisation
    return checks.check_init(context(run)).key == "f.init.not_logged"


@pins("INIT_BAND_LOW_NATS")
def case_init_band_low(past):
    init = LN_V - th.INIT_BAND_LOW_NATS * (1.2 if past else 0.8)
    run = make_run(wiggle(5.0, 50, amp=0.01), [5.0, 5.0], init=init)
    return checks.check_init(context(run)).key == "f.init.pretrained"


def _first_loss_run(first_loss, first_step, last_step, v=V):
    run = make_run(wiggle(first_loss, 50, amp=0.01), v=v)
    run.batches.step = np.linspace(first_step, last_step, 50)  # no loss at step <= INIT_FIRST_STEP_MAX: judged by the first loss
    return run


def _pretrained(run):
    return diagnose(run).facts.sources.get("pretrained") is not None


@pins("PRETRAINED_UNIGRAM_REL")
def case_pretrained_unigram(past):
    return _pretrained(_first_loss_run(th.PRETRAINED_UNIGRAM_REL * U * (0.9 if past else 1.1), 2, 500))


@pins("PRETRAINED_ANY_V_LOSS")
def case_pretrained_any_v(past):
    return _pretrained(_first_loss_run(th.PRETRAINED_ANY_V_LOSS * (0.9 if past else 1.1), 2, 500, v=None))


@pins("PRETRAINED_EARLY_STEPS")
def case_pretrained_early_steps(past):
    # past: the first loss comes one step after the early window, so a low loss there says nothing about the start
    last = th.PRETRAINED_EARLY_STEPS / th.PRETRAINED_EARLY_FRACTION / 2  # the fixed window is the larger one
    first = th.PRETRAINED_EARLY_STEPS + (1 if past else 0)
    return not _pretrained(_first_loss_run(0.5 * U, first, last))


@pins("PRETRAINED_EARLY_FRACTION")
def case_pretrained_early_fraction(past):
    last = th.PRETRAINED_EARLY_STEPS / th.PRETRAINED_EARLY_FRACTION * 20  # the fraction is the larger window
    first = th.PRETRAINED_EARLY_FRACTION * last * (1.05 if past else 0.95)
    return not _pretrained(_first_loss_run(0.5 * U, first, last))


# --------------------------------------------------------------------------- not learning


def _stuck(losses, span):
    run = make_run(losses)
    run.batches.step = np.linspace(2, 2 + span, losses.size)
    return checks.check_no_learning(context(run)).key.startswith("f.nolearn.unigram")


@pins("STUCK_MIN_SPAN")
def case_stuck_span(past):
    # past the threshold is "stuck"; just short of the span, too short to tell
    return _stuck(wiggle(U, 200, amp=0.01), th.STUCK_MIN_SPAN * (1.01 if past else 0.99))


@pins("STUCK_MAX_DROP_REL")
def case_stuck_drop(past):
    start = U / (1 - th.STUCK_MAX_DROP_REL * (1.2 if past else 0.8))
    losses = np.concatenate([np.full(40, start), np.linspace(start, U, 60), np.full(100, U)])
    return not _stuck(losses, 2 * th.STUCK_MIN_SPAN)


@pins("STUCK_UNIGRAM_REL")
def case_stuck_unigram(past):
    level = U * (1 + th.STUCK_UNIGRAM_REL * (1.1 if past else 0.9))
    return not _stuck(wiggle(level, 200, amp=0.01), 2 * th.STUCK_MIN_SPAN)


@pins("IDENTICAL_EVALS")
def case_identical_evals(past):
    k = th.IDENTICAL_EVALS if past else th.IDENTICAL_EVALS - 1
    vals = [5.0, 4.5] + [4.0] * k
    # training falls over the first 20 steps, then stays flat under the identical evaluations (training that moved
    # under them would make them one stale value logged again: context._stale_evals)
    train = np.concatenate([np.linspace(6.0, 4.0, 20), np.full(80, 4.0)]) + wiggle(0.0, 100, amp=0.02)
    run = make_run(train, vals)
    return checks.check_no_learning(context(run)).key == "f.nolearn.identical_evals"


# --------------------------------------------------------------------------- trends of the validation series


@pins("MIN_EVALS_LEAD")
def case_evals_lead(past):
    k = th.MIN_EVALS_LEAD if past else th.MIN_EVALS_LEAD - 1
    run = make_run(np.linspace(6.0, 4.0, 100) + wiggle(0.0, 100, amp=0.02), list(np.linspace(5.0, 4.0, k)), init=6.9)
    # past: validation leads the trend; short of it, the batches do
    return checks.check_progress(context(run)).args.get("source") != "batches"


@pins("END_EVALS_FRACTION")
def case_end_evals(past):
    # the end of the series is max(3, ceil(fraction * evaluations)): just past 3 / fraction evaluations it is 4
    k = math.floor(3 / th.END_EVALS_FRACTION) + (1 if past else 0)
    run = make_run(wiggle(4.0, 100, amp=0.02), list(np.linspace(5.0, 4.0, k)), init=6.9)
    m = checks.check_progress(context(run)).args["evals"]
    assert m == max(3, math.ceil(th.END_EVALS_FRACTION * k))
    return m > 3


@pins("FEW_EVALS_CORROBORATE")
def case_few_evals_corroborate(past):
    # a zig-zag validation series whose last three fall 0.15 nats, too noisy to show it alone, over 2,000 training batches
    # still falling: corroborated up to FEW_EVALS_CORROBORATE evaluations, judged on their own beyond
    k = th.FEW_EVALS_CORROBORATE + (1 if past else 0)
    vals = [3.4, 3.0, 3.3, 2.9, 3.1, 2.8, 2.95][-k:]  # the same end, one evaluation more in front when past
    u = np.arange(1, 2001)
    train = 2.0 + 1.5 * np.exp(-u / 1500) + np.random.default_rng(0).normal(0, 0.05, u.size)
    c = context(make_run(train, [3.5, *vals], val_tokens=float("nan")))  # the first, at step 0, is before training
    assert c.val.size == k
    f = checks.check_progress(c)
    assert f.key in ("f.progress.val_train_falling", "f.progress.val_settled"), (f.key, f.args)
    return f.key == "f.progress.val_settled"


def _rising_every(vals):
    """Does the rising-every rule fire on these evaluations after falling training? Read with no series noise (the
    evaluations' own noise unmeasured), so the regular rise test, which a noiseless series passes first, stays out."""
    from lossdoc.analysis import trends

    c = dataclasses.replace(context(make_run(np.linspace(2.0, 1.0, 200), [2.5, *vals], v=None, val_tokens=float("nan"))), sigma_val=math.nan)
    i_min = int(np.argmin(c.val))
    return trends._few_rising_every(c, i_min, float(c.val[i_min]), True, True) is not None


@pins("NOISE_DF_VETO")
def case_noise_df_veto(past):
    # 4 rises of 5% each after the best, and a series noise as large as the rise: it vetoes the rule when measured on
    # NOISE_DF_VETO degrees of freedom (past), not on one fewer
    from lossdoc.analysis import trends

    vals = [2.0, 1.5] + [1.5 * (1 + 0.05 * i) for i in range(1, 5)]
    c = context(make_run(np.linspace(2.0, 1.0, 200), [2.5, *vals], v=None, val_tokens=float("nan")))
    df = th.NOISE_DF_VETO if past else th.NOISE_DF_VETO - 1
    c = dataclasses.replace(c, sigma_val=0.3 / (3 * math.sqrt(2)), val_noise_source="series", val_noise_df=df)
    i_min = int(np.argmin(c.val))
    return trends._few_rising_every(c, i_min, float(c.val[i_min]), True, True) is None


@pins("FEW_RISES_MIN")
def case_few_rises(past):
    # validation's best, then FEW_RISES_MIN rises in a row (or one fewer) of 5% each
    k = th.FEW_RISES_MIN if past else th.FEW_RISES_MIN - 1
    return _rising_every([2.0, 1.5] + [1.5 * (1 + 0.05 * i) for i in range(1, k + 1)])


def _rising_ranks(vals):
    """Does the rank rule (evaluations after the best rising by their order alone) fire on these evaluations after
    falling training?"""
    from lossdoc.analysis import trends

    c = context(make_run(np.linspace(2.0, 1.0, 200), [2.5, *vals], v=None, val_tokens=float("nan")))
    i_min = int(np.argmin(c.val))
    return trends._rising_ranks(c, i_min, float(c.val[i_min]), True, True) is not None


def _all_above(vals):
    """Does the few-evaluations rule (every evaluation after an early best above it) fire after falling training?"""
    from lossdoc.analysis import trends

    c = dataclasses.replace(context(make_run(np.linspace(2.0, 1.0, 200), vals, v=None, val_tokens=float("nan"))), sigma_val=math.nan)
    i_min = int(np.argmin(c.val))
    return trends._few_all_above(c, i_min, float(c.val[i_min]), True) is not None


@pins("FEW_EVALS_ALL_ABOVE")
def case_few_evals_all_above(past):
    # the best second, then evaluations 3% and 4% above it, then a 6% one: FEW_EVALS_ALL_ABOVE evaluations in all, or one more
    k = th.FEW_EVALS_ALL_ABOVE if past else th.FEW_EVALS_ALL_ABOVE + 1
    later = [1.5 * (1 + r) for r in np.linspace(0.03, 0.06, k - 2)]
    return _all_above([2.5, 1.8, 1.5, *later])  # the first, at step 0, is before training and left out


@pins("RANK_RISE_MIN")
def case_rank_rise_min(past):
    # the best, then RANK_RISE_MIN evaluations (or one fewer) in rising order, 3% apart: far beyond FEW_RISE_REL
    k = th.RANK_RISE_MIN if past else th.RANK_RISE_MIN - 1
    return _rising_ranks([2.0, 1.5] + [1.5 * (1 + 0.03 * i) for i in range(1, k + 1)])


@pins("SCHEDULE_END_REL")
def case_schedule_end(past):
    # a loss still falling at the end (a power law) while the learning rate decays by a cosine from its peak to just
    # under or over SCHEDULE_END_REL of it at the last record
    n = 400
    x = np.arange(n, dtype=float)
    run = make_run(2.0 + 3.0 * (1 + x / 20) ** -0.5 + 0.002 * np.sin(x), v=None)
    end = th.SCHEDULE_END_REL * (0.9 if past else 1.1)
    run.batches.lr = 1e-3 * (end + (1 - end) * 0.5 * (1 + np.cos(np.pi * x / (n - 1))))
    key = checks.check_progress(context(run)).key
    assert key in ("f.progress.improving", "f.progress.schedule_ended"), key
    return key == "f.progress.schedule_ended"


@pins("FEW_RISE_REL")
def case_few_rise_rel(past):
    # four rises in a row after the best, in all just over or under FEW_RISE_REL of the best
    total = th.FEW_RISE_REL * (1.1 if past else 0.9)
    return _rising_every([2.0, 1.5] + [1.5 * (1 + total * i / 4) for i in range(1, 5)])


@pins("FLAT_SLOPE_REL")
def case_flat_slope(past):
    # nine evaluations: a steep fall, then the last three on a slope that is a share r of the average slope
    r = th.FLAT_SLOPE_REL * (0.8 if past else 1.2)  # past: slower than the threshold share, so flattened
    s1 = -0.05
    s_end = 6 * r * s1 / (8 - 2 * r)  # so that s_end / ((6 s1 + 2 s_end) / 8) == r
    x = np.arange(9) * 10.0
    vals = np.where(np.arange(9) <= 6, 6.0 + s1 * x, 6.0 + s1 * 60 + s_end * (x - 60))
    run = make_run(wiggle(4.0, 90, amp=1e-4), list(vals), init=6.9)
    key = checks.check_progress(context(run)).key
    assert key in ("f.progress.val_improving", "f.progress.val_flattened"), key
    return key == "f.progress.val_flattened"


@pins("END_FALL_REL")
def case_end_fall_rel(past):
    # nine evaluations: a collapse from 8 nats at the first, then a straight fall whose last third falls by a share f of
    # the end's level, at about 5% of the average slope (under FLAT_SLOPE_REL): still improving only from f on
    f = th.END_FALL_REL * (1.1 if past else 0.9)
    s = 2.0 * f / (20.0 + 70.0 * f)  # so that the last window's fall, 20 s, is f times the end's level, 2 - 70 s
    x = np.arange(9) * 10.0
    vals = np.where(np.arange(9) == 0, 8.0, 2.0 - s * (x - 10.0))
    run = make_run(wiggle(1.0, 90, amp=1e-4), list(vals), init=8.5)
    f_ = checks.check_progress(context(run))
    assert f_.key in ("f.progress.val_improving_level", "f.progress.val_flattened"), f_.key
    assert f_.args["rel"] < 100 * th.FLAT_SLOPE_REL, f_.args
    return f_.key == "f.progress.val_improving_level"


@pins("PRE_BEST_NOISE_MIN")
def case_pre_best_noise_min(past):
    # a fall to the best over PRE_BEST_NOISE_MIN evaluations (or one fewer), then a leap to 7 nats and back to 0.9 above
    # the best while training falls: from that many, the noise up to the best judges the rise (overfitting); with
    # fewer, the whole series' noise, the leap counted in it, hides it
    k = th.PRE_BEST_NOISE_MIN if past else th.PRE_BEST_NOISE_MIN - 1
    wobble = np.array([0.01, -0.01, 0.012, -0.008, 0.0, 0.01, -0.01, 0.005])
    pre = list(0.35 + 0.4 * np.exp(-np.arange(k) / 1.2) + wobble[:k])
    pre[-1] = min(pre) - 0.01
    best = pre[-1]
    vals = [0.9, *pre, best + 0.1, best + 5.0, best + 7.0, best + 1.4, best + 0.9]  # (the first: the start, step 0)
    run = make_run(list(np.linspace(1.1, 0.13, 100)), vals, v=None, val_tokens=float("nan"))
    f = checks.check_overfitting(context(run))
    # (the rise rules' verdict: the series also ends above its start, which f.overfit.val_never_fell reads on its own)
    return f.status == "fail" and f.key in ("f.overfit.val_rising", "f.overfit.val_rising_fit")


def _never_fell_vals(n_evals, scale=1.0):
    """Validation flat and noisy around 3.1 (times ``scale``), the median of its last third 0.025 above its first's."""
    pattern = [3.0, 3.2, 2.95, 3.15, 3.05, 3.1, 3.25, 2.9, 3.2, 3.0, 3.1, 3.05]
    m = max(2, math.ceil(n_evals / 3))
    # the last third: the first's values 0.025 higher, in reverse order (no rise from the best at the end for the rise
    # rules to read)
    return [scale * x for x in pattern[:m] + pattern[m : n_evals - m] + [x + 0.025 for x in reversed(pattern[:m])]]


def _never_fell_run(n_evals, fall, scale=1.0):
    """n_evals evaluations of 10 batches each: validation as ``_never_fell_vals``, training flat at 1.0 over the first
    third of the evaluations, then down to 1 - fall."""
    m = max(2, math.ceil(n_evals / 3))
    vals = _never_fell_vals(n_evals, scale)
    levels = np.concatenate([np.ones(m), np.linspace(1.0, 1.0 - fall, n_evals - m + 1)[1:]])
    levels[-m:] = 1.0 - fall
    losses = np.repeat(levels, 10) + np.tile([0.001, -0.001], 5 * n_evals)
    return make_run(list(losses), [5.0, *vals], v=None, val_tokens=float("nan"))  # (the first: the start, step 0)


@pins("NEVER_FELL_TRAIN_REL")
def case_never_fell_train_rel(past):
    # validation no lower over its last third than its first while training fell by a share just past (or short of)
    # NEVER_FELL_TRAIN_REL of its level (ending far below a quarter of validation either way): overfitting only past it
    run = _never_fell_run(12, th.NEVER_FELL_TRAIN_REL * (1.1 if past else 0.9))
    f = checks.check_overfitting(context(run))
    return f.key == "f.overfit.val_never_fell"


@pins("NEVER_FELL_GAP_REL")
def case_never_fell_gap_rel(past):
    # training fallen to 0.2 (80%): validation scaled so that 0.2 is just under (or over) NEVER_FELL_GAP_REL of the
    # lower of its last third's median and its last two's mean
    v = _never_fell_vals(12)
    low = min(float(np.median(v[-4:])), float(np.mean(v[-2:])))
    scale = 0.2 / (th.NEVER_FELL_GAP_REL * low) * (1.1 if past else 0.9)
    f = checks.check_overfitting(context(_never_fell_run(12, 0.8, scale)))
    return f.key == "f.overfit.val_never_fell"


@pins("NEVER_FELL_EVALS_MIN")
def case_never_fell_evals_min(past):
    run = _never_fell_run(th.NEVER_FELL_EVALS_MIN if past else th.NEVER_FELL_EVALS_MIN - 1, 0.8)
    f = checks.check_overfitting(context(run))
    return f.key == "f.overfit.val_never_fell"


def _steady(r, a=0.1):
    """60 records: a fall, its last half (30 records) falling beyond its noise, the end window (20 records, too noisy on
    its own) falling at r times the half's least-squares slope (both measured on the noisy series, as the check does)."""
    t = np.arange(60, dtype=float)
    noise = a * np.where(np.arange(60) % 4 < 2, 1.0, -1.0)

    def build(s_end):
        y = np.where(t < 30, 3.0 - 0.0133 * t, 3.0 - 0.399 - 0.02 * (t - 30))
        return np.where(t < 40, y, 3.0 - 0.599 + s_end * (t - 40)) + noise

    def ratio(s_end):
        y = build(s_end)
        return np.polyfit(t[-20:], y[-20:], 1)[0] / np.polyfit(t[-30:], y[-30:], 1)[0]

    lo, hi = 0.02, -0.05
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ratio(mid) < r else (lo, mid)
    return build((lo + hi) / 2)


@pins("STEADY_END_Z")
def case_steady_end_z(past):
    # the steady-fall pair's series (its end at 0.6 of the half's slope), its noise scaled so that the end window's
    # own lean is just past (or short of) STEADY_END_Z standard errors, as the check measures it (AR(1)-widened)
    target = th.STEADY_END_Z * (1.15 if past else 0.85)

    def end_z(a):
        c = context(make_run(_steady(0.6, a), v=None))
        slope, se = stats.linear_trend(c.loss[c.tail], c.step[c.tail])
        return -slope / (se * stats.ar1_mean_factor(c.rho_b, int(c.tail.sum())))

    lo, hi = 0.01, 0.5  # end_z falls as the noise grows
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if end_z(mid) > target else (lo, mid)
    f = checks.check_progress(context(make_run(_steady(0.6, (lo + hi) / 2), v=None)))
    assert f.key in ("f.progress.improving_half", "f.progress.settled"), f.key
    return f.key == "f.progress.improving_half"


@pins("STEADY_END_SHARE")
def case_steady_end_share(past):
    r = th.STEADY_END_SHARE * (1.2 if past else 0.8)  # past: the end falls as steeply as the half's share asks
    # noise 0.05: the end window leans down by more than STEADY_END_Z standard errors either way, so the share decides
    f = checks.check_progress(context(make_run(_steady(r, 0.05), v=None)))
    assert f.key in ("f.progress.improving_half", "f.progress.settled"), f.key
    return f.key == "f.progress.improving_half"


# --------------------------------------------------------------------------- numbers that are not a mean loss


@pins("SCALE_RATIO")
def case_scale_ratio(past):
    train = 1.0 * th.SCALE_RATIO * (1.1 if past else 0.9)
    assert train - 1.0 > 1.5 * th.SCALE_MIN_NATS  # the ratio decides, not the difference
    run = make_run(np.full(100, train), [1.0, 1.0], init=7.0)
    return checks.check_scale(context(run)).key == "f.scale.train_vs_val"


@pins("SCALE_MIN_NATS")
def case_scale_nats(past):
    val = 0.2 * th.SCALE_MIN_NATS
    train = val + th.SCALE_MIN_NATS * (1.1 if past else 0.9)
    assert train / val > 1.5 * th.SCALE_RATIO  # the difference decides, not the ratio
    run = make_run(np.full(100, train), [val, val], init=7.0)
    return checks.check_scale(context(run)).key == "f.scale.train_vs_val"


@pins("EVAL_MULTIPLE_TOL")
def case_eval_multiple_tol(past):
    # three evaluations at 2x the training level; the last one off by just more (or less) than the tolerance
    off = th.EVAL_MULTIPLE_TOL * (1.2 if past else 0.8)
    run = make_run(np.full(300, 3.0), [6.0, 6.0, 6.0 * (1 + off)], init=7.0)
    return checks.check_scale(context(run)).key != "f.scale.eval_multiple"


@pins("EVAL_MULTIPLE_MIN_EVALS")
def case_eval_multiple_min_evals(past):
    n = th.EVAL_MULTIPLE_MIN_EVALS + (0 if past else -1)
    run = make_run(np.full(300, 3.0), [6.0] * n, init=7.0)
    return checks.check_scale(context(run)).key == "f.scale.eval_multiple"


def _stairs(drops_fall, n_epochs=4, per_epoch=100, window_break=None):
    """Noiseless-ish epochs (tiny symmetric wiggle) that fall by ``fall`` within each epoch and drop by
    ``drop`` at each boundary; ``drops_fall`` = (drop, fall); epochs logged as fractions (HF)."""
    drop, fall = drops_fall
    parts, level = [], 1.0
    for _ in range(n_epochs):
        parts.append(level - fall * np.linspace(0, 1, per_epoch) + wiggle(0.0, per_epoch, amp=1e-5))
        level = level - fall - drop
    run = make_run(np.concatenate(parts), v=V)
    run.batches.epoch = np.arange(1, n_epochs * per_epoch + 1) / per_epoch
    return checks.check_overfitting(context(run)).key == "f.overfit.epoch_steps"


@pins("STAIRCASE_RATIO")
def case_staircase_ratio(past):
    fall = 0.02
    measured_fall = fall * (1 - th.STAIRCASE_WINDOW)  # medians of the first and last windows sit half a window in
    return _stairs((th.STAIRCASE_RATIO * measured_fall * (1.15 if past else 0.85), fall))


@pins("STAIRCASE_MIN_BOUNDARIES")
def case_staircase_min_boundaries(past):
    # as many epochs as the rule needs boundaries (past), or one fewer (short)
    n = th.STAIRCASE_MIN_BOUNDARIES + 1 if past else th.STAIRCASE_MIN_BOUNDARIES
    return _stairs((0.1, 0.0), n_epochs=n)


@pins("STAIRCASE_SHARE")
def case_staircase_share(past):
    # 5 boundaries; the first k drop (a staircase), the rest are continuous; k just above / below the share
    k = int(np.ceil(th.STAIRCASE_SHARE * 5)) if past else int(np.ceil(th.STAIRCASE_SHARE * 5)) - 1
    k = max(k, th.STAIRCASE_MIN_BOUNDARIES)
    parts, level, per = [], 1.0, 100
    for e in range(6):
        parts.append(level + wiggle(0.0, per, amp=1e-5))
        level -= 0.1 if e < k else 0.0
    run = make_run(np.concatenate(parts), v=V)
    run.batches.epoch = np.arange(1, 6 * per + 1) / per
    return checks.check_overfitting(context(run)).key == "f.overfit.epoch_steps"


@pins("STAIRCASE_WINDOW")
def case_staircase_window(past):
    # each epoch ends with a dip lasting just over (past) / under (short) half a window: with a window the
    # median of the end sees it (no drop at the boundary); past: the window is wider than twice the dip, the
    # median ignores it and the boundary drop shows
    per = 200
    w = max(3, int(th.STAIRCASE_WINDOW * per))
    dip = int(w * (0.4 if past else 0.6))
    parts, level = [], 1.0
    for _ in range(4):
        e = np.full(per, level) + wiggle(0.0, per, amp=1e-5)
        e[per - dip :] -= 0.1  # the end of the epoch already at the next level
        parts.append(e)
        level -= 0.1
    run = make_run(np.concatenate(parts), v=V)
    run.batches.epoch = np.arange(1, 4 * per + 1) / per
    return checks.check_overfitting(context(run)).key == "f.overfit.epoch_steps"


@pins("ZERO_AFTER")
def case_zero_after(past):
    losses = np.full(30, th.ZERO_AFTER * (1.1 if past else 0.9))
    losses[20] = 0.0
    return checks.check_nonfinite(context(make_run(losses))).key == "f.nonfinite.zero_filtered"


@pins("SCALE_COLLAPSE_SKIPPED")
def case_scale_collapse(past):
    # training falls to step 80, where the scale reached 1, and stays flat after it (a scale that came back would let
    # training fall again)
    run = make_run(np.concatenate([np.linspace(6.0, 4.0, 80), np.full(20, 4.0)]) + wiggle(0.0, 100, amp=0.02))
    run.config.update(loss_scale_min=1.0, loss_scale_min_step=80, skipped_steps=th.SCALE_COLLAPSE_SKIPPED - (0 if past else 1))
    return checks.check_nonfinite(context(run)).key == "f.nonfinite.scale_collapse"


@pins("MEMORISED_NATS")
def case_memorised(past):
    # the log shows the fall into it (from 2 nats over the first 20 batches), then sits just under or over the limit
    end = th.MEMORISED_NATS * (0.9 if past else 1.1)
    run = make_run(np.concatenate([np.linspace(2.0, end, 20), np.full(80, end)]))
    run.batches.epoch = np.linspace(1.0, 3.0, 100)
    return checks.check_overfitting(context(run)).key == "f.overfit.train_memorised"


@pins("FIRST_EPOCH_LOW_NATS")
def case_first_epoch_low(past):
    run = make_run(np.full(100, th.FIRST_EPOCH_LOW_NATS * (0.9 if past else 1.1)))
    return checks.check_scale(context(run)).key == "f.scale.first_epoch_low"


@pins("REAL_DATA_DROPOUT_FACTOR", "DEFAULT_DROPOUT")
def case_val_below_train(past):
    # real data, dropout not logged: validation may sit below training by FACTOR x DEFAULT_DROPOUT x the level
    train = 3.0
    probe = context(make_run(np.full(100, train), [train, train], init=7.0))
    allowance = probe.band_val + th.REAL_DATA_DROPOUT_FACTOR * th.DEFAULT_DROPOUT * train
    val = train - allowance * (1.05 if past else 0.95)
    run = make_run(np.full(100, train), [train, val], init=7.0)
    return checks.check_val_below_train(context(run)).key == "f.vbt.found"


@pins("FEW_BATCHES_NO_FACTS")
def case_few_batches(past):
    # no evaluations, no V, no floor, a loss that moved (a slow fall of 6 nats under noise of 0.8), and an end that
    # settles too loosely to say anything alone: fewer than FEW_BATCHES_NO_FACTS batches is inconclusive (a series that
    # never moved is, however long: test_failure_classes)
    n = th.FEW_BATCHES_NO_FACTS if past else th.FEW_BATCHES_NO_FACTS - 1
    run = make_run(wiggle(1.0, n, amp=0.8) + 6.0 * np.exp(-np.arange(n) / 30), v=None)
    d = diagnose(run)
    assert d.finding("no-learning").status == "ok", d.finding("no-learning")
    return d.verdict != "inconclusive"


def _settled_run(n: int, se_over_level: float):
    """n flat, noisy losses, no other fact, whose end's trend has standard error se_over_level x its level."""
    noise = wiggle(0.0, n, amp=0.05)
    se = checks.check_progress(context(make_run(10.0 + noise, v=None))).args["se"]  # additive noise: se is level-free
    return make_run(se / se_over_level + noise, v=None)


@pins("FEW_SETTLED_SE")
def case_few_settled(past):
    # ... unless its end settled within FEW_SETTLED_SE of the level: a short log of a fine-tune (the log says so: a
    # pretrained start inferred from a low loss alone does not count, see test_failure_classes) that has converged
    run = _settled_run(40, th.FEW_SETTLED_SE * (0.95 if past else 1.05))
    run.pretrained = True
    assert checks.check_progress(context(run)).status == "ok"
    return diagnose(run).verdict == "converged"


@pins("FEW_SETTLED_FALL")
def case_few_settled_fall(past):
    # ... or it fell and then stayed put: flat noisy end (its error over 5% of the level, so FEW_SETTLED_SE does not
    # decide) after a fall from the first record; 2 standard errors of the end's change just within / beyond a
    # quarter of that fall
    noise = wiggle(0.0, 40, amp=0.05)
    se = checks.check_progress(context(make_run(10.0 + noise, v=None))).args["se"]
    level = se / (3 * th.FEW_SETTLED_SE)  # se is 15% of the level
    fall = th.Z_TREND * se / th.FEW_SETTLED_FALL * (1.1 if past else 0.9)
    run = make_run(np.r_[level + fall, level + fall + noise[1:10], level + noise[10:]], v=None)  # 10 records up there: a clear move
    return diagnose(run).verdict == "converged"


@pins("INIT_TIED_REL")
def case_init_tied(past):
    # a first loss below ln V by less than INIT_TIED_REL of it is weight tying's head start (warn); further is a leak (fail)
    init = LN_V * (1 - th.INIT_TIED_REL * (1.1 if past else 0.9))
    run = make_run(wiggle(3.0, 40, amp=0.02), [3.0, 3.0], init=init)
    run.pretrained = False
    return checks.check_init(context(run)).key == "f.init.low"


@pins("EARLY_STEPS")
def case_early_steps(past):
    # random ids, a fresh model flat at its start inside the initial band: stuck only from EARLY_STEPS steps on
    n = th.EARLY_STEPS + (5 if past else -5)
    run = make_run(wiggle(LN_V + 0.17, n, amp=1e-3), floor=FLOOR, random_data=True)
    run.pretrained = False
    return checks.check_no_learning(context(run)).key == "f.nolearn.stuck"


@pins("HF_SHIFT_MIN_T")
def case_hf_shift(past):
    # a Hugging Face log below an exact floor by (T - 1)/T: the Trainer's label count when T >= HF_SHIFT_MIN_T, else
    # (further below) a loss under the floor
    t = th.HF_SHIFT_MIN_T + (1 if past else -1)
    run = make_run(wiggle(FLOOR * (t - 1) / t, 100, amp=1e-3), floor=FLOOR, random_data=True)
    run.format = "hf-trainer"
    return context(run).facts.get("hf_shift") == t


@pins("FEW_RECORDS_MIN")
def case_few_records(past):
    # from FEW_RECORDS_MIN records on, a strictly falling handful is judged by the exact rank test (5 values in order:
    # 1/120, beyond one-sided 2 sigma); with one record fewer the progress check is skipped
    n = th.FEW_RECORDS_MIN if past else th.FEW_RECORDS_MIN - 1
    run = make_run(np.linspace(4.0, 3.0, n), v=None)
    return checks.check_progress(context(run)).key == "f.progress.few_falling"


@pins("LOSS_CEILING_NATS")
def case_loss_ceiling(past):
    # a closing summary's whole-run average above LOSS_CEILING_NATS is an overflow
    run = make_run(wiggle(3.0, 5, amp=0.01), v=None)
    run.config = {"summary": {"train_loss": th.LOSS_CEILING_NATS * (1.1 if past else 0.9), "step": 69}}
    return checks.check_nonfinite(context(run)).key == "f.nonfinite.summary"


@pins("MEMORISED_START_NATS")
def case_memorised_start(past):
    # no epochs, no validation, real data: a loss ending under MEMORISED_NATS is memorised only when it started
    # above MEMORISED_START_NATS (a language model's start, not a classifier's or DPO's)
    start = th.MEMORISED_START_NATS * (1.05 if past else 0.95)
    run = make_run(np.r_[np.linspace(start, 0.1, 20), np.full(10, th.MEMORISED_NATS / 10)], v=None)
    run.batches.epoch[:] = np.nan
    return checks.check_overfitting(context(run)).key == "f.overfit.train_memorised_no_epochs"


@pins("OVERCONFIDENT_LNV")
def case_overconfident(past):
    # epoch rows only (no batches), training well below ln V: validation past ln V is overconfidence up to
    # OVERCONFIDENT_LNV x ln V + 1 nat; beyond it, a blow-up
    final = th.OVERCONFIDENT_LNV * LN_V + 1.0 + (0.05 if past else -0.05)
    run = make_run([], [LN_V - 1.0, LN_V - 1.2, LN_V + 1.0, final])
    run.epochs.train_loss[:] = [LN_V - 1.5, LN_V - 2.0, LN_V - 2.5, LN_V - 3.0]
    run.epochs.step[:] = [1.0, 2.0, 3.0, 4.0]  # (no batches: the evaluations' own steps)
    return checks.check_divergence(context(run)).key == "f.diverge.above_lnv"


def case_few_falling():
    # ... or fell beyond noise: a short log of a run that is still learning (no threshold of its own)
    run = make_run(np.linspace(6.0, 3.0, 40) + wiggle(0.0, 40, amp=0.02), v=None)
    return diagnose(run).verdict == "still-learning"


# --------------------------------------------------------------------------- the tests


def test_a_short_log_with_a_falling_end_is_still_learning_without_other_facts():
    assert case_few_falling()


@pins("BENT_FLAT_EVALS_MIN")
def case_bent_flat_evals_min(past):
    # a validation series on a learning rate's area annealed by a cosine over its last half (flat where it ends, tiny
    # noise): bent flat from BENT_FLAT_EVALS_MIN evaluations; one fewer leaves the straight line's still falling
    n = th.BENT_FLAT_EVALS_MIN if past else th.BENT_FLAT_EVALS_MIN - 1
    x = np.arange(1, n + 1, dtype=float)
    half = n / 2
    t = np.clip(x - (n - half), 0, half)
    area = np.where(x <= n - half, x, n - half + t / 2 + half / (2 * np.pi) * np.sin(np.pi * t / half))
    val = 1.8 + 1.2 * np.exp(-area / half) + np.random.default_rng(0).normal(0, 0.0005, n)
    d = diagnose(make_run(np.linspace(3.2, 1.5, 100 * n), [3.1, *val], v=None))
    return d.finding("progress").key == "f.progress.val_bent_flat"


def test_every_threshold_has_a_pair():
    names = {n for n, v in vars(th).items() if n.isupper() and isinstance(v, (int, float, tuple))}
    assert names == set(PAIRS), {"without a pair": sorted(names - set(PAIRS)), "not a threshold": sorted(set(PAIRS) - names)}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_just_past_the_threshold_the_finding_says_so(name):
    assert PAIRS[name](True), f"{name} = {getattr(th, name)!r}: just past it, the finding does not report it"


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_just_short_of_the_threshold_the_finding_does_not(name):
    assert not PAIRS[name](False), f"{name} = {getattr(th, name)!r}: just short of it, the finding already reports it"
