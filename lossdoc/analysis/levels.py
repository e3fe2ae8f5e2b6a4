"""Levels against references: the loss against its floor, ln V, the unigram level, and the training level
against validation.

No torch, no rich: numbers in, Findings out. Rules: docs/verdicts.md; thresholds: thresholds.py."""

from __future__ import annotations

import math

import numpy as np

from lossdoc import floors
from lossdoc.analysis import stats
from lossdoc.analysis import thresholds as th
from lossdoc.analysis.context import Context, _epoch, _r
from lossdoc.analysis.model import Finding


def check_floor(c: Context) -> Finding:
    if c.floor is None:
        at = _at_ln_v_unknown(c)
        if at is not None:
            return at
        # only flags that can apply: text has no exact floor a flag could give but its own --floor
        flag = "--floor" if c.data_text else "--floor or --random" if c.vocab_size else "--vocab-size with --random, or --floor"
        return Finding("floor", "skipped", "f.skip.floor", {}, flag=flag)
    if c.best_val is None:
        return _train_level_vs_floor(c)
    best, final = c.best_val, float(c.val[-1])
    val_floor = c.val_floor if c.val_floor is not None else c.floor
    # compared with the floor as these validation rows score it: removes the luck of which tokens were drawn
    d, pct = floors.excess(best, val_floor)
    df, pctf = floors.excess(final, val_floor)
    args = {
        "best": _r(best),
        "final": _r(final),
        "floor": _r(val_floor),
        "excess": _r(d),
        "pct": _r(pct, 2),
        "final_excess": _r(df),
        "final_pct": _r(pctf, 2),
        "band": _r(c.band_val),
        "near": _r(c.near_floor),
        "epoch": _epoch(c.val_epoch[int(np.argmin(c.val))]),
        "below": _r(-d),
    }
    if val_floor != c.floor:
        args.update(exact_floor=_r(c.floor), floor_sample=_r(val_floor))
    if c.ln_v is not None and c.ln_v - c.floor > c.near_floor:
        # structured data with an exact floor: share of the learnable information captured
        args["captured"] = _r(min(100.0, 100.0 * (c.ln_v - best) / (c.ln_v - c.floor)), 1)  # within noise below the floor: 100%
    if d < -c.band_val:
        return Finding("floor", "fail", "f.floor.below", args, measured=best, reference=val_floor)
    if abs(d) <= c.band_val:
        return Finding("floor", "ok", "f.floor.within_noise", args, measured=best, reference=val_floor)
    if d <= c.near_floor:
        return Finding("floor", "ok", "f.floor.near", args, measured=best, reference=val_floor)
    return Finding("floor", "info", "f.floor.above", args, measured=best, reference=val_floor)


def check_batch_noise(c: Context) -> Finding:
    if c.floor is None:
        return Finding("batch-noise", "skipped", "f.skip.floor", {}, flag="--floor or --random")
    if not c.tail.any() or not math.isfinite(c.sigma_b):
        return Finding("batch-noise", "skipped", "f.progress.too_short", {"batches": int(c.loss.size), "evals": int(c.val.size)})
    tail = c.loss[c.tail]
    mean = float(np.mean(tail))
    below = int((tail < c.floor).sum())
    n = int(tail.size)
    expected_share = stats.normal_cdf((c.floor - mean) / c.sigma_b) if c.sigma_b > 0 else float(mean < c.floor)
    args = {
        "sd": _r(c.sigma_b),
        "tokens": int(c.tokens_per_batch) if c.tokens_per_batch else None,
        "n": n,
        "below": below,
        "share": _r(100 * below / n, 1),
        "expected_share": _r(100 * expected_share, 1),
        "mean": _r(mean),
        "floor": _r(c.floor),
        "min": _r(float(tail.min())),
        "expected_min": _r(stats.expected_min_of_normals(mean, c.sigma_b, n)),
    }
    if c.tokens_per_batch:
        args["per_token_sd"] = _r(c.sigma_b * math.sqrt(c.tokens_per_batch), 3)
    se_mean = c.level_se(n, median=False)
    args["se_mean"] = _r(se_mean)
    if mean < c.floor - max(c.z_b * se_mean, c.min_band):
        # the average itself is below the floor: not noise, the model does better on rows it has seen
        return Finding("batch-noise", "info", "f.noise.mean_below", args, measured=mean, reference=c.floor)
    if below:
        return Finding("batch-noise", "info", "f.noise.dips", args, measured=float(tail.min()), reference=c.floor)
    return Finding("batch-noise", "ok", "f.noise.none", args, measured=float(tail.min()), reference=c.floor)


