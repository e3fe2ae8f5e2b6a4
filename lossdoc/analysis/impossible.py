"""Impossible values: numbers no healthy run can log (non-finite losses, a loss at initialisation outside its
healthy band, a scale that is not a mean per-token loss, validation below an exact floor, an output that
does not depend on its input), and the log's own state.

No torch, no rich: numbers in, Findings out. Rules: docs/verdicts.md; thresholds: thresholds.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lossdoc import floors
from lossdoc.analysis import stats
from lossdoc.analysis import thresholds as th
from lossdoc.analysis.context import Context, _epoch, _r, _source_text
from lossdoc.analysis.model import Finding


def check_log(c: Context) -> Finding:
    run = c.run
    args = {
        "records": run.records_read,
        "skipped": run.records_skipped,
        "format": run.format,
        "batches": len(run.batches),
        "evals": len(run.epochs),
        "status": run.status or "-",
    }
    if any(w.key in ("warn.torn_last_line", "warn.corrupt_lines", "warn.missing_fields") for w in run.warnings):
        return Finding("log", "warn", "f.log.tolerated", args, measured=run.records_read)
    if run.status is None and run.format == "lossdoc":
        return Finding("log", "info", "f.log.no_end", args, measured=run.records_read)
    if run.resumed:
        return Finding("log", "info", "f.log.resumed", args, measured=run.records_read)
    return Finding("log", "ok", "f.log.ok" if run.status else "f.log.ok_nostatus", args, measured=run.records_read)


def check_nonfinite(c: Context) -> Finding:
    b = c.run.batches
    bad_batch = ~np.isfinite(c.batch_loss)
    e = c.run.epochs
    bad_val = (~np.isfinite(e.val_loss)) & ~np.isnan(e.val_loss) if len(e) else np.zeros(0, dtype=bool)
    nan_events = [ev for ev in c.run.events if ev.kind in ("nonfinite_loss", "nonfinite_val")]
    summary = _impossible_summary(c)
    if summary is not None and not bad_batch.any():
        return summary
    if not bad_batch.any() and not bad_val.any() and not nan_events:
        collapse = _scale_collapse(c) or _gradients_never_finite(c)
        return collapse if collapse is not None else Finding("nonfinite-loss", "ok", "f.nonfinite.ok", {})
    if bad_batch.any():
        i = int(np.argmax(bad_batch))
        step = float(b.step[i])
        before = slice(max(0, i - 10), i)
        gn = stats.finite(b.grad_norm[before])
        lr = stats.finite(b.lr[before])
        v = float(b.loss[i])
        if c.zero_filtered and step == c.zero_filtered[0]:
            recent = stats.finite(c.batch_loss[max(0, i - 5) : i])
            args: dict[str, Any] = {"step": int(step), "count": len(c.zero_filtered), "before": _r(float(np.median(recent))) if recent.size else None}
            return Finding("nonfinite-loss", "fail", "f.nonfinite.zero_filtered", args, measured=0.0, reference=args["before"])
        args = {
            "step": int(step),
            "value": "NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity",
            "count": int(bad_batch.sum()),
            "lr": _r(float(lr[-1]), 6) if lr.size else None,
            "grad_max": _r(float(gn.max()), 3) if gn.size else None,
            "grad_median": _r(float(np.median(stats.finite(b.grad_norm[:i]))), 3) if stats.finite(b.grad_norm[:i]).size else None,
        }
        key = "f.nonfinite.batch_grad" if args["grad_max"] is not None else "f.nonfinite.batch"
        return Finding("nonfinite-loss", "fail", key, args, measured=step)
    # the event's step; else the first infinite validation loss's
    step = nan_events[0].step if nan_events else float(e.step[int(np.argmax(bad_val))]) if bad_val.any() else math.nan
    # a validation loss gone NaN (a reader's nonfinite_val event) is named as such
    key = "f.nonfinite.val_event" if nan_events and nan_events[0].kind == "nonfinite_val" else "f.nonfinite.event"
    return Finding("nonfinite-loss", "fail", key, {"step": None if math.isnan(step) else int(step)}, measured=step)


def _gradients_never_finite(c: Context) -> Finding | None:
    """Every gradient norm the log gives is NaN or infinite, at GRAD_NONFINITE_MIN records or more: no update was ever
    finite (the weights are NaN, or every step was skipped), whatever finite losses the log still prints. A few
    non-finite norms among finite ones are fp16's loss scaler finding its scale (those steps are skipped), not this."""
    counts = c.run.config.get("grad_norms") if isinstance(c.run.config, dict) else None
    if not isinstance(counts, dict):
        return None
    logged, nonfinite = counts.get("logged"), counts.get("nonfinite")
    if not isinstance(logged, int) or not isinstance(nonfinite, int) or logged < th.GRAD_NONFINITE_MIN or nonfinite != logged:
        return None
    return Finding("nonfinite-loss", "fail", "f.nonfinite.grad_all", {"count": logged}, measured=float(nonfinite), reference=0.0)


