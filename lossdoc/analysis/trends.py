"""Trends and noise: did the loss move, is it still moving, did it rise (divergence, overfitting), spikes.

No torch, no rich: numbers in, Findings out. Rules: docs/verdicts.md; thresholds: thresholds.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lossdoc.analysis import stats
from lossdoc.analysis import thresholds as th
from lossdoc.analysis.context import Context, _epoch, _r, eval_rows
from lossdoc.analysis.impossible import _identical_evals
from lossdoc.analysis.levels import _memorisation, _memorised_text, _stuck_at_unigram
from lossdoc.analysis.model import Finding


def check_no_learning(c: Context) -> Finding:
    """Did the loss move beyond its noise? Validation is compared with validation (epoch 0 vs last),
    training batches with training batches (the first ones vs the end of the run). And does the validation accuracy,
    where the log gives one, ever change (``_frozen_accuracy``)?"""
    f = _no_learning(c)
    if f.status == "fail":
        return f
    frozen = _frozen_accuracy(c)
    if frozen is not None and (frozen.status == "fail" or f.status in ("ok", "skipped")):
        return frozen
    return f


def _no_learning(c: Context) -> Finding:
    lrs = stats.finite(c.lr)
    same = _identical_evals(c.val)
    if same is not None:
        return Finding("no-learning", "fail", "f.nolearn.identical_evals", {"value": _r(same[0]), "count": same[1]}, measured=same[0])
    stuck = _stuck_at_unigram(c)
    if stuck is not None:
        return stuck
    moves: list[tuple[float, float, float, float]] = []  # (start, end, change, band)
    if c.init is not None and c.init_source == "epoch0" and c.val.size:
        sd = c.band_val / c.z_val
        moves.append((c.init, float(c.val[-1]), c.init - float(c.val[-1]), max(c.z_val * math.sqrt(2) * sd, c.min_band)))
    n = c.loss.size
    if n >= th.MIN_BATCHES and math.isfinite(c.sigma_b):
        k = max(3, min(10, n // 4))
        start, end = float(np.median(c.loss[:k])), float(np.median(c.loss[c.tail]))
        se = math.hypot(c.level_se(k), c.level_se(int(c.tail.sum())))  # two medians, each ~1.2533 sd/sqrt(n) (more if autocorrelated)
        moves.append((start, end, start - end, max(c.z_b * se, c.min_band)))
        # and the first logged loss alone, with the error of one record: a short log (a Hugging Face record is an
        # average over many steps) may have made its whole drop before the median of its first k records
        first = float(c.loss[0])
        se1 = math.hypot(_first_record_sd(c) / math.sqrt(1.0 - c.rho_b), c.level_se(int(c.tail.sum())))
        moves.append((first, end, first - end, max(c.z_b * se1, c.min_band)))
    if not moves:
        return Finding("no-learning", "skipped", "f.nolearn.no_data", {})
    # a move counts when it is beyond noise AND material: at least MIN_EFFECT_REL of the level it started from (a
    # drift of 0.01 nats over thousands of steps from a tiny learning rate is significant and means nothing), or
    # one that reached an exact floor: all there was to learn, however little
    vf = (c.val_floor if c.val_floor is not None else c.floor) if c.floor is not None else None

    def material(m: tuple[float, float, float, float]) -> bool:
        return abs(m[2]) >= th.MIN_EFFECT_REL * abs(m[0]) or (vf is not None and abs(m[1] - vf) <= c.near_floor)

    moved = next((m for m in moves if abs(m[2]) > m[3] and material(m)), None)
    path = _path_moved(c) if moved is None else None
    if path is not None:
        # it rose and fell again (a warm-up bump): the model is changing, wherever the end lands
        start, end = float(np.median(c.loss[: min(10, c.loss.size)])), float(np.median(c.loss[c.tail]))
        moved_args = {"init": _r(start), "end": _r(end), "low": _r(path[0]), "high": _r(path[1]), "moved": _r(path[1] - path[0])}
        return Finding("no-learning", "ok", "f.nolearn.path", moved_args, measured=path[1] - path[0])
    start, end, change, band = moved or moves[0]
    args: dict[str, Any] = {
        "init": _r(start),
        "end": _r(end),
        "moved": _r(change),
        "band": _r(band),
        "effect": _r(th.MIN_EFFECT_REL * abs(start)),
        "lr_max": _r(float(lrs.max()), 8) if lrs.size else None,
    }
    lr_zero = bool(lrs.size and lrs.max() == 0)
    if vf is not None and start - vf <= max(2 * band, th.MIN_EFFECT_REL * abs(start)) and not lr_zero:
        return Finding("no-learning", "ok", "f.nolearn.nothing_to_learn", args, measured=change)
    if moved is None:
        if lr_zero:
            return Finding("no-learning", "fail", "f.nolearn.lr_zero", args, measured=change, reference=band)
        if _early_in_band(c, end):
            # a fresh model in its first steps, still inside its initial band: not moving yet is not being stuck
            args["steps"] = _epoch(c.last_step) if c.last_step is not None else "-"
            return Finding("no-learning", "info", "f.nolearn.early", args, measured=change, reference=band)
        if c.floor is None and c.run.data_kind not in (None, "dummy", "random") and not c.pretrained and not c.random_data:
            # the log says the data is text and the run started from scratch: there was something to learn
            return Finding("no-learning", "fail", "f.nolearn.stuck_text", args, measured=change, reference=band)
        if c.floor is None and c.ln_v is not None and not c.pretrained and end > c.ln_v + max(_level_band(c, band), th.NEAR_FLOOR_REL * c.ln_v):
            # still above ln V and not moving: on random ids a learning model sheds its initial excess down to ln V, on
            # text it falls far below ln V; either way this model is not learning. Whether the end is above ln V is a
            # question about one level, so its own error decides it, not the band of a change between two levels
            return Finding("no-learning", "fail", "f.nolearn.above_ln_v", {**args, "ln_v": _r(c.ln_v)}, measured=change, reference=band)
        if c.floor is None:
            # it did not move, but without a floor we cannot tell "nothing to learn" from "not learning"
            if c.pretrained:
                # a fine-tune: random ids are no question there (issue 23: never suggest a flag that cannot apply)
                return Finding("no-learning", "warn", "f.nolearn.unknown_floor_pretrained", args, measured=change, reference=band, flag="--floor")
            return Finding("no-learning", "warn", "f.nolearn.unknown_floor", args, measured=change, reference=band, flag="--random or --floor")
        return Finding("no-learning", "fail", "f.nolearn.stuck", args, measured=change, reference=band)
    if change < 0:
        # it moved, but up: the model is changing, which is not learning; the divergence check says what the rise is
        return Finding("no-learning", "warn", "f.nolearn.rose", {**args, "rose": _r(-change)}, measured=change, reference=band)
    return Finding("no-learning", "ok", "f.nolearn.ok", args, measured=change, reference=band)


def _level_band(c: Context, change_band: float) -> float:
    """The noise band of the end's level alone (the median of the tail's batches: z_b standard errors of it), where
    the batch noise is measured; else the band of the change, which is wider."""
    n_tail = int(c.tail.sum())
    if c.loss.size < th.MIN_BATCHES or not math.isfinite(c.sigma_b) or n_tail < 1:
        return change_band
    return max(c.z_b * c.level_se(n_tail), c.min_band)


def check_progress(c: Context) -> Finding:
    """The trend at the end of the run (``_progress``), where a fall that goes on after the learning-rate schedule has
    ended is the schedule's last annealing, not learning that more steps would continue (``_schedule_ended``)."""
    found = _progress(c)
    if found.status != "info":
        return found
    ended = _schedule_ended(c)
    if ended is None:
        return found
    return Finding("progress", "ok", "f.progress.schedule_ended", {**found.args, **ended, "fell": found.key}, measured=found.measured)


def _schedule_ended(c: Context) -> dict[str, Any] | None:
    """The learning rate at the last record that logs one, at SCHEDULE_END_REL of its peak or less, the peak before
    it (a warm-up and a decay to about zero: at least 3 records after the peak, never rising again beyond 1.5x its
    lowest so far, a mean over them of 10% of the peak or more, so that restarts and a lone spike are no schedule):
    the schedule has ended, and the run's last fall is its annealing.
    Judges of real logs call such a run converged whatever its last fall (docs/accuracy.md: every one of the 13
    such logs judged one verdict was judged converged); more steps at a learning rate of zero learn nothing. The
    learning rates (end, peak), or None where the rate is not logged, never rose above zero, or has not decayed."""
    lr = c.run.batches.lr
    ok = np.isfinite(lr)
    if int(ok.sum()) < 3:
        return None
    lr = lr[ok]
    i_peak, peak, end = int(np.argmax(lr)), float(np.max(lr)), float(lr[-1])
    if not peak > 0 or i_peak >= lr.size - 3 or end > th.SCHEDULE_END_REL * peak:
        return None
    after = lr[i_peak:]
    if bool(np.any(after > 1.5 * np.minimum.accumulate(after) + 1e-15)) or float(after.mean()) < 0.1 * peak:
        return None  # restarts (SGDR: the rate rises again after a decay) or a lone spike: no schedule that ended
    return {"lr_end": f"{end:.3g}", "lr_peak": f"{peak:.3g}", "lr_rel": f"{100 * end / peak:.3g}"}