def _memorisation(c: Context) -> Finding | None:
    """Training loss below an exact floor while validation is not: memorising the training rows."""
    if c.floor is None:
        return None
    train = c.train_epoch_mean
    fin = np.isfinite(train)
    if not fin.any() or not math.isfinite(c.sigma_b):
        return None
    t_final = float(train[fin][-1])
    per_epoch = max(1.0, c.loss.size / max(1, c.val.size))
    band_t = max(c.z_b * c.level_se(per_epoch, median=False), c.min_band)
    if t_final >= c.floor - band_t:
        return None
    if c.val.size and c.val.min() < (c.val_floor if c.val_floor is not None else c.floor) - c.band_val:
        return None  # validation is below the floor too: a leak, not memorisation (below-floor reports it)
    depth = c.floor - t_final
    args = {
        "train": _r(t_final),
        "floor": _r(c.floor),
        "depth": _r(depth),
        "val": _r(c.final_val),
        "limit": _r(th.MEMORISE_REL * c.floor),
        "pct": _r(100 * depth / c.floor, 2),
    }
    if depth > th.MEMORISE_REL * c.floor:
        return Finding("overfitting", "fail", "f.overfit.memorising", args, measured=t_final, reference=c.floor)
    # within the harmless depth: a note on the way validation should be read, not a warning against the verdict
    return Finding("overfitting", "info", "f.overfit.memorising_slight", args, measured=t_final, reference=c.floor)