def _scale_collapse(c: Context) -> Finding | None:
    """fp16's dynamic loss scale halves at every overflow: down to 1 (no scaling at all) with SCALE_COLLAPSE_SKIPPED or more
    steps skipped, the gradients overflow even unscaled and the updates are being thrown away, whatever finite losses the
    log still prints (a scale of 1 with nothing skipped is bf16's, which does not scale); unless training still falls
    after that step (the scale came back)."""
    cfg = c.run.config
    low, skipped = cfg.get("loss_scale_min"), cfg.get("skipped_steps")
    if not isinstance(low, (int, float)) or not isinstance(skipped, (int, float)) or low > 1.0 or skipped < th.SCALE_COLLAPSE_SKIPPED:
        return None
    at = cfg.get("loss_scale_min_step")
    after = c.loss[c.step > at] if isinstance(at, (int, float)) else c.loss[:0]
    if after.size // 4 >= 2:
        # the scale came back: training still falls after it (beyond Z standard errors of two quarters' medians, and by
        # MIN_EFFECT_REL), so the updates were not all thrown away
        start, end, se = stats.quarters_change(after)
        if start - end > th.Z * se and start - end >= th.MIN_EFFECT_REL * abs(start):
            return None
    args = {"scale": _r(float(low)), "step": at, "skipped": int(skipped)}
    return Finding("nonfinite-loss", "fail", "f.nonfinite.scale_collapse", args, measured=float(low), reference=1.0)


def _impossible_summary(c: Context) -> Finding | None:
    """A closing summary (the Hugging Face Trainer's ``train_loss``, an average over the whole run) that is not finite
    or above LOSS_CEILING_NATS, beyond any mean per-token cross-entropy of a run that worked: overflow (fp16). Or a
    page of loss values (readers/values.py) one of which is NaN or infinite ("final loss: nan"): the run's loss was not
    a number where the page reports it."""
    values = c.run.config.get("values") if isinstance(c.run.config, dict) else None
    if isinstance(values, list):
        bad = next((v for v in values if isinstance(v, dict) and isinstance(v.get("value"), float) and not math.isfinite(v["value"])), None)
        if bad is not None:
            args = {"name": bad["name"], "value": str(bad["value"]), "line": bad["line"]}
            return Finding("nonfinite-loss", "fail", "f.nonfinite.values", args, measured=bad["value"])
    summary = c.run.config.get("summary") if isinstance(c.run.config, dict) else None
    if not isinstance(summary, dict):
        return None
    value = summary.get("train_loss")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if math.isfinite(value) and value <= th.LOSS_CEILING_NATS:
        return None
    args = {"value": _r(float(value)) if math.isfinite(value) else str(value), "limit": _r(th.LOSS_CEILING_NATS, 2), "step": summary.get("step")}
    return Finding("nonfinite-loss", "fail", "f.nonfinite.summary", args, measured=float(value), reference=th.LOSS_CEILING_NATS)