def _progress(c: Context) -> Finding:
    if c.val_led:
        return _progress_evals(c)
    n = c.loss.size
    if th.FEW_RECORDS_MIN <= n < th.MIN_BATCHES and c.val.size < 2:
        few = _progress_few(c)
        if few is not None:
            return few
    if n >= th.MIN_BATCHES and c.tail.sum() >= 3:
        slope, se = stats.linear_trend(c.loss[c.tail], c.step[c.tail])
        # autocorrelated noise: the OLS error assumes independent residuals; widen it by the AR(1) factor
        se *= stats.ar1_mean_factor(c.rho_b, int(c.tail.sum()))
        span = float(c.step[c.tail][-1] - c.step[c.tail][0])
        df = int(c.tail.sum()) - 2
        source, z_crit, z_fall = "batches", stats.t_equivalent(th.Z, df), stats.t_equivalent(th.Z_TREND, df)
    elif c.val.size >= 3:
        slope, se = stats.linear_trend(c.val, c.val_epoch)
        span = float(c.val_epoch[-1] - c.val_epoch[0])
        df = int(c.val.size) - 2
        source, z_crit, z_fall = "evals", stats.t_equivalent(th.Z, df), stats.t_equivalent(th.Z_TREND, df)
    else:
        return Finding("progress", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
    if not math.isfinite(slope) or not math.isfinite(se) or not math.isfinite(span):
        return Finding("progress", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
    change = slope * span
    z = slope / se if se > 0 else (0.0 if slope == 0 else math.copysign(math.inf, slope))
    args = {
        "change": _r(change),
        "drop": _r(-change),
        "se": _r(se * span),
        "z": _r(z, 1),
        "span": _epoch(span),
        "source": source,
        "per_1k": _r(slope * 1000, 4),
        "df": df,
    }
    suffix = "" if source == "batches" else "_evals"
    if z < -z_fall and _material(change, c):
        rel = _end_share(c, slope) if source == "batches" else None
        large = _large_end_fall(change, c.tail_level(), c.floor)
        if rel is not None and rel < th.FLAT_SLOPE_REL and not large:
            # beyond its noise, but at a small share of the run's own average rate: a creeping end (a curve that fell
            # from 0.64 to 0.2504 and moves 0.0007 over its last half), flattened as judges of real logs read it
            # the share printed rounded down: 9.96% shows as 9.9%, under the 10% it was held to
            return Finding("progress", "ok", "f.progress.flattened", {**args, "rel": math.floor(1000 * rel) / 10}, measured=change)
        if rel is not None and rel < th.FLAT_SLOPE_REL:  # (still falling by its level alone: END_FALL_REL)
            share = math.floor(1000 * rel) / 10
            return Finding("progress", "info", "f.progress.improving_level", {**args, "rel": share, "fall_pct": _r(100 * large, 1)}, measured=change)
        return Finding("progress", "info", "f.progress.improving" + suffix, args, measured=change)
    if z > z_crit and _material(change, c):
        return Finding("progress", "warn", "f.progress.rising" + suffix, args, measured=change)
    if source == "batches" and slope < 0:
        steady = _steady_fall(c, slope)
        if steady is not None:
            return steady
    return Finding("progress", "ok", "f.progress.settled" + suffix, args, measured=change)


def _steady_fall(c: Context, end_slope: float) -> Finding | None:
    """A short noisy log whose end window (its last MIN_TAIL records) cannot show its fall beyond noise, while its last
    half can: still falling when the last half's least-squares fall is beyond Z_TREND standard errors (t quantile,
    AR(1)-widened) and material, and the end window falls at least STEADY_END_SHARE as steeply as the half, by
    STEADY_END_Z of its own standard errors at least, and at FLAT_SLOPE_REL or more of the run's average rate (no sign of slowing: a curve that fell and then flattened has an
    end window flatter than its half). A slow learner's straight fall, as judges of real logs read it: still learning.
    Only for a log whose end window is MIN_TAIL records because a quarter of it would be fewer (fewer than 4 MIN_TAIL
    records: in a longer log its quarter is the window, long enough), and whose last half holds more records than the
    window (at least 2 MIN_TAIL + 2)."""
    n = c.loss.size
    m = n // 2
    tail = int(c.tail.sum())
    if m <= tail or n >= 4 * th.MIN_TAIL:
        return None
    end_slope_se = stats.linear_trend(c.loss[c.tail], c.step[c.tail])[1] * stats.ar1_mean_factor(c.rho_b, tail)
    if not (math.isfinite(end_slope_se) and end_slope_se > 0 and end_slope <= -th.STEADY_END_Z * end_slope_se):
        return None  # the end window itself must lean down by STEADY_END_Z standard errors: a flat end is no steady fall
    y, x = c.loss[-m:], c.step[-m:]
    slope, se = stats.linear_trend(y, x)
    se *= stats.ar1_mean_factor(c.rho_b, m)
    if not (math.isfinite(slope) and math.isfinite(se) and se > 0 and slope < 0):
        return None
    span = float(x[-1] - x[0])
    df = m - 2
    z = slope / se
    if z >= -stats.t_equivalent(th.Z_TREND, df) or not _material(slope * span, c) or end_slope > th.STEADY_END_SHARE * slope:
        return None
    rel = _end_share(c, end_slope)
    if rel is None or rel < th.FLAT_SLOPE_REL:
        return None
    args = {
        "change": _r(slope * span),
        "drop": _r(-slope * span),
        "se": _r(se * span),
        "z": _r(z, 1),
        "span": _epoch(span),
        "records": m,
        "source": "batches",
        "per_1k": _r(slope * 1000, 4),
        "df": df,
    }
    return Finding("progress", "info", "f.progress.improving_half", args, measured=slope * span)


def _progress_few(c: Context) -> Finding | None:
    """A handful of records (FEW_RECORDS_MIN to MIN_BATCHES - 1: a Hugging Face log writes one per logging_steps,
    each an average): too few for a noise estimate, but an exact rank test needs none. When the records fall in
    more pairs than chance gives at Z_TREND (one-sided, Mann-Kendall), the run is learning; when the least-squares slope
    of its last third (at least 3 records) still falls at FLAT_SLOPE_REL or more of the average record's fall (the
    rule validation's end is held to): still learning, else it has flattened. None when the test finds no fall."""
    y = c.loss
    falls, p = stats.falling_pairs_p(y)
    if p >= 1.0 - stats.normal_cdf(th.Z_TREND):
        return None
    m = max(3, int(math.ceil(th.END_EVALS_FRACTION * y.size)))
    total, last = float(y[0] - y[-1]), -stats.linear_trend(y[-m:])[0]  # the end's fall per record
    args = {
        "n": int(y.size),
        "falls": falls,
        "pairs": int(y.size * (y.size - 1) // 2),
        "p": _r(p, 4),
        "first": _r(float(y[0])),
        "last": _r(float(y[-1])),
        "drop": _r(total),
        "last_drop": _r(last),
    }
    rel = last / (total / (y.size - 1)) if total > 0 else 0.0
    args["rel"] = _r(100 * rel, 1)
    if total > 0 and rel >= th.FLAT_SLOPE_REL:
        return Finding("progress", "info", "f.progress.few_falling", args, measured=-total)
    return Finding("progress", "ok", "f.progress.few_flattened", args, measured=-total)


def _falling_run(val: np.ndarray) -> int:
    """How many values at the end of the series are each lower than the one before (the first of them included)."""
    k = 1
    while k < val.size and val[-k] < val[-k - 1]:
        k += 1
    return k if k >= 2 else 0


def _val_bent_flat(c: Context, x: np.ndarray, avg_slope: float, z_fall: float, large_fall_level: float | None = None) -> dict[str, Any] | None:
    """A validation series whose straight line over its end still falls, but whose curve bent flat within it (a schedule
    annealed to about zero that the log does not show), from BENT_FLAT_EVALS_MIN evaluations: over its last third (at
    least 6 evaluations), a quadratic's slope at the last evaluation (``stats.end_slope``) is under FLAT_SLOPE_REL of the
    series' average slope even at its steepest plausible value (z_fall standard errors, with the series' own noise where
    measured, or the quadratic's residuals' where larger), and the last evaluation is not above the window's lowest
    beyond noise (an end that turned up). Training batches are not judged so:
    over a tail of 17-60 records a quadratic's end slope runs flat on a smooth exponential still falling at 11% of its
    average rate (a review's sweep), and their noise's autocorrelation, measured on 20 records, is too low to widen
    its error enough. Its arguments, or None."""
    w = max(6, int(math.ceil(c.val.size / 3)))
    if c.val.size < th.BENT_FLAT_EVALS_MIN or not (math.isfinite(avg_slope) and avg_slope < 0):
        return None  # fewer: a quadratic through most of a short decay bends flat at its end wherever the decay goes
    sd = c.sigma_val if math.isfinite(c.sigma_val) else None
    b, se, df = stats.end_slope(c.val[-w:], x[-w:], sd)
    if not (math.isfinite(b) and math.isfinite(se)):
        return None
    t = z_fall if sd is not None else stats.t_equivalent(th.Z_TREND, df)
    steep = b - t * se
    if steep / avg_slope >= th.FLAT_SLOPE_REL:
        return None
    if large_fall_level is not None:
        # a window that fell by a tenth of its level or more (an average slope that an initial collapse inflated makes
        # any end look flat beside it): bent flat only where the end's slope, at its steepest, is under FLAT_SLOPE_REL
        # of the window's own average slope, a bend within the window
        window_slope = (float(c.val[-1]) - float(c.val[-w])) / float(x[-1] - x[-w]) if x[-1] > x[-w] else math.nan
        if not (math.isfinite(window_slope) and window_slope < 0 and steep / window_slope < th.FLAT_SLOPE_REL):
            return None
    if sd is not None and float(c.val[-1]) - float(c.val[-w:].min()) > t * math.sqrt(2.0) * sd:
        return None  # the end has turned up beyond noise: no flattened fall (the rising and overfitting checks' case)
    return {"end_rel": f"{100 * max(0.0, b / avg_slope):.1f}", "end_bound": f"{100 * max(0.0, steep / avg_slope):.1f}", "end_evals": w}


def _average_rate(c: Context) -> float | None:
    """The run's average rate of fall per step, from its first records to its tail (as ``_end_share`` measures it);
    None when it did not fall."""
    n = c.loss.size
    k = max(3, n // 20)
    start, x0 = float(np.median(c.loss[:k])), float(np.median(c.step[:k]))
    end, x1 = float(np.median(c.loss[c.tail])), float(np.median(c.step[c.tail]))
    if not (x1 > x0 and start > end):
        return None
    return (start - end) / (x1 - x0)


def _end_share(c: Context, slope: float) -> float | None:
    """The end's rate of fall as a share of the run's average rate (from the first records to the end's level), the
    measure the validation series is held to (FLAT_SLOPE_REL); None when the run did not fall overall. The start is the
    median of the first 5% of the records (at least 3), the end the median of the tail, each at its median step."""
    n = c.loss.size
    k = max(3, n // 20)  # never one record: a log's first line may be the loss at initialisation, far above the rest
    start, x0 = float(np.median(c.loss[:k])), float(np.median(c.step[:k]))
    end, x1 = float(np.median(c.loss[c.tail])), float(np.median(c.step[c.tail]))
    if not (x1 > x0 and start > end and slope < 0):
        return None
    return -slope / ((start - end) / (x1 - x0))


def _large_end_fall(change: float, level: float | None, floor: float | None) -> float:
    """The end window's fall (beyond noise: the caller's test) as a share of its level above the floor (the level
    itself where the floor is unknown), where that share is END_FALL_REL or more, else 0.0: such an end is still
    learning, whatever its share of the average slope. A log whose first records hold an initial collapse (13.2 to 2.7
    nats in three evaluations, then a steady fall of 0.125 nats, a tenth of the level, over the last third) has an
    average slope that makes any later fall look flat, and where the average starts depends only on when logging began.
    The level is the median of the batches' tail, or the fitted end of the validation's window."""
    if level is None or not math.isfinite(level):
        return 0.0
    above = level - floor if floor is not None and math.isfinite(floor) and level > floor else level
    if not above > 0:
        return 0.0
    share = -change / above
    return share if share >= th.END_FALL_REL else 0.0


def _material(change: float, c: Context) -> bool:
    """A trend over the end of the batches counts as still falling (or rising) only when its change is material: at
    least MIN_EFFECT_REL / 4 of the level (0.25%: a long tail's slow fall is real learning, a drift of thousandths is
    not)."""
    level = c.tail_level()
    return level is None or abs(change) >= th.MIN_EFFECT_REL / 4 * abs(level)


def _progress_evals(c: Context) -> Finding:
    """The trend of the validation series at its end, judged against the series' own noise and its own
    average slope: still improving, flattened, or rising."""
    x = c.val_step if np.isfinite(c.val_step).all() and np.unique(c.val_step).size == c.val_step.size else c.val_epoch
    unit = "steps" if x is c.val_step else "epochs"
    m = max(3, int(math.ceil(th.END_EVALS_FRACTION * c.val.size)))
    xe, ye = x[-m:], c.val[-m:]
    slope, se = stats.linear_trend(ye, xe)
    total_span = float(x[-1] - x[0])
    avg_slope = (float(c.val[-1]) - float(c.val[0])) / total_span if total_span > 0 else math.nan  # over the whole series
    span = float(xe[-1] - xe[0])
    if not all(math.isfinite(v) for v in (slope, span)) or span <= 0:
        return Finding("progress", "skipped", "f.progress.too_short", {"batches": int(c.loss.size), "evals": int(c.val.size)})
    change = slope * span
    # noise of the end's change: from the series noise when known, else the regression's own residuals
    # (the OLS slope's error with the series' own sigma: sigma x span / sqrt(Sxx), which is sqrt(2) sigma for 3 evenly
    # spaced evaluations and shrinks as sqrt(12 / m) for more)
    xc = xe - xe.mean()
    sxx = float((xc * xc).sum())
    se_change = (c.sigma_val * span / math.sqrt(sxx)) if math.isfinite(c.sigma_val) and sxx > 0 else (se * span if math.isfinite(se) else math.nan)
    se_change = max(se_change, c.min_band) if math.isfinite(se_change) else c.min_band
    z = change / se_change
    rel = slope / avg_slope if math.isfinite(avg_slope) and avg_slope < 0 else math.nan
    since, end_fall = float(xe[0]), change
    if m >= c.val.size and x[-1] > x[-2]:
        # 3 evaluations: the training batches corroborate the last interval only, and it must have fallen itself
        since, end_fall = float(x[-2]), float(c.val[-1]) - float(c.val[-2])
    if m >= c.val.size and x[-1] > x[-2] and math.isfinite(c.sigma_val):
        # the end's window is the whole series (3 evaluations): its slope is the average one and holds the first fall;
        # with the series' noise known, the end is the last interval: its change against that noise (two evaluations:
        # sqrt(2) sigma) and its share of the average slope
        m, span, since = 2, float(x[-1] - x[-2]), float(x[-2])
        change = float(c.val[-1]) - float(c.val[-2])
        se_change = max(math.sqrt(2.0) * c.sigma_val, c.min_band)
        z = change / se_change
        if math.isfinite(rel):
            rel = min(rel, change / span / avg_slope)
    args = {
        "change": _r(change),
        "drop": _r(-change),
        "se": _r(se_change),
        "z": _r(z, 1),
        "span": _epoch(span),
        "unit": unit,
        "evals": int(m),
        "rel": _r(100 * rel, 1) if math.isfinite(rel) else None,
        "source": "evals",
        "per_1k": _r(slope * 1000, 4),
    }
    z_crit = c.z_val
    z_fall = z_crit * th.Z_TREND / th.Z if c.val_noise_source != "series" else stats.t_equivalent(th.Z_TREND, c.val_noise_df)
    end_level = float(ye.mean() + slope * (xe[-1] - xe.mean()))  # the end window's fitted level at its last evaluation
    large = _large_end_fall(change, end_level, c.floor)
    # (a fall counts only when material: MIN_EFFECT_REL / 4 of the level, as the batches' trend must be; a drift of
    # thousandths from a learning rate of 1e-8 is significant and means nothing)
    material = -change >= th.MIN_EFFECT_REL / 4 * abs(end_level)
    if z < -z_fall and material and (not math.isfinite(rel) or rel >= th.FLAT_SLOPE_REL or large):
        bent = _val_bent_flat(c, x, avg_slope, z_fall, end_level if large else None)
        if bent is not None:
            return Finding("progress", "ok", "f.progress.val_bent_flat", {**args, **bent}, measured=change)
        if math.isfinite(rel) and rel < th.FLAT_SLOPE_REL:  # (still falling by its level alone: END_FALL_REL)
            return Finding("progress", "info", "f.progress.val_improving_level", {**args, "fall_pct": _r(100 * large, 1)}, measured=change)
        return Finding("progress", "info", "f.progress.val_improving", args, measured=change)
    run_len = _falling_run(c.val)
    p_chance = 1.0 / math.factorial(run_len) if run_len else 1.0
    # the order alone says the series fell; whether it still falls at its end is the last interval's share of the
    # average slope (a decelerating curve's last third has a slope its last steps no longer have: 0.012, 0.002, 0.0002)
    last_dx = float(x[-1] - x[-2]) if c.val.size >= 2 else math.nan
    rel_last = (float(c.val[-1] - c.val[-2]) / last_dx) / avg_slope if math.isfinite(avg_slope) and avg_slope < 0 and last_dx > 0 else math.nan
    steep_end = not math.isfinite(rel) or (rel >= th.FLAT_SLOPE_REL and (not math.isfinite(rel_last) or rel_last >= th.FLAT_SLOPE_REL))
    if p_chance < 1.0 - stats.normal_cdf(th.Z_TREND) and steep_end:
        # a rank test that needs no noise estimate: k values each lower than the one before, in that order, happen by
        # chance with probability 1/k! among exchangeable noise (5 values: 1/120, beyond one-sided 2 sigma)
        first = float(c.val[-run_len])
        more = {"k": run_len, "first": _r(first), "last": _r(float(c.val[-1])), "p": _r(p_chance, 4)}
        return Finding("progress", "info", "f.progress.val_falling_every", {**args, **more}, measured=change)
    if z > z_crit:
        return Finding("progress", "warn", "f.progress.val_rising", args, measured=change)
    if end_fall < 0 and (not math.isfinite(rel) or rel >= th.FLAT_SLOPE_REL) and -end_fall >= th.MIN_EFFECT_REL * abs(float(c.val[-1])):
        corroborated = _train_still_falling(c, since if unit == "steps" else None)
        if corroborated is not None:
            key = "f.progress.val_train_falling_ranks" if "t_p" in corroborated else "f.progress.val_train_falling"
            return Finding("progress", "info", key, {**args, **corroborated}, measured=change)
    both = _both_falling_every(c, run_len) if steep_end else None
    if both is not None:  # (the batches' own trend, where they can show one, is the stronger witness: above)
        return Finding("progress", "info", "f.progress.val_train_falling_every", {**args, **both}, measured=change)
    key = "f.progress.val_flattened" if z < -z_fall else "f.progress.val_settled"
    return Finding("progress", "ok", key, args, measured=change)


def _both_falling_every(c: Context, run_len: int) -> dict[str, Any] | None:
    """A few epochs' rows (a Keras history of 4 epochs) whose validation fell at every one of at least FEW_RISES_MIN
    evaluations in a row to its last (4 values in order: 1/24 by chance, not beyond Z_TREND alone), its last fall by
    FEW_RISE_REL of its level or more (the effect the few-evaluation overfitting rules ask of a rise: an evaluation's
    mean moves under 1% by chance), while the training loss at the same rows (the epoch means) fell at every one of
    them too. The training order is corroboration, not a second chance test: it falls at nearly every epoch of any run,
    settled or not. Only where the training level is known at each of those rows and no batches are logged (fewer than
    MIN_BATCHES: epoch rows); with batches, their own trend is the witness (_train_still_falling). The arguments, or None."""
    if run_len - 1 < th.FEW_RISES_MIN or c.train_epoch_mean.size != c.val.size or c.loss.size >= th.MIN_BATCHES:
        return None
    t = c.train_epoch_mean[-run_len:]
    if not (np.isfinite(t).all() and bool(np.all(np.diff(t) < 0))):
        return None
    level = abs(float(c.val[-1]))
    last_fall = float(c.val[-2]) - float(c.val[-1])
    if not level > 0 or last_fall < th.FEW_RISE_REL * level:
        return None
    return {
        "k": run_len,
        "first": _r(float(c.val[-run_len])),
        "last": _r(float(c.val[-1])),
        "last_pct": _r(100 * last_fall / level, 1),
        "t_first": _r(float(t[0])),
        "t_last": _r(float(t[-1])),
    }


def _train_still_falling(c: Context, since: float | None) -> dict[str, Any] | None:
    """Few evaluations cannot show their own fall beyond noise, but the training batches between them can: when the
    validation's end fell materially (MIN_EFFECT_REL of its level) and the training level over the same span (the end's
    evaluations, else the batches' end) still falls beyond Z_TREND standard errors (t quantile, AR(1)-widened) and
    materially, the run is still learning. The arguments of that trend, or None."""
    if c.val.size > th.FEW_EVALS_CORROBORATE or c.loss.size < th.FEW_RECORDS_MIN:
        return None
    sel = (c.step >= since) & np.isfinite(c.loss) if since is not None and np.isfinite(c.step).all() else c.tail & np.isfinite(c.loss)
    if c.loss.size < th.MIN_BATCHES or int(sel.sum()) < th.MIN_TAIL:
        # too few training records for a noise estimate (a Hugging Face log writes one average per logging_steps): the
        # exact rank test needs none. The records over the same span fall in more pairs than chance gives at Z_TREND
        # (one-sided), and materially
        sel = (c.step >= since) & np.isfinite(c.loss) if since is not None and np.isfinite(c.step).all() else c.tail & np.isfinite(c.loss)
        y = c.loss[sel]
        if y.size < th.FEW_RECORDS_MIN:
            return None
        falls, p = stats.falling_pairs_p(y)
        drop = float(y[0] - y[-1])
        if p >= 1.0 - stats.normal_cdf(th.Z_TREND) or drop < th.MIN_EFFECT_REL * abs(float(np.median(y))):
            return None
        return {"t_change": _r(-drop), "t_drop": _r(drop), "t_batches": int(y.size), "t_p": _r(p, 4)}
    slope, se = stats.linear_trend(c.loss[sel], c.step[sel])
    se *= stats.ar1_mean_factor(c.rho_b, int(sel.sum()))
    span = float(c.step[sel][-1] - c.step[sel][0])
    if not (math.isfinite(slope) and math.isfinite(se) and se > 0 and span > 0):
        return None
    t_change, t_se = slope * span, se * span
    level = float(np.median(c.loss[sel]))
    if t_change / t_se >= -stats.t_equivalent(th.Z_TREND, int(sel.sum()) - 2) or -t_change < th.MIN_EFFECT_REL * abs(level):
        return None
    return {"t_change": _r(t_change), "t_drop": _r(-t_change), "t_se": _r(t_se), "t_batches": int(sel.sum())}


def _frozen_accuracy(c: Context) -> Finding | None:
    """The validation accuracy the same, to its last digit, at every one of FROZEN_ACC_EVALS or more evaluations from the
    first, and neither 0 nor perfect: the model's predicted classes never changed, whatever its loss did. A classifier
    that predicts one class (the majority) for every input scores that class's share at every epoch; one that learns
    moves its accuracy by at least one example now and then. Only a very small validation set (a few dozen examples)
    lets a settled model repeat its accuracy this long: the message says so."""
    acc = c.run.val_accuracy
    # (an accuracy beside every evaluation: the reader keeps one only where each has one; an evaluation before training
    # or one repeated at the same step has one too)
    if len(acc) < th.FROZEN_ACC_EVALS or len(acc) < c.val.size or any(a != acc[0] for a in acc):
        return None
    value = float(acc[0])
    top = 100.0 if value > 1.0 else 1.0
    share = value / top
    # a whole percent (0.93, 99) is printed too coarsely to say that nothing changed: an accuracy moving from 93.1% to
    # 93.4% prints the same
    if not (0.0 < share < 1.0) or abs(100.0 * share - round(100.0 * share)) < 1e-9:
        return None
    # a model whose outputs do not depend on the input scores at best the entropy of the labels, at least that of its
    # class's share against the rest: a validation loss below it has scores that vary with the input, though its
    # decisions never change (a small validation set, or the same few hard examples wrong at every evaluation)
    bound = -share * math.log(share) - (1.0 - share) * math.log(1.0 - share)
    last = float(c.val[-1])
    args = {"value": _r(value), "count": len(acc), "first": _r(float(c.val[0])), "last": _r(last), "bound": _r(bound)}
    if last < bound:
        return Finding("no-learning", "warn", "f.nolearn.frozen_accuracy_informative", args, measured=value, reference=bound)
    return Finding("no-learning", "fail", "f.nolearn.frozen_accuracy", args, measured=value, reference=bound)


def check_divergence(c: Context) -> Finding:
    n = c.loss.size
    if n < th.MIN_BATCHES:
        final = float(c.val[-1]) if c.val.size else math.nan
        # validation above ln V while the training level at the evaluations ends well below it is a model confidently
        # wrong on unseen data (an overfit classifier's validation loss passes ln 2): the overfitting check's, not a blow-up
        t_end = float(c.train_epoch_mean[-1]) if c.train_epoch_mean.size == c.val.size and c.val.size else math.nan
        # (up to OVERCONFIDENT_LNV x ln V + 1 nat: beyond, no classifier's overconfidence, a blow-up)
        learned = (
            c.ln_v is not None and math.isfinite(t_end) and t_end < c.ln_v - th.DIVERGE_MIN_NATS and final <= th.OVERCONFIDENT_LNV * c.ln_v + 1.0
        )
        # the last two evaluations both above every healthy initialisation's loss need no noise argument (a blow-up
        # inflates the noise measured on the series that holds it)
        above_init = c.vocab_size is not None and c.val.size >= 2 and _last_two_above_init(c, c.val)
        if c.val.size >= 2 and c.ln_v is not None and not learned and (final > c.ln_v + max(c.near_floor, th.DIVERGE_MIN_NATS) or above_init):
            args = {"final": _r(final), "ln_v": _r(c.ln_v)}
            return Finding("divergence", "fail", "f.diverge.above_lnv", args, measured=final, reference=c.ln_v)
        # a handful of training records whose last two sit above every healthy start, after one below it: blown up
        # (the same reading as the last w records of a longer log, no noise argument needed); not when an evaluation
        # after them sits below the band: a healthy model whose logged training loss is on another scale
        if (
            c.vocab_size is not None
            and n >= 3
            and not (c.val_step.size == c.val.size and bool(np.any((c.val_step >= c.step[-1]) & (c.val < c.init_band[0]))))
            and _last_two_above_init(c, c.loss)
            and float(c.loss[:-2].min()) <= c.init_band[1]
        ):
            end = float(c.loss[-1])
            args = {"final": _r(end), "ln_v": _r(c.ln_v)}
            return Finding("divergence", "fail", "f.diverge.above_lnv", args, measured=end, reference=c.ln_v)
        # a log of epoch rows only (training mean and validation per epoch): the training means are its training curve
        return _val_and_train_rise(c) or Finding("divergence", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
    sd = c.sigma_b if math.isfinite(c.sigma_b) else 0.0
    first_sd = _first_record_sd(c) if math.isfinite(c.sigma_b) else None
    # two readings of where the run ends: the last w batches (a rise just begun), and the whole tail (a long,
    # moderate rise, which the last w alone are too few to show); each is a median with its standard error
    # ~1.2533 sd / sqrt(size), against the best level before it. The one that clears its bar by more is taken.
    w = min(th.SPIKE_WINDOW, max(3, n // 4))  # short logs (HF logs every N steps) get a shorter final stretch
    readings = []
    for size in sorted({w, int(c.tail.sum())}):
        if size < 1 or size >= n or (size != w and size < 2 * w):
            continue  # the tail is a reading of its own only where it is much longer than the last w
        end_i = float(np.median(c.loss[-size:]))
        se_i = c.level_se(size) if sd > 0 else 0.0
        best_i, excess_i = _best_level(c.loss, n - size, sd, se_i, first_sd, c)
        readings.append((end_i - best_i - excess_i, end_i, se_i, best_i, excess_i))
    _, end, se_end, best, excess = max(readings) if readings else (0.0, float(np.median(c.loss)), math.inf, float(c.loss.min()), math.inf)
    rise = end - best
    args = {"best": _r(best), "end": _r(end), "rise": _r(rise), "sd": _r(sd), "ln_v": _r(c.ln_v)}
    last_w = c.loss[-w:]
    if c.ln_v is not None and (end > c.init_band[1] + c.z_b * se_end or float(last_w.min()) > c.init_band[1] + th.DIVERGE_MIN_NATS):
        # worse than any healthy initialisation, at the end of training: blown up, whatever the path (beyond the
        # noise of the end's median, or every one of the last w records above the band: no noise argument needed)
        return Finding("divergence", "fail", "f.diverge.above_lnv", {**args, "final": _r(end)}, measured=end, reference=c.ln_v)
    stretch = _blown_up_stretch(c, w) or _jump_at_the_end(c, w)
    if stretch is not None:
        return stretch
    if rise > th.DIVERGE_MIN_NATS and end - excess > best and _within_init_band(c, best, end):
        # a fresh model that has not yet left its initial band: the loss wanders up while its logits re-scale in the
        # first steps (the seed's default run rises from 9.38 to 9.55 before it falls). Not a blow-up; early.
        return Finding(
            "divergence", "ok", "f.diverge.init_band", {**args, "low": _r(c.init_band[0]), "high": _r(c.init_band[1])}, measured=end, reference=best
        )
    if rise > th.DIVERGE_MIN_NATS and end - excess > best:
        if c.ln_v is not None and end > c.ln_v + max(th.DIVERGE_MIN_NATS, c.z_b * se_end):
            return Finding("divergence", "fail", "f.diverge.above_lnv", {**args, "final": _r(end)}, measured=end, reference=c.ln_v)
        if c.ln_v is not None and end > c.ln_v - th.DIVERGE_MIN_NATS:
            return Finding("divergence", "fail", "f.diverge.back_to_lnv", args, measured=end, reference=best)
        held_out = _val_fell_since(c, best, rise)
        if held_out is not None:
            return Finding("divergence", "warn", "f.diverge.val_falling", {**args, **held_out}, measured=end, reference=best)
        return Finding("divergence", "fail", "f.diverge.rise", args, measured=end, reference=best)
    return _val_and_train_rise(c) or Finding("divergence", "ok", "f.diverge.ok", args, measured=end, reference=best)


def _val_fell_since(c: Context, best: float, rise: float) -> dict[str, Any] | None:
    """Validation that kept falling after the training loss rose: the evaluations from the first record half-way up the
    rise on (DIVERGE_VAL_EVALS_MIN or more) fall in more pairs than chance gives at Z (the Mann-Kendall test, exact),
    their last below their first. A diverging model's held-out loss rises with its training loss; one that kept
    improving on held-out data did not diverge: what its training loss measures shifted (a resumed run's other data, a
    curriculum's next stage, a reweighted loss). Its arguments, or None."""
    if c.val.size < th.DIVERGE_VAL_EVALS_MIN or c.val_step.size != c.val.size:
        return None
    up = np.flatnonzero(stats.rolling_median(c.loss, 3) > best + rise / 2)
    if not up.size:
        return None
    since = c.val[c.val_step >= float(c.step[int(up[0])])]
    since = since[np.isfinite(since)]
    if since.size < th.DIVERGE_VAL_EVALS_MIN or not float(since[-1]) < float(since[0]):
        return None
    falls, p = stats.falling_pairs_p(since)
    if p > 1.0 - stats.normal_cdf(th.Z):
        return None
    return {"k": int(since.size), "val_first": _r(float(since[0])), "val_last": _r(float(since[-1]))}


def _last_two_above_init(c: Context, series: np.ndarray) -> bool:
    """The last two values of a short series both above the top of a fresh model's initial band by DIVERGE_MIN_NATS
    (V known): worse than knowing nothing twice, no noise argument needed."""
    return float(series[-2:].min()) > c.init_band[1] + th.DIVERGE_MIN_NATS


def _jump_at_the_end(c: Context, w: int) -> Finding | None:
    """The last records, two or more (fewer than w: too few for the end's median to show them), every one above every
    record before them (by one record's noise, z batch sds) and at END_JUMP_REL times the level just before (the median
    of the w records before) or more, by DIVERGE_MIN_NATS at least: the run blew up in its last records (and stopped
    there, or was stopped). One record alone is a spike (the spikes check); a rise within the noise or a few percent is
    no blow-up; nor one where the logged learning rate rose by half or more at the jump (a warm restart)."""
    n = c.loss.size
    for k in range(min(w - 1, n // 4), 1, -1):  # the longest such stretch at the end
        end, before = c.loss[-k:], c.loss[: n - k]
        if not (np.isfinite(end).all() and np.isfinite(before).any()):
            continue
        level = float(np.nanmedian(before[-w:]))
        low = float(end.min())
        if c.lr.size == n and np.isfinite(c.lr[n - k]) and np.isfinite(c.lr[: n - k]).any():
            if float(np.nanmax(c.lr[n - k :])) > 1.5 * float(np.nanmax(c.lr[max(0, n - k - w) : n - k])):
                return None  # the schedule raised the learning rate there (a warm restart): a planned rise, not a blow-up
        margin = c.z_b * c.sigma_b if math.isfinite(c.sigma_b) else 0.0  # (above every earlier record beyond one record's noise)
        if low > float(np.nanmax(before)) + margin and level > 0 and low >= th.END_JUMP_REL * level and low - level >= th.DIVERGE_MIN_NATS:
            args = {"k": k, "level": _r(level), "low": _r(low), "last": _r(float(end[-1])), "ratio": _r(low / level, 1)}
            return Finding("divergence", "fail", "f.diverge.end_jump", args, measured=float(end[-1]), reference=level)
    return None


def _blown_up_stretch(c: Context, w: int) -> Finding | None:
    """A stretch of at least w records whose running median sits above every healthy initialisation's loss (the top of
    the initial band, by DIVERGE_MIN_NATS and z standard errors of a median of w): the model blew up there, whatever
    the end (learning-rate cuts can bring a run back down; the stretch was still a run worse than knowing nothing)."""
    n = c.loss.size
    if c.vocab_size is None or n < 3 * w or not math.isfinite(c.sigma_b):
        return None
    smooth = stats.rolling_median(c.loss, w)[w // 2 : n - w // 2]
    top = c.init_band[1] + max(th.DIVERGE_MIN_NATS, c.z_b * c.level_se(w))
    # above the band and above the running level's own earlier low (beyond the noise of a median of w): the level rose
    # or stayed up there; a start far above the band that only falls is the loss at initialisation's finding
    earlier_low = np.minimum.accumulate(smooth)
    above = (smooth > top) & (smooth > earlier_low + c.z_b * c.level_se(w))
    if not above.any():
        return None
    i = int(np.argmax(smooth))
    args = {"peak": _r(float(smooth[i])), "step": int(c.step[i + w // 2]), "top": _r(c.init_band[1]), "ln_v": _r(c.ln_v), "count": int(above.sum())}
    return Finding("divergence", "fail", "f.diverge.stretch_above_lnv", args, measured=float(smooth[i]), reference=c.init_band[1])


def _early_in_band(c: Context, end: float) -> bool:
    """Fewer than EARLY_STEPS optimizer steps logged, V known, not a fine-tune, and the end inside a fresh model's band.
    A log of one loss per epoch (its records' epochs each a whole number above the last, no step logged) has taken at
    least one step an epoch, and usually many: its record count is no count of steps, and 30 epochs that never left
    the initial band are stuck, not early."""
    if c.vocab_size is None or c.pretrained or c.last_step is None or c.last_step >= th.EARLY_STEPS:
        return False
    if _per_epoch(c):
        return False
    low, high = c.init_band
    return low <= end <= high


def _per_epoch(c: Context) -> bool:
    """Whether the training records are one per epoch: two or more, their epochs whole numbers, each above the last,
    and their steps the records' own count (no step logged: 1, 2, 3, ...) or the epochs themselves."""
    b = c.run.batches
    if len(b) < 2:
        return False
    ep, st = b.epoch, b.step
    if not (np.isfinite(ep).all() and np.all(ep == np.round(ep)) and np.all(np.diff(ep) >= 1)):
        return False
    return bool(np.array_equal(st, np.arange(1, len(b) + 1, dtype=st.dtype)) or np.array_equal(st, ep))


def _within_init_band(c: Context, best: float, end: float) -> bool:
    """The run's best level and its end both inside the healthy band of a fresh model's loss (V known, not a
    fine-tune): it has not learned anything yet that a rise could lose."""
    if c.vocab_size is None or c.pretrained:
        return False
    low, high = c.init_band
    return low <= best and end <= high


def _path_moved(c: Context) -> tuple[float, float] | None:
    """(lowest, highest) running level (medians of SPIKE_WINDOW batches) when they differ beyond noise and
    materially: a loss that rose and fell again has moved, wherever it ends. None otherwise."""
    n = c.loss.size
    w = min(th.SPIKE_WINDOW, max(3, n // 4))
    if n < 3 * w or not math.isfinite(c.sigma_b):
        return None
    smooth = stats.rolling_median(c.loss, w)[w // 2 : n - w // 2]
    lo, hi = float(smooth.min()), float(smooth.max())
    k = max(1, round(n / w))
    m_k, v_k = stats.min_of_normals_moments(k)
    se = c.level_se(w)
    # the range of K independent medians of pure noise: about 2 |m_K| se on average, with a spread of sqrt(2 v_K) se
    need = max(se * (-2 * m_k + c.z_b * math.sqrt(2 * v_k)), th.MIN_EFFECT_REL * abs(hi), c.min_band)
    return (lo, hi) if hi - lo > need else None


def _first_record_sd(c: Context) -> float:
    """The noise of the first logged loss alone. A Hugging Face record averages the steps since the last one,
    so with ``logging_first_step`` its first record is one step where the others average many: sigma_b x
    sqrt(typical steps per record / steps in the first). Other writers log one batch per record."""
    if c.run.format != "hf-trainer" or c.step.size < 3:
        return c.sigma_b
    typical = float(np.median(np.diff(c.step)))
    first = max(float(c.step[0]), 1.0)
    return c.sigma_b * math.sqrt(max(1.0, typical / first)) if math.isfinite(typical) else c.sigma_b


def _best_level(loss: np.ndarray, before: int, sd: float, se_end: float, first_sd: float | None, c: Context) -> tuple[float, float]:
    """The best level of ``loss[:before]`` and how far above it the end must be, beyond noise, to have risen.

    Two candidates; the one the end clears by more is taken. The running medians of whole SPIKE_WINDOW
    windows: one has a standard error of ~1.2533 sd / sqrt(window), and the lowest of about
    before / window independent ones sits below their level by the expected minimum of that many normals
    (``lean``), so the end must clear lean + Z x the combined error. And the first batch alone (a run that
    blows up at once has no window of its own before it rose), with the error of one record and a bar of 2 Z
    (a second chance to find a rise: only a blow-up clears it)."""
    window = min(th.SPIKE_WINDOW, loss.size)
    half = window // 2
    if before > half:  # whole windows only: the running median repeats the first loss at the start
        smooth = stats.rolling_median(loss, th.SPIKE_WINDOW)
        best_w = float(smooth[half:before].min())
        se_w = c.level_se(window) if sd > 0 else 0.0
        lean = -stats.expected_min_of_normals(0.0, se_w, max(1, round((before - half) / window)))
    else:  # too short for a whole window before the end: the median of what there is, no lowest-of-many
        best_w = float(np.median(loss[: max(1, before)]))
        se_w, lean = (c.level_se(max(1, before)) if sd > 0 else 0.0), 0.0
    need_w = lean + c.z_b * math.hypot(se_end, se_w)
    # (a second chance to find a rise, so it must be beyond doubt: 2 Z, a blow-up rather than a drift)
    one = (sd if first_sd is None else first_sd) / math.sqrt(1.0 - c.rho_b)  # one record's marginal noise
    start, need_s = float(loss[0]), 2 * th.Z * math.hypot(se_end, one)  # (a blow-up's many sd: no t correction)
    if start < best_w and start + need_s < best_w + need_w:
        return start, need_s
    return best_w, need_w


def _val_and_train_rise(c: Context) -> Finding | None:
    """The training level at the last evaluation above its level at the best one beyond its own noise (z standard
    errors of the two levels) and materially (MIN_EFFECT_REL), while validation has risen from its best too and is
    not still improving: not overfitting (training would keep falling) but the run itself getting worse, too slowly
    for the batches alone to show it (a restarted schedule, lost optimizer state)."""
    if c.val.size < 3:
        return None
    i_best = int(np.argmin(c.val))
    train = c.train_epoch_mean
    if i_best == c.val.size - 1 or not (math.isfinite(train[i_best]) and math.isfinite(train[-1])):
        return None
    t_rise = float(train[-1] - train[i_best])
    material = t_rise >= th.MIN_EFFECT_REL * abs(float(train[i_best]))
    if not material:
        return None  # (before its noise is measured: a series' noise costs curve fits)
    # the training level's own noise: an epoch mean (logged) or the median of up to SPIKE_WINDOW batches (read)
    logged = np.isfinite(c.run.epochs.train_loss[eval_rows(c.run.epochs)]) if c.scaled is None else np.zeros(c.val.size, bool)
    if logged.size != c.val.size:
        logged = np.zeros(c.val.size, bool)
    per_epoch = max(1.0, c.loss.size / max(1, c.val.size))
    if math.isfinite(c.sigma_b):
        se = [c.level_se(per_epoch, median=False) if logged[i] else c.level_se(min(th.SPIKE_WINDOW, max(1, c.loss.size))) for i in (i_best, -1)]
        band = max(c.z_b * math.hypot(*se), c.min_band)
    else:
        # no batches to measure the noise on (epoch rows only): the training means' own residuals around their trend,
        # as a validation series' noise is measured, with its t quantile
        sd, df = stats.series_noise(train[np.isfinite(train)])
        band = max(stats.t_equivalent(th.Z, df) * sd * math.sqrt(2.0), c.min_band) if math.isfinite(sd) and df >= 2 else math.inf
    # the strong evidence is the training level's rise (many batches, its own noise, and material); validation need
    # only agree in direction: risen from its best and not still improving (a handful of evaluations cannot show
    # a rise at 3 standard errors of their own noise)
    if not t_rise > band or _progress_evals(c).status == "info" or not c.val[-1] > c.val[i_best]:
        return None
    args = {
        "vbest": _r(float(c.val[i_best])),
        "vfinal": _r(float(c.val[-1])),
        "vrise": _r(float(c.val[-1] - c.val[i_best])),
        "tbest": _r(float(train[i_best])),
        "tfinal": _r(float(train[-1])),
        "trise": _r(t_rise),
        "band": _r(band),
    }
    return Finding("divergence", "fail", "f.diverge.val_train_rise", args, measured=float(c.val[-1]), reference=float(c.val[i_best]))


def check_spikes(c: Context) -> Finding:
    n = c.loss.size
    if n < th.MIN_BATCHES or not math.isfinite(c.sigma_b):
        return Finding("spikes", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
    med = stats.rolling_median(c.loss, th.SPIKE_WINDOW)
    sd = max(c.sigma_b, stats.diff_noise_sd(c.loss))
    excess = c.loss - med
    thresh = max(th.SPIKE_Z * sd, th.SPIKE_MIN_NATS)
    spikes = excess > thresh
    args = {"count": int(spikes.sum()), "threshold": _r(thresh), "sd": _r(sd)}
    if spikes.any():
        i = int(np.argmax(np.where(spikes, excess, -np.inf)))
        args.update(step=int(c.step[i]), value=_r(float(c.loss[i])), median=_r(float(med[i])), first=int(c.step[int(np.argmax(spikes))]))
        return Finding("spikes", "warn", "f.spikes.found", args, measured=float(c.loss[i]), reference=float(med[i]))
    return Finding("spikes", "ok", "f.spikes.none", args)


def check_overfitting(c: Context) -> Finding:
    if c.val.size < 2:
        memo = _memorisation(c) or _memorised_text(c) or _epoch_staircase(c)
        if memo is not None:
            return memo
        return Finding("overfitting", "skipped", "f.overfit.too_few", {"evals": int(c.val.size)})
    i_min = int(np.argmin(c.val))
    vmin, vfinal = float(c.val[i_min]), float(c.val[-1])
    rise = vfinal - vmin
    # the rise is measured from the lowest of several noisy values, which sits below the true best level: with K
    # evaluations that could have been the lowest (those within a two-point band of it), final - lowest on a flat
    # curve has mean -m_K sd and sd sqrt(1 + v_K) sd, (m_K, v_K) the mean and variance of the minimum of K standard
    # normals. The band is that mean plus z of that sd: z sqrt(2) sd for K = 1, as for any two points.
    sd_val, z_o, band_o = c.band_val / c.z_val, c.z_val, c.band_val
    pre = stats.pre_best_noise(c.val, (c.sigma_val, int(c.val_noise_df)), th.PRE_BEST_NOISE_MIN, th.Z) if c.val_noise_source == "series" else None
    if pre is not None:
        # the rise judged against the noise up to the best (an excursion after it is no noise: stats.pre_best_noise);
        # the trend and the other checks keep the whole series' noise
        z_o = stats.t_equivalent(th.Z, pre[1])
        sd_val = max(pre[0], c.min_band / z_o)
        band_o = max(z_o * sd_val, c.min_band)
    k = max(1, int(np.sum(c.val[:-1] <= vmin + math.sqrt(2) * band_o))) if c.val.size > 1 else 1
    m_k, v_k = stats.min_of_normals_moments(k)
    band = max(sd_val * (-m_k + z_o * math.sqrt(1.0 + v_k)), c.min_band)
    train = c.train_epoch_mean
    gaps = c.val - train
    args = {
        "best": _r(vmin),
        "best_epoch": _epoch(c.val_epoch[i_min]),
        "final": _r(vfinal),
        "rise": _r(rise),
        "band": _r(band),
        "gap": _r(float(gaps[-1])) if math.isfinite(gaps[-1]) else None,
    }
    fin = np.isfinite(gaps)
    if fin.sum() >= 2:
        slope, _ = stats.linear_trend(gaps[fin], c.val_epoch[fin])
        args["gap_trend"] = _r(slope)
    train_known = bool(np.isfinite(train[-1]) and np.isfinite(train[i_min]))
    train_falling = train_known and i_min < c.val.size - 1 and bool(train[-1] < train[i_min])
    # without batch noise the validation noise is unknown: then only a rise of more than 1% is judged a failure
    noise_known = math.isfinite(c.sigma_val)
    fail_band = band if noise_known else max(band, th.NEAR_FLOOR_REL * vmin)
    # the end's level fitted over the evaluations after the lowest (4 or more): a steady rise measured by its line's
    # end, whose error is sqrt(1/m + (x_end - mean x)^2 / Sxx) sd rather than one evaluation's sd
    fit_rise, fit_band = _fitted_rise(c, i_min, vmin, sd_val, m_k, v_k, z_o)
    if fit_rise is not None:
        args["fit_rise"], args["fit_band"] = _r(fit_rise), _r(fit_band)
    # ... where the line describes the end: its end not above the higher of the last two evaluations by more than the
    # line's own band (a leap after the best that came back pulls a line through it far above where the series ends)
    end_high = float(np.max(c.val[-2:])) if c.val.size - i_min > 2 else vfinal
    fitted = fit_rise is not None and noise_known and fit_rise > fit_band and vmin + fit_rise - end_high <= fit_band
    if (rise > fail_band or fitted) and train_falling:
        # the evidence that clears its band by the wider margin is the one shown: the one-point rise, or the line's end
        one_point = rise > fail_band and (not fitted or rise / fail_band >= (fit_rise or 0.0) / fit_band)
        key = "f.overfit.val_rising" if one_point else "f.overfit.val_rising_fit"
        return Finding("overfitting", "fail", key, {**args, "fit_n": int(c.val.size - i_min - 1)}, measured=vfinal, reference=vmin)
    few = _few_rising_every(c, i_min, vmin, train_known, train_falling)
    if few is not None:
        return Finding("overfitting", "fail", "f.overfit.few_rising_every", {**args, **few}, measured=vfinal, reference=vmin)
    above = _few_all_above(c, i_min, vmin, train_falling)
    if above is not None:
        return Finding("overfitting", "fail", "f.overfit.few_all_above", {**args, **above}, measured=vfinal, reference=vmin)
    ranked = _rising_ranks(c, i_min, vmin, train_known, train_falling)
    if ranked is not None:
        return Finding("overfitting", "fail", "f.overfit.rising_ranks", {**args, **ranked}, measured=vfinal, reference=vmin)
    never = _never_beat_start(c)
    if never is not None:
        return Finding("overfitting", "fail", "f.overfit.never_beat_start", {**args, **never}, measured=vfinal, reference=c.val_start)
    flat = _val_never_fell(c)
    if flat is not None:
        return Finding("overfitting", "fail", "f.overfit.val_never_fell", {**args, **flat}, measured=flat["val_end"], reference=flat["val_start"])
    memo = _memorisation(c)
    if memo is not None:
        return memo
    if rise > band:
        key = "f.overfit.val_up_noise_unknown" if train_falling else "f.overfit.val_up_train_flat" if train_known else "f.overfit.val_up_no_train"
        return Finding("overfitting", "warn", key, args, measured=vfinal, reference=vmin)
    return Finding("overfitting", "ok", "f.overfit.ok", args, measured=vfinal, reference=vmin)


def _noise_vetoes(c: Context, rise: float) -> bool:
    """Whether the series' own noise, where it was measured on NOISE_DF_VETO degrees of freedom or more (its point
    estimate) or from token counts, is as large as a rise of the few-evaluations rules: Z sqrt(2) sigma or more."""
    measured = math.isfinite(c.sigma_val) and (c.val_noise_source != "series" or c.val_noise_df >= th.NOISE_DF_VETO)
    return measured and rise <= th.Z * math.sqrt(2.0) * c.sigma_val


def _few_rising_every(c: Context, i_min: int, vmin: float, train_known: bool, train_falling: bool) -> dict[str, Any] | None:
    """A few evaluations give their own noise few degrees of freedom (6 evaluations: 3, where the t quantile for 3
    standard errors is 9), but an evaluation set's mean over N tokens moves by chance about level/sqrt(N) (a token's
    loss varies about as much as the mean itself): under 1% of the level from N = 10,000 tokens. Validation that rose
    at every one of at least FEW_RISES_MIN evaluations after its best (an order that chance gives 1/k!), by
    FEW_RISE_REL of the best or more and by more than Z sqrt(2) times the series' own noise (its point estimate, where
    measured on NOISE_DF_VETO degrees of freedom or more, or from token counts), while training fell or was not logged,
    is overfitting. Its arguments, or None."""
    after = c.val[i_min:]
    rises = after.size - 1
    if rises < th.FEW_RISES_MIN or not bool(np.all(np.diff(after) > 0)) or not vmin > 0:
        return None  # (a rise relative to a best of 0 or below is no measure)
    if float(after[-1]) - vmin < th.FEW_RISE_REL * abs(vmin) or (train_known and not train_falling):
        return None
    if _noise_vetoes(c, float(after[-1]) - vmin):
        return None
    # the first of them is the lowest by construction: the other k in rising order, 1/k! among exchangeable noise
    return {"k": int(rises), "rel": _r(100 * (float(after[-1]) - vmin) / abs(vmin), 1), "p": f"{1.0 / math.factorial(rises):.3g}"}


def _never_beat_start(c: Context) -> dict[str, Any] | None:
    """A fine-tune whose validation never beat the pretrained model's own before training (``Context.val_start``):
    every evaluation after the start above it by half of FEW_RISE_REL or more, the last by FEW_RISE_REL or more, the
    evaluations after the start not falling back (a dip and recovery is not this), while training fell by FEW_RISE_REL
    of its first loss or more; the noise veto of the few-evaluations rules applies. The fine-tune made held-out loss
    worse from its first evaluation. Its arguments, or None."""
    v0 = c.val_start
    if v0 is None or not v0 > 0 or c.val.size < 1 or not c.loss.size:
        return None
    after = c.val
    if float(after.min()) - v0 < th.FEW_RISE_REL / 2 * v0 or float(after[-1]) - v0 < th.FEW_RISE_REL * v0:
        return None
    if after.size >= 2 and float(after[-1]) < float(after[0]) and stats.linear_trend(after)[0] < 0:
        return None  # falling back toward the start: recovering, not worsening
    level = c.tail_level()
    if level is None or float(c.loss[0]) - level < th.FEW_RISE_REL * float(c.loss[0]):
        return None
    if _noise_vetoes(c, float(after[-1]) - v0):
        return None
    return {
        "start": _r(v0),
        "k": int(after.size),
        "low": f"{100 * (float(after.min()) - v0) / v0:.1f}",
        "rel": f"{100 * (float(after[-1]) - v0) / v0:.1f}",
    }


def _val_never_fell(c: Context) -> dict[str, Any] | None:
    """Validation that did not improve over the run while training fell by most of its level: from NEVER_FELL_EVALS_MIN
    evaluations, the median of validation's last third, and the mean of its last two, not FEW_RISE_REL (5%) below the
    median of its first third (an evaluation set's mean moves by chance under 1%: a smaller fall carried nothing over
    that matters beside training's), while the training level at the same evaluations (the epoch's mean) fell between those thirds by
    NEVER_FELL_TRAIN_REL of its level or more and ends at NEVER_FELL_GAP_REL of validation's or below (the median of
    its last third against validation's, and the mean of its last two against validation's: a training loss that blew
    up at the end has not). Medians of thirds, not single values: such a validation series is often wild (a small
    held-out set, an unstable model: 2.3, 2.9, 3.8, 1.7, 7.7, 2.9 ...), and its best is one lucky evaluation that the
    rise-from-best rules judge against noise that the wild values make large. What the model learned did not carry over
    to held-out data from the first evaluation on: the absence of any fall is the evidence, beside a training fall far
    beyond noise and a training loss a quarter of validation's. Its arguments, or None."""
    v, t = c.val, c.train_epoch_mean
    if v.size < th.NEVER_FELL_EVALS_MIN or t.size != v.size or not (np.isfinite(v).all() and np.isfinite(t).all()):
        return None
    m = max(2, int(math.ceil(v.size / 3)))
    v0, v1 = float(np.median(v[:m])), float(np.median(v[-m:]))
    t0, t1 = float(np.median(t[:m])), float(np.median(t[-m:]))
    v_end, t_end = float(np.mean(v[-2:])), float(np.mean(t[-2:]))  # the end itself: an excursion back to the best improved
    if not (v0 > 0 and t0 > 0 and t1 >= 0) or v1 < (1.0 - th.FEW_RISE_REL) * v0 or v_end < (1.0 - th.FEW_RISE_REL) * v0:
        return None
    if t0 - t1 < th.NEVER_FELL_TRAIN_REL * t0 or t1 > th.NEVER_FELL_GAP_REL * v1 or t_end > th.NEVER_FELL_GAP_REL * v_end:
        return None
    return {
        "m": m,
        "val_start": _r(v0),
        "val_end": _r(v1),
        "val_last2": _r(v_end),
        "train_start": _r(t0),
        "train_end": _r(t1),
        "train_pct": f"{100 * (t0 - t1) / t0:.0f}",
        "ratio": f"{100 * t1 / v1:.0f}",
    }


def _train_fell_since(c: Context, i: int) -> bool:
    """Whether the training level at the evaluations (the epoch's mean, else the batches before each) fell from the
    i-th evaluation to the last by FEW_RISE_REL of its level or more."""
    t = c.train_epoch_mean
    if t.size != c.val.size or not (math.isfinite(float(t[i])) and math.isfinite(float(t[-1]))) or not float(t[i]) > 0:
        return False
    return float(t[i]) - float(t[-1]) >= th.FEW_RISE_REL * float(t[i])


def _few_all_above(c: Context, i_min: int, vmin: float, train_falling: bool) -> dict[str, Any] | None:
    """Few evaluations (FEW_EVALS_ALL_ABOVE or fewer), the best at the first or second of them: the rising-every rule's
    order is a weak test on 2 or 3 values, but an evaluation set's mean over N tokens moves by chance about
    level/sqrt(N), under 1% of the level from 10,000 tokens. Every evaluation after the best above it by half of
    FEW_RISE_REL or more, the last by FEW_RISE_REL or more, at least 2 of them, while the logged training level fell:
    overfitting (the noise veto of the rising-every rule applies). Its arguments, or None."""
    after = c.val[i_min + 1 :]
    # the best at the first or second with 2 or more after it; or a best that the curve fell to (1 or more before it)
    # with 1 or more after it (4 epochs of a fine-tune: 1.729, 1.598, 1.568, 1.650 while training fell 1.36 -> 0.62), when
    # training fell since that best by FEW_RISE_REL of its level or more: the gap opens from both sides
    shape = (after.size >= 2 and i_min <= 1) or (after.size >= 1 and i_min >= 1 and _train_fell_since(c, i_min))
    if c.val.size > th.FEW_EVALS_ALL_ABOVE or not shape or not train_falling or not vmin > 0:
        return None  # (a rise relative to a best of 0 or below is no measure)
    if float(after.min()) - vmin < th.FEW_RISE_REL / 2 * abs(vmin) or float(after[-1]) - vmin < th.FEW_RISE_REL * abs(vmin):
        return None
    if _noise_vetoes(c, float(after[-1]) - vmin):
        return None
    return {
        "k": int(after.size),
        "low": f"{100 * (float(after.min()) - vmin) / abs(vmin):.1f}",
        "rel": f"{100 * (float(after[-1]) - vmin) / abs(vmin):.1f}",
    }


def _rising_ranks(c: Context, i_min: int, vmin: float, train_known: bool, train_falling: bool) -> dict[str, Any] | None:
    """Validation that has risen from its best by its order alone, where the noise band does not hold: a noise
    measured around a fitted fall takes a later rise for noise (a U-shaped series fits no decay), and a loss that
    rises grows noisier as it rises. The evaluations after the best (RANK_RISE_MIN or more; the best itself, the lowest
    by selection, is left out) rise in more pairs than chance gives at Z (one-sided, the Mann-Kendall test: exact to
    40 values, then its normal tail), and the median of their last third is above the best by FEW_RISE_REL of it or
    more, while training fell or was not logged: overfitting. Its arguments, or None."""
    after = c.val[i_min + 1 :]
    after = after[np.isfinite(after)]
    if after.size < th.RANK_RISE_MIN or (train_known and not train_falling) or not vmin > 0:
        return None
    rises, p = stats.falling_pairs_p(-after)
    end = float(np.median(after[-max(3, int(math.ceil(th.END_EVALS_FRACTION * after.size))) :]))
    if p >= 1.0 - stats.normal_cdf(th.Z) or end - vmin < th.FEW_RISE_REL * abs(vmin):
        return None
    return {
        "n": int(after.size),
        "rises": rises,
        "pairs": int(after.size * (after.size - 1) // 2),
        "p": f"= {p:.3g}" if p >= 1e-12 else "< 1e-12",
        "end": _r(end),
        "rel": _r(100 * (end - vmin) / abs(vmin), 1),
    }


def _fitted_rise(c: Context, i_min: int, vmin: float, sd: float, m_k: float, v_k: float, z: float) -> tuple[float | None, float]:
    """(fitted end level - lowest, its band): the least-squares line through the evaluations after the lowest (at least
    4), read at the last one, against the lowest value with the same selection correction as the one-point rise."""
    y = c.val[i_min + 1 :]
    if y.size < 4 or not math.isfinite(sd):
        return None, math.inf
    x = np.arange(y.size, dtype=np.float64)
    slope, _ = stats.linear_trend(y, x)
    if not math.isfinite(slope):
        return None, math.inf
    end = float(y.mean() + slope * (x[-1] - x.mean()))
    f2 = 1.0 / y.size + (x[-1] - x.mean()) ** 2 / float(((x - x.mean()) ** 2).sum())
    return end - vmin, max(sd * (-m_k + z * math.sqrt(f2 + v_k)), c.min_band)


def _epoch_staircase(c: Context) -> Finding | None:
    """No validation, several epochs: a training loss that drops at the epoch boundaries and is (nearly) flat
    within each epoch is recognising the examples it saw on the previous pass: memorising, which only a
    validation set can tell from learning. The level at an epoch's start and end is the median of its first
    and last STAIRCASE_WINDOW of batches; a drop across a boundary counts when it exceeds Z standard errors
    of those medians and STAIRCASE_RATIO times the fall within the following epoch."""
    if c.scaled is not None:
        return None
    ep, loss = c.run.batches.epoch, c.batch_loss
    ok = np.isfinite(ep) & np.isfinite(loss)
    if ok.sum() < 2 * th.MIN_TAIL:
        return None
    # epoch k holds the batches with k < epoch <= k + 1 (HF logs fractions 0.01 .. 1.0; lossdoc logs the epoch number 1, 2, ...)
    index = np.floor(ep[ok] - 1e-9).astype(np.int64)
    loss = loss[ok]
    epochs = []
    for k in np.unique(index):
        lk = loss[index == k]
        w = max(3, int(th.STAIRCASE_WINDOW * lk.size))
        if lk.size < 2 * w:
            return None  # too few batches in an epoch to tell its start from its end
        sd = stats.diff_noise_sd(lk)
        se = 1.2533 * sd / math.sqrt(w) if math.isfinite(sd) else math.nan  # standard error of a median of w values
        epochs.append((float(np.median(lk[:w])), float(np.median(lk[-w:])), se))
    boundaries = len(epochs) - 1
    if boundaries < th.STAIRCASE_MIN_BOUNDARIES:
        return None
    drops, falls, steps = [], [], 0
    for (_, end, se1), (start, end_next, se2) in zip(epochs, epochs[1:]):
        drop, fall = end - start, max(start - end_next, 0.0)
        band = max(th.Z * math.hypot(se1, se2), c.min_band) if math.isfinite(se1 + se2) else math.inf
        drops.append(drop)
        falls.append(fall)
        steps += drop > band and drop > th.STAIRCASE_RATIO * fall
    if steps < th.STAIRCASE_MIN_BOUNDARIES or steps < th.STAIRCASE_SHARE * boundaries:
        return None
    args = {
        "epochs": len(epochs),
        "steps": int(steps),
        "boundaries": boundaries,
        "drops": ", ".join(f"{d:.3f}" for d in drops),
        "falls": ", ".join(f"{f:.3f}" for f in falls),
        "ratio": _epoch(th.STAIRCASE_RATIO),
    }
    return Finding("overfitting", "warn", "f.overfit.epoch_steps", args, measured=float(np.median(drops)), reference=float(np.median(falls)))
