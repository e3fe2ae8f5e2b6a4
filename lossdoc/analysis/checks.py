"""The checks: one function per finding code, each taking the measured context.

No torch, no rich: numbers in, Findings out. Rules and thresholds are in
docs/verdicts.md; thresholds themselves live in thresholds.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lossdoc import floors
from lossdoc.analysis import stats
from lossdoc.analysis import thresholds as th
from lossdoc.analysis.model import Finding
from lossdoc.runlog.run import Run


def _epoch(x: float) -> int | float | str:
    """An epoch number as a log gives it: 2, 1.5 (HF logs fractional epochs), or '-' when unknown."""
    if not math.isfinite(x):
        return "-"
    return int(x) if float(x).is_integer() else round(float(x), 2)


def _r(x: float | None, nd: int = 4) -> float | None:
    """Round for display and JSON; None and non-finite pass through as None/str."""
    if x is None:
        return None
    if not math.isfinite(x):
        return x
    return round(float(x), nd)


@dataclass
class Context:
    """Everything measured once from a Run, shared by all checks."""

    run: Run
    vocab_size: int | None
    ln_v: float | None
    floor: float | None
    val_floor: float | None  # the floor as the validation rows score it (the sample value when known, else the exact one)
    random_data: bool
    step: np.ndarray  # finite-loss batches only
    loss: np.ndarray
    lr: np.ndarray
    grad_norm: np.ndarray
    tail: np.ndarray  # boolean mask over step/loss: the end of the run
    sigma_b: float  # sd of single batch losses around their trend, at the end of the run
    tokens_per_batch: float | None
    val_epoch: np.ndarray  # evaluations after training started (epoch >= 1), finite
    val: np.ndarray
    val_tokens: np.ndarray
    train_epoch_mean: np.ndarray  # matching val rows: the epoch mean, else the batch level before the evaluation
    train_at_eval: np.ndarray  # median of the last batches before each evaluation (NaN when unknown)
    sigma_val: float  # standard error of one validation loss
    band_val: float  # Z * sigma_val, at least MIN_BAND
    init: float | None
    init_source: str | None  # "epoch0" | "step1" | None
    first_step: float | None
    init_logit_std: float | None
    facts: dict = field(default_factory=dict)

    @property
    def best_val(self) -> float | None:
        return float(self.val.min()) if self.val.size else None

    @property
    def final_val(self) -> float | None:
        return float(self.val[-1]) if self.val.size else None

    @property
    def near_floor(self) -> float:
        return max(self.band_val, th.NEAR_FLOOR_REL * self.floor) if self.floor else self.band_val

    @property
    def init_band(self) -> tuple[float, float]:
        """Healthy range of a loss at initialisation (floors.init_loss_band), computed once."""
        if "init_band" not in self.facts:
            self.facts["init_band"] = floors.init_loss_band(self.vocab_size, self.init_logit_std or 0.0)
        return self.facts["init_band"]

    def tail_level(self) -> float | None:
        return float(np.median(self.loss[self.tail])) if self.tail.any() else None


def build_context(run: Run) -> Context:
    b = run.batches
    ok = np.isfinite(b.loss)
    step, loss = b.step[ok], b.loss[ok]
    n = loss.size
    tail = np.zeros(n, dtype=bool)
    if n:
        k = min(n, max(th.MIN_TAIL, int(math.ceil(th.TAIL_FRACTION * n))))
        tail[n - k :] = True
    sigma_b = stats.diff_noise_sd(loss[tail]) if n >= 3 else math.nan
    tok = stats.finite(b.tokens)
    tpb = float(np.median(tok)) if tok.size else run.batch_tokens

    e = run.epochs
    # evaluations after training started: everything but the measurement at epoch 0 / step 0 (HF logs
    # fractional epochs like 0.5; Keras-style logs have no step at all)
    is_init = (e.epoch == 0) | (e.step == 0)
    sel = ~is_init & np.isfinite(e.val_loss) if len(e) else np.zeros(0, dtype=bool)
    val_epoch, val, val_tokens, val_step = e.epoch[sel], e.val_loss[sel], e.val_tokens[sel], e.step[sel]
    # the training level at each evaluation: the epoch's mean when logged, else the median of the batches
    # just before the evaluation's step (logs from other tools rarely carry an epoch mean)
    w = min(th.SPIKE_WINDOW, max(3, n // 4)) if n else 0
    train_at_eval = np.full(val.size, np.nan)
    for i, s_ in enumerate(val_step):
        if n and math.isfinite(s_):
            before = loss[step <= s_][-w:]
            if before.size:
                train_at_eval[i] = float(np.median(before))
    train_mean = np.where(np.isfinite(e.train_loss[sel]), e.train_loss[sel], train_at_eval)

    # Standard error of one validation loss: per-token sd (from the batch noise) over sqrt(val tokens).
    sigma_val = math.nan
    vt = stats.finite(val_tokens)
    if math.isfinite(sigma_b) and tpb and vt.size:
        sigma_val = sigma_b * math.sqrt(tpb) / math.sqrt(float(np.median(vt)))
    elif math.isfinite(sigma_b):
        sigma_val = sigma_b  # no token counts: a conservative stand-in (a val set is at least a batch)
    band_val = max(th.Z * sigma_val, th.MIN_BAND) if math.isfinite(sigma_val) else th.MIN_BAND

    init, init_source, first_step = None, None, None
    e0 = (e.epoch == 0) if len(e) else np.zeros(0, dtype=bool)
    if e0.any():
        v0 = e.val_loss[e0][0]
        t0 = e.train_loss[e0][0]
        init = float(v0) if math.isfinite(v0) else float(t0) if math.isfinite(t0) else None
        init_source = "epoch0" if init is not None else None
    if len(b):
        first_step = float(b.step[0])
        if init is None and b.step[0] <= th.INIT_FIRST_STEP_MAX and math.isfinite(b.loss[0]):
            init, init_source = float(b.loss[0]), "step1"

    v = run.vocab_size
    return Context(
        run=run, vocab_size=v, ln_v=math.log(v) if v else None, floor=run.entropy_floor,
        val_floor=run.val_floor_sample if run.val_floor_sample is not None else run.entropy_floor, random_data=run.random_data,
        step=step, loss=loss, lr=b.lr[ok], grad_norm=b.grad_norm[ok], tail=tail, sigma_b=sigma_b, tokens_per_batch=tpb,
        val_epoch=val_epoch, val=val, val_tokens=val_tokens, train_epoch_mean=train_mean, train_at_eval=train_at_eval, sigma_val=sigma_val,
        band_val=band_val, init=init, init_source=init_source, first_step=first_step, init_logit_std=run.init_logit_std,
    )


# --------------------------------------------------------------------------- checks


def check_log(c: Context) -> Finding:
    run = c.run
    args = {"records": run.records_read, "skipped": run.records_skipped, "format": run.format, "batches": len(run.batches),
            "evals": len(run.epochs), "status": run.status or "-"}
    if any(w.key in ("warn.torn_last_line", "warn.corrupt_lines", "warn.missing_fields") for w in run.warnings):
        return Finding("log", "warn", "f.log.tolerated", args, measured=run.records_read)
    if run.status is None and run.format == "lossdoc":
        return Finding("log", "info", "f.log.no_end", args, measured=run.records_read)
    if run.resumed:
        return Finding("log", "info", "f.log.resumed", args, measured=run.records_read)
    return Finding("log", "ok", "f.log.ok" if run.status else "f.log.ok_nostatus", args, measured=run.records_read)


def check_nonfinite(c: Context) -> Finding:
    b = c.run.batches
    bad_batch = ~np.isfinite(b.loss)
    e = c.run.epochs
    bad_val = (~np.isfinite(e.val_loss)) & ~np.isnan(e.val_loss) if len(e) else np.zeros(0, dtype=bool)
    nan_events = [ev for ev in c.run.events if ev.kind in ("nonfinite_loss", "nonfinite_val")]
    if not bad_batch.any() and not bad_val.any() and not nan_events:
        return Finding("nonfinite-loss", "ok", "f.nonfinite.ok", {})
    if bad_batch.any():
        i = int(np.argmax(bad_batch))
        step = float(b.step[i])
        before = slice(max(0, i - 10), i)
        gn = stats.finite(b.grad_norm[before])
        lr = stats.finite(b.lr[before])
        v = float(b.loss[i])
        args = {"step": int(step), "value": "NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity", "count": int(bad_batch.sum()),
                "lr": _r(float(lr[-1]), 6) if lr.size else None, "grad_max": _r(float(gn.max()), 3) if gn.size else None,
                "grad_median": _r(float(np.median(stats.finite(b.grad_norm[:i]))), 3) if stats.finite(b.grad_norm[:i]).size else None}
        key = "f.nonfinite.batch_grad" if args["grad_max"] is not None else "f.nonfinite.batch"
        return Finding("nonfinite-loss", "fail", key, args, measured=step)
    step = nan_events[0].step if nan_events else math.nan
    return Finding("nonfinite-loss", "fail", "f.nonfinite.event", {"step": None if math.isnan(step) else int(step)}, measured=step)


def check_init(c: Context) -> Finding:
    if c.vocab_size is None:
        return Finding("init-loss", "skipped", "f.skip.vocab", {}, flag="--vocab-size")
    if c.init is None:
        return Finding("init-loss", "skipped", "f.init.not_logged", {"first_step": None if c.first_step is None else int(c.first_step)})
    sd = c.init_logit_std
    expected = floors.expected_init_loss_exact(c.vocab_size, sd) if sd is not None else c.ln_v
    low, high = c.init_band
    excess = c.init - c.ln_v
    implied = floors.implied_logit_std(c.vocab_size, c.init) if c.init > high or c.init < low else (math.sqrt(2 * excess) if excess > 0 else 0.0)
    args = {"init": _r(c.init), "ln_v": _r(c.ln_v), "vocab": c.vocab_size, "expected": _r(expected), "low": _r(low), "high": _r(high),
            "excess": _r(excess), "implied_std": _r(implied, 3), "std": _r(sd, 3) if sd is not None else None,
            "half_var": _r(sd * sd / 2, 4) if sd is not None else None}
    if c.init > high:
        ratio = c.init / c.ln_v
        if abs(c.init - c.ln_v / math.log(2)) <= 0.05 * c.ln_v / math.log(2):
            key = "f.init.log2"
        else:
            key = "f.init.high"
        args["ratio"] = _r(ratio, 2)
        return Finding("init-loss", "fail", key, args, measured=c.init, reference=expected)
    if c.init < low:
        return Finding("init-loss", "fail", "f.init.low", args, measured=c.init, reference=expected)
    key = "f.init.ok_std" if sd is not None and excess > 0 else "f.init.ok"
    return Finding("init-loss", "ok", key, args, measured=c.init, reference=expected)


def check_floor(c: Context) -> Finding:
    if c.floor is None:
        flag = "--floor or --random" if c.vocab_size else "--vocab-size with --random, or --floor"
        return Finding("floor", "skipped", "f.skip.floor", {}, flag=flag)
    if c.best_val is None:
        return Finding("floor", "skipped", "f.floor.no_val", {})
    best, final = c.best_val, c.final_val
    # compared with the floor as these validation rows score it: removes the luck of which tokens were drawn
    d, pct = floors.excess(best, c.val_floor)
    df, pctf = floors.excess(final, c.val_floor)
    args = {"best": _r(best), "final": _r(final), "floor": _r(c.val_floor), "excess": _r(d), "pct": _r(pct, 2), "final_excess": _r(df),
            "final_pct": _r(pctf, 2), "band": _r(c.band_val), "near": _r(c.near_floor), "epoch": _epoch(c.val_epoch[int(np.argmin(c.val))]), "below": _r(-d)}
    if c.val_floor != c.floor:
        args.update(exact_floor=_r(c.floor), floor_sample=_r(c.val_floor))
    if c.ln_v is not None and c.ln_v - c.floor > c.near_floor:
        # structured data with an exact floor: share of the learnable information captured
        args["captured"] = _r(min(100.0, 100.0 * (c.ln_v - best) / (c.ln_v - c.floor)), 1)  # within noise below the floor: 100%
    if d < -c.band_val:
        return Finding("floor", "fail", "f.floor.below", args, measured=best, reference=c.val_floor)
    if abs(d) <= c.band_val:
        return Finding("floor", "ok", "f.floor.within_noise", args, measured=best, reference=c.val_floor)
    if d <= c.near_floor:
        return Finding("floor", "ok", "f.floor.near", args, measured=best, reference=c.val_floor)
    return Finding("floor", "info", "f.floor.above", args, measured=best, reference=c.val_floor)


def check_below_floor(c: Context) -> Finding:
    if c.floor is None:
        return Finding("below-floor", "skipped", "f.skip.floor", {}, flag="--floor or --random")
    vals = c.val
    tail = c.tail_level()
    args = {"floor": _r(c.val_floor), "band": _r(c.band_val)}
    if vals.size and vals.min() < c.val_floor - c.band_val:
        args.update(best=_r(float(vals.min())), gap=_r(c.val_floor - float(vals.min())))
        return Finding("below-floor", "fail", "f.below.val", args, measured=float(vals.min()), reference=c.val_floor)
    if tail is not None and math.isfinite(c.sigma_b):
        # training batches far below the floor with nothing evaluated: the same impossibility
        n_tail = int(c.tail.sum())
        band_t = max(th.Z * c.sigma_b / math.sqrt(n_tail), th.MIN_BAND)
        if not vals.size and tail < c.floor - max(band_t, th.MEMORISE_REL * c.floor):
            args.update(best=_r(tail), gap=_r(c.floor - tail))
            return Finding("below-floor", "fail", "f.below.train", args, measured=tail, reference=c.floor)
    return Finding("below-floor", "ok", "f.below.ok", args, measured=c.best_val, reference=c.val_floor)


def _padded_sizes(v: int) -> list[int]:
    sizes = {v}
    for m in th.PADDED_MULTIPLES:
        sizes.add(-(-v // m) * m)
    return sorted(sizes)


def check_uniform_lock(c: Context) -> Finding:
    if c.vocab_size is None:
        return Finding("uniform-lock", "skipped", "f.skip.vocab", {}, flag="--vocab-size")
    level = c.tail_level()
    if level is None or not math.isfinite(c.sigma_b):
        level = c.final_val
        sd = c.band_val / th.Z
    else:
        sd = c.sigma_b
    if level is None:
        return Finding("uniform-lock", "skipped", "f.uniform.no_data", {})
    for size in _padded_sizes(c.vocab_size):
        ref = math.log(size)
        if abs(level - ref) <= th.UNIFORM_LOCK_NATS and sd < th.UNIFORM_LOCK_SD:
            args = {"level": _r(level, 5), "size": size, "ln_size": _r(ref, 5), "sd": _r(sd, 5)}
            # on data with (almost) nothing to learn, a uniform output is the optimum, not a failure
            if c.floor is not None and c.floor >= ref - th.UNIFORM_LOCK_NATS - c.near_floor:
                return Finding("uniform-lock", "ok", "f.uniform.optimal", args, measured=level, reference=ref)
            if c.floor is None:
                # random data (optimum) or a dead output layer (failure): only the floor tells them apart
                return Finding("uniform-lock", "warn", "f.uniform.unknown_floor", args, measured=level, reference=ref, flag="--random or --floor")
            return Finding("uniform-lock", "fail", "f.uniform.locked", args, measured=level, reference=ref)
    return Finding("uniform-lock", "ok", "f.uniform.ok", {"level": _r(level)}, measured=level)


def check_no_learning(c: Context) -> Finding:
    """Did the loss move beyond its noise? Validation is compared with validation (epoch 0 vs last),
    training batches with training batches (the first ones vs the end of the run)."""
    lrs = stats.finite(c.lr)
    moves: list[tuple[float, float, float, float]] = []  # (start, end, change, band)
    if c.init is not None and c.init_source == "epoch0" and c.val.size:
        sd = c.band_val / th.Z
        moves.append((c.init, c.final_val, c.init - c.final_val, max(th.Z * math.sqrt(2) * sd, th.MIN_BAND)))
    n = c.loss.size
    if n >= th.MIN_BATCHES and math.isfinite(c.sigma_b):
        k = max(3, min(10, n // 4))
        start, end = float(np.median(c.loss[:k])), float(np.median(c.loss[c.tail]))
        se = 1.2533 * c.sigma_b * math.sqrt(1.0 / k + 1.0 / int(c.tail.sum()))  # sd of a median is ~1.2533 sd/sqrt(n)
        moves.append((start, end, start - end, max(th.Z * se, th.MIN_BAND)))
    if not moves:
        return Finding("no-learning", "skipped", "f.nolearn.no_data", {})
    moved = next((m for m in moves if abs(m[2]) > m[3]), None)
    start, end, change, band = moved or moves[0]
    args = {"init": _r(start), "end": _r(end), "moved": _r(change), "band": _r(band), "lr_max": _r(float(lrs.max()), 8) if lrs.size else None}
    lr_zero = bool(lrs.size and lrs.max() == 0)
    if c.floor is not None and start - c.val_floor <= 2 * band and not lr_zero:
        return Finding("no-learning", "ok", "f.nolearn.nothing_to_learn", args, measured=change)
    if moved is None:
        if lr_zero:
            return Finding("no-learning", "fail", "f.nolearn.lr_zero", args, measured=change, reference=band)
        if c.floor is None:
            # it did not move, but without a floor we cannot tell "nothing to learn" from "not learning"
            return Finding("no-learning", "warn", "f.nolearn.unknown_floor", args, measured=change, reference=band, flag="--random or --floor")
        return Finding("no-learning", "fail", "f.nolearn.stuck", args, measured=change, reference=band)
    return Finding("no-learning", "ok", "f.nolearn.ok", args, measured=change, reference=band)


def check_progress(c: Context) -> Finding:
    n = c.loss.size
    if n >= th.MIN_BATCHES and c.tail.sum() >= 3:
        slope, se = stats.linear_trend(c.loss[c.tail], c.step[c.tail])
        span = float(c.step[c.tail][-1] - c.step[c.tail][0])
        source = "batches"
    elif c.val.size >= 3:
        slope, se = stats.linear_trend(c.val, c.val_epoch)
        span = float(c.val_epoch[-1] - c.val_epoch[0])
        source = "evals"
    else:
        return Finding("progress", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
    if not math.isfinite(slope) or not math.isfinite(se) or not math.isfinite(span):
        return Finding("progress", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
    change = slope * span
    z = slope / se if se > 0 else (0.0 if slope == 0 else math.copysign(math.inf, slope))
    args = {"change": _r(change), "drop": _r(-change), "se": _r(se * span), "z": _r(z, 1), "span": _epoch(span), "source": source,
            "per_1k": _r(slope * 1000, 4)}
    suffix = "" if source == "batches" else "_evals"
    if z < -th.Z:
        return Finding("progress", "info", "f.progress.improving" + suffix, args, measured=change)
    if z > th.Z:
        return Finding("progress", "warn", "f.progress.rising" + suffix, args, measured=change)
    return Finding("progress", "ok", "f.progress.settled" + suffix, args, measured=change)


def check_divergence(c: Context) -> Finding:
    n = c.loss.size
    if n < th.MIN_BATCHES:
        if c.val.size >= 2 and c.ln_v is not None and c.final_val > c.ln_v + max(c.near_floor, th.DIVERGE_MIN_NATS):
            args = {"final": _r(c.final_val), "ln_v": _r(c.ln_v)}
            return Finding("divergence", "fail", "f.diverge.above_lnv", args, measured=c.final_val, reference=c.ln_v)
        return Finding("divergence", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
    smooth = stats.rolling_median(c.loss, th.SPIKE_WINDOW)
    w = min(th.SPIKE_WINDOW, max(3, n // 4))  # short logs (HF logs every N steps) get a shorter final stretch
    best = float(smooth[: n - w].min())  # the best level before the final stretch
    last = c.loss[-w:]  # the level where the run ends (a tail median would lag a falling curve)
    end = float(np.median(last))
    sd = c.sigma_b if math.isfinite(c.sigma_b) else 0.0
    rise = end - best
    args = {"best": _r(best), "end": _r(end), "rise": _r(rise), "sd": _r(sd), "ln_v": _r(c.ln_v)}
    # the end level is a median of the tail: its standard error is ~1.2533 sd / sqrt(n)
    se_end = 1.2533 * sd / math.sqrt(last.size)
    if c.ln_v is not None and end > c.init_band[1] + th.Z * se_end:
        # worse than any healthy initialisation, at the end of training: blown up, whatever the path
        return Finding("divergence", "fail", "f.diverge.above_lnv", {**args, "final": _r(end)}, measured=end, reference=c.ln_v)
    if rise > max(th.Z * se_end, th.DIVERGE_MIN_NATS):
        if c.ln_v is not None and end > c.ln_v + max(th.DIVERGE_MIN_NATS, th.Z * se_end):
            return Finding("divergence", "fail", "f.diverge.above_lnv", {**args, "final": _r(end)}, measured=end, reference=c.ln_v)
        if c.ln_v is not None and end > c.ln_v - th.DIVERGE_MIN_NATS:
            return Finding("divergence", "fail", "f.diverge.back_to_lnv", args, measured=end, reference=best)
        return Finding("divergence", "fail", "f.diverge.rise", args, measured=end, reference=best)
    return Finding("divergence", "ok", "f.diverge.ok", args, measured=end, reference=best)


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
        memo = _memorisation(c)
        if memo is not None:
            return memo
        return Finding("overfitting", "skipped", "f.overfit.too_few", {"evals": int(c.val.size)})
    i_min = int(np.argmin(c.val))
    vmin, vfinal = float(c.val[i_min]), float(c.val[-1])
    rise = vfinal - vmin
    band = max(th.Z * math.sqrt(2) * (c.band_val / th.Z), th.MIN_BAND)
    train = c.train_epoch_mean
    gaps = c.val - train
    args = {"best": _r(vmin), "best_epoch": _epoch(c.val_epoch[i_min]), "final": _r(vfinal), "rise": _r(rise), "band": _r(band),
            "gap": _r(float(gaps[-1])) if math.isfinite(gaps[-1]) else None}
    fin = np.isfinite(gaps)
    if fin.sum() >= 2:
        slope, _ = stats.linear_trend(gaps[fin], c.val_epoch[fin])
        args["gap_trend"] = _r(slope)
    train_known = bool(np.isfinite(train[-1]) and np.isfinite(train[i_min]))
    train_falling = train_known and i_min < c.val.size - 1 and bool(train[-1] < train[i_min])
    # without batch noise the validation noise is unknown: then only a rise of more than 1% is judged a failure
    noise_known = math.isfinite(c.sigma_val)
    fail_band = band if noise_known else max(band, th.NEAR_FLOOR_REL * vmin)
    if rise > fail_band and train_falling:
        return Finding("overfitting", "fail", "f.overfit.val_rising", args, measured=vfinal, reference=vmin)
    memo = _memorisation(c)
    if memo is not None:
        return memo
    if rise > band:
        key = ("f.overfit.val_up_noise_unknown" if train_falling else
               "f.overfit.val_up_train_flat" if train_known else "f.overfit.val_up_no_train")
        return Finding("overfitting", "warn", key, args, measured=vfinal, reference=vmin)
    return Finding("overfitting", "ok", "f.overfit.ok", args, measured=vfinal, reference=vmin)


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
    band_t = max(th.Z * c.sigma_b / math.sqrt(per_epoch), th.MIN_BAND)
    if t_final >= c.floor - band_t:
        return None
    if c.val.size and c.val.min() < c.val_floor - c.band_val:
        return None  # validation is below the floor too: a leak, not memorisation (below-floor reports it)
    depth = c.floor - t_final
    args = {"train": _r(t_final), "floor": _r(c.floor), "depth": _r(depth), "val": _r(c.final_val), "limit": _r(th.MEMORISE_REL * c.floor),
            "pct": _r(100 * depth / c.floor, 2)}
    if depth > th.MEMORISE_REL * c.floor:
        return Finding("overfitting", "fail", "f.overfit.memorising", args, measured=t_final, reference=c.floor)
    return Finding("overfitting", "warn", "f.overfit.memorising_slight", args, measured=t_final, reference=c.floor)


def check_val_below_train(c: Context) -> Finding:
    if not c.val.size or c.loss.size < 3:
        return Finding("val-below-train", "skipped", "f.vbt.no_data", {})
    # compare the last evaluation with the training level just before it (not the epoch mean, which lags
    # behind a falling curve)
    end_train = float(c.train_at_eval[-1]) if math.isfinite(c.train_at_eval[-1]) else c.tail_level()
    val = c.final_val
    n_tail = min(th.SPIKE_WINDOW, max(3, c.loss.size // 4)) if math.isfinite(c.train_at_eval[-1]) else int(c.tail.sum())
    sd = c.sigma_b if math.isfinite(c.sigma_b) else 0.0
    dropout = c.run.dropout or 0.0
    ref = c.floor if c.floor is not None else 0.0
    allowance = th.Z * sd / math.sqrt(n_tail) + c.band_val + dropout * max(0.0, end_train - ref)
    gap = end_train - val
    args = {"val": _r(val), "train": _r(end_train), "gap": _r(gap), "allowance": _r(allowance), "dropout": dropout}
    if gap > allowance:
        return Finding("val-below-train", "warn", "f.vbt.found", args, measured=val, reference=end_train)
    return Finding("val-below-train", "ok", "f.vbt.ok", args, measured=val, reference=end_train)


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
    args = {"sd": _r(c.sigma_b), "tokens": int(c.tokens_per_batch) if c.tokens_per_batch else None, "n": n, "below": below,
            "share": _r(100 * below / n, 1), "expected_share": _r(100 * expected_share, 1), "mean": _r(mean), "floor": _r(c.floor),
            "min": _r(float(tail.min())), "expected_min": _r(stats.expected_min_of_normals(mean, c.sigma_b, n))}
    if c.tokens_per_batch:
        args["per_token_sd"] = _r(c.sigma_b * math.sqrt(c.tokens_per_batch), 3)
    se_mean = c.sigma_b / math.sqrt(n)
    args["se_mean"] = _r(se_mean)
    if mean < c.floor - max(th.Z * se_mean, th.MIN_BAND):
        # the average itself is below the floor: not noise, the model does better on rows it has seen
        return Finding("batch-noise", "info", "f.noise.mean_below", args, measured=mean, reference=c.floor)
    if below:
        return Finding("batch-noise", "info", "f.noise.dips", args, measured=float(tail.min()), reference=c.floor)
    return Finding("batch-noise", "ok", "f.noise.none", args, measured=float(tail.min()), reference=c.floor)


ALL_CHECKS = (
    check_log, check_nonfinite, check_init, check_floor, check_below_floor, check_uniform_lock, check_no_learning,
    check_progress, check_divergence, check_spikes, check_overfitting, check_val_below_train, check_batch_noise,
)