def check_init(c: Context) -> Finding:
    if c.vocab_size is None:
        return Finding("init-loss", "skipped", "f.skip.vocab", {}, flag="--vocab-size")
    ln_v = math.log(c.vocab_size)
    if c.pretrained and c.first_loss is not None:
        src = c.pretrained_source
        args = {
            "first": _r(c.first_loss),
            "step": _epoch(c.first_loss_step) if c.first_loss_step is not None else "-",
            "ln_v": _r(ln_v),
            "source": _source_text(src),
        }
        key = "f.init.pretrained_high" if c.first_loss > ln_v else "f.init.pretrained"
        return Finding("init-loss", "info", key, args, measured=c.first_loss, reference=ln_v)
    if c.init is None:
        return Finding("init-loss", "skipped", "f.init.not_logged", {"first_step": None if c.first_step is None else int(c.first_step)})
    sd = c.init_logit_std
    expected = floors.expected_init_loss_exact(c.vocab_size, sd) if sd is not None else ln_v
    low, high = c.init_band
    excess = c.init - ln_v
    implied = floors.implied_logit_std(c.vocab_size, c.init) if c.init > high or c.init < low else (math.sqrt(2 * excess) if excess > 0 else 0.0)
    args = {
        "init": _r(c.init),
        "ln_v": _r(ln_v),
        "vocab": c.vocab_size,
        "expected": _r(expected),
        "low": _r(low),
        "high": _r(high),
        "excess": _r(excess),
        "implied_std": _r(implied, 3),
        "std": _r(sd, 3) if sd is not None else None,
        "half_var": _r(sd * sd / 2, 4) if sd is not None else None,
    }
    vsrc = c.run.sources.get("vocab_size")
    if (c.init > high or c.init < low) and vsrc is not None and vsrc.kind == "default":
        # V is only the script's default: the first loss says the run used another vocabulary
        args["implied_v"] = int(round(math.exp(min(c.init, 40.0))))
        return Finding("init-loss", "warn", "f.init.default_vocab", args, measured=c.init, reference=expected, flag="--vocab-size")
    if c.init > high:
        ratio = c.init / ln_v
        if abs(c.init - ln_v / math.log(2)) <= 0.05 * ln_v / math.log(2):
            key = "f.init.log2"
        else:
            key = "f.init.high"
        args["ratio"] = _r(ratio, 2)
        return Finding("init-loss", "fail", key, args, measured=c.init, reference=expected)
    if c.init < low and c.init >= ln_v * (1.0 - th.INIT_TIED_REL):
        # a little below ln V: a model whose output layer shares the input embedding scores the current token high,
        # and on text the next token often repeats it (spaces, doubled letters). A leak shows later, far lower.
        args["limit"] = _r(ln_v * (1.0 - th.INIT_TIED_REL))
        return Finding("init-loss", "warn", "f.init.low_tied", args, measured=c.init, reference=expected)
    if c.init < low:
        return Finding("init-loss", "fail", "f.init.low", args, measured=c.init, reference=expected)
    key = "f.init.ok_std" if sd is not None and excess > 0 else "f.init.ok"
    return Finding("init-loss", "ok", key, args, measured=c.init, reference=expected)


def check_scale(c: Context) -> Finding:
    """Numbers that cannot be a mean per-token cross-entropy: a training loss many times the validation
    loss, or a loss implausibly low on unseen real data within the first epoch (padding in the loss)."""
    if c.scaled is not None:
        args = {k: v if k == "pairs" else _r(v, 2) if k == "ratio" else _r(v) for k, v in c.scaled.items()}
        return Finding("scale", "warn", "f.scale.train_vs_val", args, measured=c.scaled["train"], reference=c.scaled["val"])
    if c.eval_multiple is not None:
        args = {k: v if k in ("k", "pairs") else _r(v, 2) if k == "ratio" else _r(v) for k, v in c.eval_multiple.items()}
        return Finding("scale", "warn", "f.scale.eval_multiple", args, measured=c.eval_multiple["val"], reference=c.eval_multiple["train"])
    if c.stale_evals is not None:
        args = {k: v if k in ("count", "left_out") else _r(v) for k, v in c.stale_evals.items()}
        return Finding("scale", "warn", "f.scale.stale_evals", args, measured=c.stale_evals["value"])
    b = c.run.batches
    if c.real_data and len(b) and np.isfinite(b.epoch).any():
        first_epoch = (b.epoch <= 1.0) & np.isfinite(c.batch_loss)
        if first_epoch.sum() >= 3:
            # the running level (a median of up to 21 logged losses), not one lucky batch
            low = stats.rolling_median(c.batch_loss[first_epoch], th.SPIKE_WINDOW)
            i = int(np.argmin(low))
            if low[i] < th.FIRST_EPOCH_LOW_NATS:
                args = {"value": _r(float(low[i])), "step": int(b.step[first_epoch][i]), "limit": th.FIRST_EPOCH_LOW_NATS}
                return Finding("scale", "warn", "f.scale.first_epoch_low", args, measured=float(low[i]), reference=th.FIRST_EPOCH_LOW_NATS)
    return Finding("scale", "ok", "f.scale.ok", {})