def _memorised_text(c: Context) -> Finding | None:
    """No validation, real data: a training loss under MEMORISED_NATS per token after more than one
    epoch is only reachable by memorising the training rows; with no epoch in the log, by memorising or by a
    leak (either way not a run to train longer)."""
    if not c.real_data or not c.tail.any():
        return None
    ep = stats.finite(c.run.batches.epoch)
    if ep.size and float(ep.max()) <= 1.0:
        return None  # within the first pass: the scale check's business (padding counted, or a leak)
    n = c.loss.size
    end = float(np.median(c.loss[-min(th.SPIKE_WINDOW, max(3, n // 4)) :]))  # where the run ends, as divergence reads it
    if end >= th.MEMORISED_NATS:
        return None
    if float(c.loss[0]) <= th.MEMORISED_START_NATS and (c.vocab_size is None or not ep.size):
        # only a language model's per-token loss: one that started like it, or one of a known vocabulary (with epochs);
        # a classifier's cross-entropy (MNIST's 0.33 -> 0.03) or DPO's reaches about 0 by right
        return None
    if n < 2 or float(c.loss[0]) < th.FIRST_EPOCH_LOW_NATS:
        return None  # the log must show the fall into memorising: a single record, or a loss logged near 0 from its first
        # record (an RL objective such as GRPO's, 0 by construction), shows no fall at all
    args = {"train": _r(end), "epochs": _epoch(float(ep.max())) if ep.size else None, "limit": th.MEMORISED_NATS, "ppl": _r(math.exp(end), 3)}
    key = "f.overfit.train_memorised" if ep.size else "f.overfit.train_memorised_no_epochs"
    return Finding("overfitting", "fail", key, args, measured=end, reference=th.MEMORISED_NATS)


def _stuck_at_unigram(c: Context) -> Finding | None:
    """A from-scratch run on real text that fell fast to about the unigram level and then stayed flat
    for thousands of steps: it learned token frequencies and nothing else."""
    if c.unigram_est is None or c.pretrained or c.loss.size < th.MIN_BATCHES:
        return None
    span = float(c.step[-1] - c.step[0])
    if span < th.STUCK_MIN_SPAN:
        return None
    k = max(3, c.loss.size // 10)
    start, end = float(np.median(c.loss[:k])), float(np.median(c.loss[c.tail]))
    drop = start - end
    if drop > th.STUCK_MAX_DROP_REL * start or abs(end - c.unigram_est) > th.STUCK_UNIGRAM_REL * c.unigram_est:
        return None
    if c.val.size and float(c.val.min()) < c.unigram_est * (1 - th.STUCK_UNIGRAM_REL):
        return None
    args = {
        "start": _r(start),
        "end": _r(end),
        "first_step": _epoch(float(c.step[0])),
        "span": _epoch(span),
        "unigram": _r(c.unigram_est, 2),
        "vocab": c.vocab_size,
        "drop": _r(drop),
    }
    key = "f.nolearn.unigram" if c.run.unigram_xent is None and c.run.unigram_entropy is None else "f.nolearn.unigram_measured"
    return Finding("no-learning", "fail", key, args, measured=end, reference=c.unigram_est)


def check_val_below_train(c: Context) -> Finding:
    if not c.val.size or c.loss.size < 3:
        return Finding("val-below-train", "skipped", "f.vbt.no_data", {})
    # compare the last evaluation with the training level just before it (not the epoch mean, which lags
    # behind a falling curve)
    end_train = float(c.train_at_eval[-1]) if math.isfinite(c.train_at_eval[-1]) else c.tail_level()
    if end_train is None:
        return Finding("val-below-train", "skipped", "f.vbt.no_data", {})
    val = float(c.val[-1])
    n_tail = min(th.SPIKE_WINDOW, max(3, c.loss.size // 4)) if math.isfinite(c.train_at_eval[-1]) else int(c.tail.sum())
    sd = c.sigma_b if math.isfinite(c.sigma_b) else 0.0
    dropout = c.run.dropout or 0.0
    ref = c.floor if c.floor is not None else 0.0
    # On real data the training loss is measured with dropout on (often not logged; 0.1 is the usual
    # default) and, in most tools, as a running mean that lags a falling curve: allow twice that share.
    share = th.REAL_DATA_DROPOUT_FACTOR * max(dropout, th.DEFAULT_DROPOUT) if c.real_data else dropout
    allowance = (c.z_b * c.level_se(n_tail, median=False) if sd > 0 else 0.0) + c.band_val + share * max(0.0, end_train - ref)
    gap = end_train - val
    args = {"val": _r(val), "train": _r(end_train), "gap": _r(gap), "allowance": _r(allowance), "dropout": dropout}
    if gap > allowance:
        return Finding("val-below-train", "warn", "f.vbt.found", args, measured=val, reference=end_train)
    return Finding("val-below-train", "ok", "f.vbt.ok", args, measured=val, reference=end_train)


def _train_level_vs_floor(c: Context) -> Finding:
    """No validation: the training level at the end (the tail's median, with its standard error ``Context.level_se``) against
    the exact floor. On random ids the batches are unseen rows until an epoch repeats them, so their level is the
    evidence (the seed's own case: a console of training losses only)."""
    level = c.tail_level()
    if level is None or c.floor is None or not math.isfinite(c.sigma_b):
        return Finding("floor", "skipped", "f.floor.no_val", {})
    n = int(c.tail.sum())
    band = max(c.z_b * c.level_se(n), c.min_band)
    near = max(band, th.NEAR_FLOOR_REL * c.floor)
    d, pct = floors.excess(level, c.floor)
    args = {"level": _r(level), "floor": _r(c.floor), "excess": _r(d), "pct": _r(pct, 2), "band": _r(band), "near": _r(near), "n": n, "below": _r(-d)}
    if abs(d) <= band:
        return Finding("floor", "ok", "f.floor.train_within_noise", args, measured=level, reference=c.floor)
    if abs(d) <= near:
        return Finding("floor", "ok", "f.floor.train_near", args, measured=level, reference=c.floor)
    if d < 0:
        return Finding("floor", "info", "f.floor.train_below", args, measured=level, reference=c.floor)
    return Finding("floor", "info", "f.floor.train_above", args, measured=level, reference=c.floor)


def _at_ln_v_unknown(c: Context) -> Finding | None:
    """The run ends at ln V (within 1% of it, or within noise) and nothing says what the data is: the floor if the
    ids are random, a model that learned nothing if they are text. Not for a fine-tune or data the log calls text."""
    if c.vocab_size is None or c.ln_v is None or c.pretrained or c.data_text or c.random_data:
        return None
    level = c.end_level()
    if level is None or not math.isfinite(level):
        return None
    if c.tail.any() and math.isfinite(c.sigma_b):
        se, z = c.level_se(int(c.tail.sum())), c.z_b
    else:
        se, z = c.band_val / c.z_val, c.z_val
    if z * se > 5 * th.NEAR_FLOOR_REL * c.ln_v:
        return None  # too noisy to say the level is at ln V
    near = max(z * se, th.NEAR_FLOOR_REL * c.ln_v, c.min_band)
    ref = math.log(c.vocab_size - 1) if c.vocab_size > 2 and abs(level - math.log(c.vocab_size - 1)) < abs(level - c.ln_v) else c.ln_v
    if abs(level - ref) > near:
        return None
    args = {"level": _r(level), "ln_v": _r(c.ln_v), "vocab": c.vocab_size, "diff": _r(level - c.ln_v), "near": _r(near)}
    return Finding("floor", "warn", "f.floor.at_ln_v_unknown", args, measured=level, reference=c.ln_v, flag="--random")