def check_below_floor(c: Context) -> Finding:
    if c.floor is None:
        return Finding("below-floor", "skipped", "f.skip.floor", {}, flag="--floor or --random")
    val_floor = c.val_floor if c.val_floor is not None else c.floor
    vals = c.val
    tail = c.tail_level()
    args = {"floor": _r(val_floor), "band": _r(c.band_val)}
    shift = c.facts.get("hf_shift")
    if shift is not None:
        exact = c.run.entropy_floor
        args.update(t=shift, exact=_r(exact), ratio=_r((shift - 1) / shift, 4))
    if vals.size and vals.min() < val_floor - c.band_val:
        args.update(best=_r(float(vals.min())), gap=_r(val_floor - float(vals.min())))
        return Finding("below-floor", "fail", "f.below.val", args, measured=float(vals.min()), reference=val_floor)
    if tail is not None and math.isfinite(c.sigma_b):
        # training batches far below the floor with nothing evaluated: the same impossibility
        n_tail = int(c.tail.sum())
        band_t = max(c.z_b * c.level_se(n_tail), c.min_band)
        if not vals.size and tail < c.floor - max(band_t, th.MEMORISE_REL * c.floor):
            args.update(best=_r(tail), gap=_r(c.floor - tail))
            return Finding("below-floor", "fail", "f.below.train", args, measured=tail, reference=c.floor)
    if shift is not None:
        return Finding("below-floor", "warn", "f.below.hf_shift", args, measured=c.best_val if c.best_val is not None else tail, reference=val_floor)
    return Finding("below-floor", "ok", "f.below.ok", args, measured=c.best_val, reference=val_floor)


def _padded_sizes(v: int) -> list[int]:
    sizes = {v}
    for m in th.PADDED_MULTIPLES:
        sizes.add(-(-v // m) * m)
    return sorted(sizes)


def _constant_end(loss: np.ndarray, tol: float = th.CONSTANT_TOL) -> tuple[float, int] | None:
    """(level, length) of the run of identical losses (to ``tol``) that ends the log, if it is at least CONSTANT_RUN
    long."""
    if loss.size < th.CONSTANT_RUN:
        return None
    last = float(loss[-1])
    k = 0
    for x in loss[::-1]:
        if abs(float(x) - last) > tol:
            break
        k += 1
    return (last, k) if k >= th.CONSTANT_RUN else None


def check_uniform_lock(c: Context) -> Finding:
    # (a loss on a tiny scale: to its own scale, and at least ZERO_TOL: a loss of 1e-9 at every record is 0 in float32)
    tol = max(th.CONSTANT_TOL * c.min_band / th.MIN_BAND, th.ZERO_TOL)
    const = _constant_end(c.loss, tol)
    if const is not None and abs(const[0]) <= tol and const[1] == c.loss.size and const[1] >= th.ZERO_RUN:
        # exactly 0 at every record from the first: no loss is being computed (no tokens, every label masked, a loss
        # multiplied by 0). A model that memorised its data shows the fall into 0; this log never had a loss to fall
        args: dict[str, Any] = {"count": const[1], "step": int(c.step[-1])}
        return Finding("uniform-lock", "fail", "f.uniform.zero", args, measured=0.0)
    if const is not None and const[0] > 0.5 and not c.random_data:
        # Different batches give the same loss to 1e-4: the output does not depend on the input. The
        # one output that scores the same on every batch is the uniform distribution, at ln(e^L ids).
        level, k = const
        before = c.loss[: c.loss.size - k]
        n_ids = int(round(math.exp(min(level, 40.0))))
        args = {
            "level": _r(level, 5),
            "count": k,
            "n_ids": n_ids,
            "ln_v": _r(c.ln_v),
            "best": _r(float(before.min())) if before.size else None,
            "step": int(c.step[c.loss.size - k]),
        }
        collapsed = before.size and float(before.min()) < level - th.DIVERGE_MIN_NATS * 5
        at_ln_v = c.vocab_size is not None and any(abs(level - math.log(sz)) <= th.UNIFORM_LOCK_NATS for sz in _padded_sizes(c.vocab_size))
        if (c.floor is None or c.floor < level - th.UNIFORM_LOCK_NATS - c.near_floor) and (collapsed or not at_ln_v):
            key = "f.uniform.collapsed" if collapsed else "f.uniform.constant"
            return Finding("uniform-lock", "fail", key, args, measured=level, reference=c.ln_v if c.ln_v else math.log(n_ids))
    if c.vocab_size is None:
        return Finding("uniform-lock", "skipped", "f.skip.vocab", {}, flag="--vocab-size")
    lost = _pretrained_at_ln_v(c)
    if lost is not None:
        return lost
    end_level = c.tail_level()
    if end_level is None or not math.isfinite(c.sigma_b):
        end_level = c.final_val
        sd = c.band_val / th.Z
    else:
        sd = c.sigma_b
    if end_level is None:
        return Finding("uniform-lock", "skipped", "f.uniform.no_data", {})
    level = end_level
    for size in _padded_sizes(c.vocab_size):
        ref = math.log(size)
        if abs(level - ref) <= th.UNIFORM_LOCK_NATS and sd < th.UNIFORM_LOCK_SD:
            args = {"level": _r(level, 5), "size": size, "ln_size": _r(ref, 5), "sd": _r(sd, 5)}
            # on data with (almost) nothing to learn, a uniform output is the optimum, not a failure
            if c.floor is not None and c.floor >= ref - th.UNIFORM_LOCK_NATS - c.near_floor:
                return Finding("uniform-lock", "ok", "f.uniform.optimal", args, measured=level, reference=ref)
            if c.floor is None and c.data_text:
                # the log says the data is text (or the run is a fine-tune): a uniform output is a dead output layer
                return Finding("uniform-lock", "fail", "f.uniform.locked_unknown", args, measured=level, reference=ref)
            if c.floor is None:
                # random data (optimum) or a dead output layer (failure): only the floor tells them apart
                return Finding("uniform-lock", "warn", "f.uniform.unknown_floor", args, measured=level, reference=ref, flag="--random or --floor")
            return Finding("uniform-lock", "fail", "f.uniform.locked", args, measured=level, reference=ref)
    if (
        c.floor is not None
        and c.ln_v is not None
        and c.floor >= c.ln_v - th.UNIFORM_LOCK_NATS - c.near_floor
        and abs(level - c.floor) <= c.near_floor
    ):
        # random ids: at the floor, the outputs are as close to uniform as the data allows, which is the optimum
        args = {"level": _r(level, 5), "ln_v": _r(c.ln_v), "floor": _r(c.floor), "near": _r(c.near_floor)}
        return Finding("uniform-lock", "ok", "f.uniform.optimal_near", args, measured=level, reference=c.floor)
    return Finding("uniform-lock", "ok", "f.uniform.ok", {"level": _r(level)}, measured=level)


def _pretrained_at_ln_v(c: Context) -> Finding | None:
    """A pretrained model whose last losses (up to 3 evaluations, else up to 3 batch levels) are all at or above
    ln V: no better than a uniform guess over its vocabulary, so whatever it knew is gone (a learning rate far too
    high, a wrong tokenizer or label mapping). Two such points are enough: a pretrained start is far below ln V."""
    if not c.pretrained or c.ln_v is None:
        return None
    if c.val.size:
        last, where = c.val[-min(3, c.val.size) :], "val"
    elif c.loss.size:
        last, where = c.loss[-min(3, c.loss.size) :], "train"
    else:
        return None
    bar = c.ln_v - th.INIT_BAND_LOW_NATS
    if last.size < 2 and not (c.val.size and c.loss.size and float(np.median(c.loss[-3:])) >= bar):
        return None  # one point alone is not a level
    if not bool(np.all(last >= bar)):
        return None
    level = float(np.median(last))
    args = {
        "level": _r(level),
        "ln_v": _r(c.ln_v),
        "vocab": c.vocab_size,
        "count": int(last.size),
        "series": where,
        "source": _source_text(c.pretrained_source),
    }
    return Finding("uniform-lock", "fail", "f.uniform.pretrained_lost", args, measured=level, reference=c.ln_v)


def _identical_evals(val: np.ndarray) -> tuple[float, int] | None:
    """The longest run of identical evaluation losses, if at least IDENTICAL_EVALS long."""
    best: tuple[float, int] | None = None
    i = 0
    while i < val.size:
        j = i
        while j + 1 < val.size and val[j + 1] == val[i]:
            j += 1
        if j - i + 1 >= th.IDENTICAL_EVALS and (best is None or j - i + 1 > best[1]):
            best = (float(val[i]), j - i + 1)
        i = j + 1
    return best
