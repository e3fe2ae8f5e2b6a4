"""The checks: one function per finding code, each taking the measured context.

No torch, no rich: numbers in, Findings out. Rules and thresholds are in
docs/verdicts.md; thresholds themselves live in thresholds.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lossdoc import floors
from lossdoc.analysis import stats
from lossdoc.analysis import thresholds as th
from lossdoc.analysis.model import Finding
from lossdoc.runlog.run import FactSource, Run


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
    batch_loss: np.ndarray = field(default_factory=lambda: np.empty(0))  # every batch loss, filtered zeros as NaN
    zero_filtered: list[float] = field(default_factory=list)  # steps whose logged 0.0 stands for a non-finite loss
    scaled: dict | None = None  # the training loss is not a mean per-token loss (ratio to validation): batches unused
    eval_multiple: dict | None = None  # the evaluation loss is k x the training level (summed over k processes): read / k
    pretrained: bool | None = None
    pretrained_source: object | None = None  # FactSource
    unigram_est: float | None = None  # Zipf estimate of a unigram model's loss on natural text with V ids
    val_step: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_noise_source: str | None = None  # tokens | series | None
    first_loss: float | None = None  # the first logged loss (training, else validation after the start)
    first_loss_step: float | None = None
    last_step: float | None = None
    facts: dict = field(default_factory=dict)

    @property
    def val_led(self) -> bool:
        return self.val.size >= th.MIN_EVALS_LEAD

    @property
    def real_data(self) -> bool:
        """Not random ids and no exact floor: natural data, whose floor is unknown."""
        return not self.random_data and self.floor is None

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
        if self.vocab_size is None:
            raise ValueError("the init band needs the vocabulary size")
        if "init_band" not in self.facts:
            self.facts["init_band"] = floors.init_loss_band(self.vocab_size, self.init_logit_std or 0.0)
        return self.facts["init_band"]

    def tail_level(self) -> float | None:
        return float(np.median(self.loss[self.tail])) if self.tail.any() else None


def _filter_zeros(step: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """A logged 0.0 right after real losses is what the HF Trainer writes when every loss in the
    logging window was NaN/inf (logging_nan_inf_filter): no mean cross-entropy on real data is
    exactly 0. Those become NaN, so the non-finite check sees them."""
    loss = loss.copy()
    steps: list[float] = []
    zeros = np.flatnonzero(loss == 0.0)
    for i in zeros:
        before = loss[max(0, i - 5) : i]
        before = before[np.isfinite(before) & (before != 0.0)]
        if before.size and float(np.median(before)) > th.ZERO_AFTER:
            loss[i] = np.nan
            steps.append(float(step[i]))
    return loss, steps


def _val_series_noise(val: np.ndarray) -> float:
    """Sd of one validation loss from the series itself: robust sd of its second differences over
    sqrt(6) (for y = m + e with a smooth m, y_t - 2 y_t-1 + y_t-2 has sd sqrt(6) sd(e)), on the
    last half of the series (at least 4 evaluations), where the curve bends least. NaN for fewer
    than 4 evaluations."""
    v = stats.finite(val)
    if v.size < 4:
        return math.nan
    d2 = np.diff(v[-max(4, v.size // 2) :], n=2)
    return stats.mad_sd(d2) / math.sqrt(6.0)


def build_context(run: Run) -> Context:
    """Measure a Run once for every check: the finite batches, the evaluations after training started,
    the two ways a logged loss may not be a mean per-token loss, noise levels, the loss at initialisation
    and whether the run started from pretrained weights.

    (Over 80 lines only because the Context it returns takes one line for each of its 30 measurements; the
    measuring is the named steps above it.)"""
    b = run.batches
    batch_loss, zero_steps = _filter_zeros(b.step, b.loss)
    ok = np.isfinite(batch_loss)
    step, loss = b.step[ok], batch_loss[ok]
    lr, grad_norm = b.lr[ok], b.grad_norm[ok]
    val_epoch, val, val_tokens, val_step = _evaluations(run)

    train_at_eval = _level_before(step, loss, val_step)
    scaled, eval_multiple = _not_mean_losses(train_at_eval, val)
    if scaled is not None:  # the batches say nothing about the curve: left out, validation leads
        step, loss, lr, grad_norm = step[:0], loss[:0], lr[:0], grad_norm[:0]
        train_at_eval = np.full(val.size, np.nan)
    if eval_multiple is not None:
        val = val / eval_multiple["k"]

    n = loss.size
    tail = np.zeros(n, dtype=bool)
    if n:
        # the last quarter, at least MIN_TAIL batches, but never more than half a short log (else "the end"
        # would hold the early fall of a 10- or 30-record log)
        tail[n - max(min(th.MIN_TAIL, n // 2), int(math.ceil(th.TAIL_FRACTION * n))) :] = True
    # the noise from at least MIN_TAIL records even so: a sd from 4 or 5 differences is itself too noisy
    noise_from = loss[-max(th.MIN_TAIL, int(math.ceil(th.TAIL_FRACTION * n))) :]
    sigma_b = stats.diff_noise_sd(noise_from) if n >= 3 else math.nan
    tok = stats.finite(b.tokens)
    tpb = float(np.median(tok)) if tok.size else run.batch_tokens
    sel = _after_start(run.epochs)
    train_epoch = run.epochs.train_loss[sel] if scaled is None else np.full(val.size, np.nan)
    train_mean = np.where(np.isfinite(train_epoch), train_epoch, train_at_eval)
    sigma_val, noise_source, band_val = _val_noise(sigma_b, tpb, val, val_tokens)

    init, init_source, first_step = _init_loss(run, batch_loss, scaled, eval_multiple)
    first_loss, first_loss_step = (float(loss[0]), float(step[0])) if n else (None, None)
    if val.size and (first_loss_step is None or (math.isfinite(val_step[0]) and val_step[0] < first_loss_step)):
        first_loss, first_loss_step = float(val[0]), float(val_step[0]) if math.isfinite(val_step[0]) else None
    if init is not None:
        first_loss, first_loss_step = init, 0.0
    steps_all = np.concatenate([step, val_step[np.isfinite(val_step)]])
    last_step = float(steps_all.max()) if steps_all.size else None

    v = run.vocab_size
    real = not run.random_data and run.entropy_floor is None
    # the level of a model that knows only token frequencies: measured on the data when the log carries it
    # (lossdoc's text runs), else the Zipf estimate for V ids of natural text
    unigram_est = run.unigram_xent or run.unigram_entropy or (floors.zipf_entropy(v, 1.0) if v and v <= 10**7 else None) if real else None
    pretrained, p_source = _pretrained_start(run, real, init, init_source, first_loss, first_loss_step, last_step, unigram_est)
    floor = run.entropy_floor
    vsrc = run.sources.get("vocab_size")
    if v and vsrc is not None and vsrc.kind == "default" and init is not None and floor is not None:
        low, high = floors.init_loss_band(v, run.init_logit_std or 0.0)
        if not low <= init <= high:
            floor = None  # V is only a script's default and the first loss says otherwise: a floor from it would mislead
    return Context(
        run=run,
        vocab_size=v,
        ln_v=math.log(v) if v else None,
        floor=floor,
        val_floor=(run.val_floor_sample if run.val_floor_sample is not None else floor) if floor is not None else None,
        random_data=run.random_data,
        step=step,
        loss=loss,
        lr=lr,
        grad_norm=grad_norm,
        tail=tail,
        sigma_b=sigma_b,
        tokens_per_batch=tpb,
        val_epoch=val_epoch,
        val=val,
        val_tokens=val_tokens,
        train_epoch_mean=train_mean,
        train_at_eval=train_at_eval,
        sigma_val=sigma_val,
        band_val=band_val,
        init=init,
        init_source=init_source,
        first_step=first_step,
        init_logit_std=run.init_logit_std,
        batch_loss=batch_loss,
        zero_filtered=zero_steps,
        scaled=scaled,
        eval_multiple=eval_multiple,
        pretrained=pretrained,
        pretrained_source=p_source,
        unigram_est=unigram_est,
        val_step=val_step,
        val_noise_source=noise_source,
        first_loss=first_loss,
        first_loss_step=first_loss_step,
        last_step=last_step,
    )


def _after_start(e) -> np.ndarray:
    """Evaluations after training started with a finite loss: everything but the measurement at epoch 0 /
    step 0 (HF logs fractional epochs like 0.5; Keras-style logs have no step at all)."""
    if not len(e):
        return np.zeros(0, dtype=bool)
    return ~((e.epoch == 0) | (e.step == 0)) & np.isfinite(e.val_loss)


def _evaluations(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(epoch, loss, tokens, step) of the evaluations after the start; an evaluation without an epoch is
    numbered by its place."""
    e = run.epochs
    sel = _after_start(e)
    val_epoch, val, val_tokens, val_step = e.epoch[sel], e.val_loss[sel], e.val_tokens[sel], e.step[sel]
    if val.size and not np.isfinite(val_epoch).all():
        val_epoch = np.where(np.isfinite(val_epoch), val_epoch, np.arange(1, val.size + 1, dtype=np.float64))
    return val_epoch, val, val_tokens, val_step


def _level_before(step: np.ndarray, loss: np.ndarray, val_step: np.ndarray) -> np.ndarray:
    """The training level at each evaluation: the median of the batches just before its step (NaN where
    none is logged)."""
    n = loss.size
    w = min(th.SPIKE_WINDOW, max(3, n // 4)) if n else 0
    out = np.full(val_step.size, np.nan)
    for i, s in enumerate(val_step):
        if n and math.isfinite(s):
            k = int(np.searchsorted(step, s, side="right"))  # steps are sorted: O(log n) per evaluation
            before = loss[max(0, k - w) : k]
            if before.size:
                out[i] = float(np.median(before))
    return out


def _not_mean_losses(train_at_eval: np.ndarray, val: np.ndarray) -> tuple[dict | None, dict | None]:
    """(scaled, eval_multiple): the two ways the logged numbers are not both mean per-token losses.

    scaled: a training loss many times the validation loss at the same steps (summed over gradient
    accumulation, or not divided by the token count). eval_multiple: the other way round, an evaluation
    loss that is the same whole multiple k >= 2 of the training level at every evaluation, a sum over k
    processes where a mean was meant (an all-reduce SUM not divided by the world size)."""
    pair = np.isfinite(train_at_eval) & (val > 0)
    if pair.sum() >= 2:
        ratio = float(np.median(train_at_eval[pair] / val[pair]))
        diff = float(np.median(train_at_eval[pair] - val[pair]))
        if ratio > th.SCALE_RATIO and diff > th.SCALE_MIN_NATS:
            return {
                "ratio": ratio,
                "train": float(np.median(train_at_eval[pair][-3:])),
                "val": float(np.median(val[pair][-3:])),
                "pairs": int(pair.sum()),
            }, None
    if pair.sum() >= th.EVAL_MULTIPLE_MIN_EVALS:
        r = val[pair] / train_at_eval[pair]
        k = int(round(float(np.median(r))))
        if k >= 2 and bool(np.all(np.abs(r / k - 1.0) <= th.EVAL_MULTIPLE_TOL)):
            return None, {
                "k": k,
                "ratio": float(np.median(r)),
                "val": float(np.median(val[pair][-3:])),
                "train": float(np.median(train_at_eval[pair][-3:])),
                "pairs": int(pair.sum()),
            }
    return None, None


def _val_noise(sigma_b: float, tpb: float | None, val: np.ndarray, val_tokens: np.ndarray) -> tuple[float, str | None, float]:
    """(sigma_val, its source, band): the standard error of one validation loss, from the per-token sd (the
    batch noise) over sqrt(validation tokens); without token counts, from the validation series itself
    (never from one batch's noise)."""
    sigma_val, noise_source = math.nan, None
    vt = stats.finite(val_tokens)
    if math.isfinite(sigma_b) and tpb and vt.size:
        sigma_val, noise_source = sigma_b * math.sqrt(tpb) / math.sqrt(float(np.median(vt))), "tokens"
    else:
        sv = _val_series_noise(val)
        if math.isfinite(sv):
            sigma_val, noise_source = max(sv, th.MIN_BAND / th.Z), "series"
    band_val = max(th.Z * sigma_val, th.MIN_BAND) if math.isfinite(sigma_val) else th.MIN_BAND
    return sigma_val, noise_source, band_val


def _init_loss(run: Run, batch_loss: np.ndarray, scaled: dict | None, eval_multiple: dict | None) -> tuple[float | None, str | None, float | None]:
    """(init, its source, first step): the loss before any update (an evaluation at epoch 0, else its
    training loss, else the batch at step <= INIT_FIRST_STEP_MAX); a training loss that is not a mean
    per-token loss is never used."""
    e, b = run.epochs, run.batches
    init, init_source, first_step = None, None, None
    e0 = (e.epoch == 0) if len(e) else np.zeros(0, dtype=bool)
    if e0.any():
        v0 = e.val_loss[e0][0] / (eval_multiple["k"] if eval_multiple else 1)
        t0 = e.train_loss[e0][0]
        init = float(v0) if math.isfinite(v0) else float(t0) if math.isfinite(t0) and scaled is None else None
        init_source = "epoch0" if init is not None else None
    if len(b):
        first_step = float(b.step[0])
        if init is None and scaled is None and b.step[0] <= th.INIT_FIRST_STEP_MAX and math.isfinite(batch_loss[0]):
            init, init_source = float(batch_loss[0]), "step1"
    return init, init_source, first_step


def _pretrained_start(
    run: Run,
    real: bool,
    init: float | None,
    init_source: str | None,
    first_loss: float | None,
    first_loss_step: float | None,
    last_step: float | None,
    unigram_est: float | None,
) -> tuple[bool | None, object | None]:
    """(pretrained, its FactSource): read from the log, else inferred on real data from a loss below ln V
    before any update, or from a first loss below the unigram level early in the run."""
    pretrained, p_source = run.pretrained, run.sources.get("pretrained")
    v = run.vocab_size
    if pretrained is None and real and v and init is not None and init < math.log(v) - th.INIT_BAND_LOW_NATS:
        # below ln V before any update: a freshly initialised model cannot do that, whatever its labels
        pretrained = True
        p_source = FactSource("inferred", "where.init_below_ln_v", (("loss", round(init, 4)), ("ln_v", round(math.log(v), 4))))
    if pretrained is None and real and first_loss is not None and first_loss_step is not None and init_source != "epoch0":
        early = first_loss_step <= max(th.PRETRAINED_EARLY_STEPS, th.PRETRAINED_EARLY_FRACTION * (last_step or 0))
        limit = th.PRETRAINED_UNIGRAM_REL * unigram_est if unigram_est is not None else th.PRETRAINED_ANY_V_LOSS
        if early and first_loss < limit:
            pretrained = True
            p_source = FactSource(
                "inferred", "where.first_loss", (("loss", round(first_loss, 4)), ("step", int(first_loss_step)), ("limit", round(limit, 2)))
            )
    return pretrained, p_source


# --------------------------------------------------------------------------- checks


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
    if not bad_batch.any() and not bad_val.any() and not nan_events:
        return Finding("nonfinite-loss", "ok", "f.nonfinite.ok", {})
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
    step = nan_events[0].step if nan_events else math.nan
    return Finding("nonfinite-loss", "fail", "f.nonfinite.event", {"step": None if math.isnan(step) else int(step)}, measured=step)


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
    if c.init < low:
        return Finding("init-loss", "fail", "f.init.low", args, measured=c.init, reference=expected)
    key = "f.init.ok_std" if sd is not None and excess > 0 else "f.init.ok"
    return Finding("init-loss", "ok", key, args, measured=c.init, reference=expected)


def _source_text(src) -> dict | str:
    """A fact's source for a sentence: rendered in the reader's language by the renderer."""
    return "-" if src is None else {"kind": src.kind, "where": src.where, "args": dict(src.args)}


def check_scale(c: Context) -> Finding:
    """Numbers that cannot be a mean per-token cross-entropy: a training loss many times the validation
    loss, or a loss implausibly low on unseen real data within the first epoch (padding in the loss)."""
    if c.scaled is not None:
        args = {k: v if k == "pairs" else _r(v, 2) if k == "ratio" else _r(v) for k, v in c.scaled.items()}
        return Finding("scale", "warn", "f.scale.train_vs_val", args, measured=c.scaled["train"], reference=c.scaled["val"])
    if c.eval_multiple is not None:
        args = {k: v if k in ("k", "pairs") else _r(v, 2) if k == "ratio" else _r(v) for k, v in c.eval_multiple.items()}
        return Finding("scale", "warn", "f.scale.eval_multiple", args, measured=c.eval_multiple["val"], reference=c.eval_multiple["train"])
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


def check_floor(c: Context) -> Finding:
    if c.floor is None:
        flag = "--floor or --random" if c.vocab_size else "--vocab-size with --random, or --floor"
        return Finding("floor", "skipped", "f.skip.floor", {}, flag=flag)
    if c.best_val is None:
        return Finding("floor", "skipped", "f.floor.no_val", {})
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


def check_below_floor(c: Context) -> Finding:
    if c.floor is None:
        return Finding("below-floor", "skipped", "f.skip.floor", {}, flag="--floor or --random")
    val_floor = c.val_floor if c.val_floor is not None else c.floor
    vals = c.val
    tail = c.tail_level()
    args = {"floor": _r(val_floor), "band": _r(c.band_val)}
    if vals.size and vals.min() < val_floor - c.band_val:
        args.update(best=_r(float(vals.min())), gap=_r(val_floor - float(vals.min())))
        return Finding("below-floor", "fail", "f.below.val", args, measured=float(vals.min()), reference=val_floor)
    if tail is not None and math.isfinite(c.sigma_b):
        # training batches far below the floor with nothing evaluated: the same impossibility
        n_tail = int(c.tail.sum())
        band_t = max(th.Z * c.sigma_b / math.sqrt(n_tail), th.MIN_BAND)
        if not vals.size and tail < c.floor - max(band_t, th.MEMORISE_REL * c.floor):
            args.update(best=_r(tail), gap=_r(c.floor - tail))
            return Finding("below-floor", "fail", "f.below.train", args, measured=tail, reference=c.floor)
    return Finding("below-floor", "ok", "f.below.ok", args, measured=c.best_val, reference=val_floor)


def _padded_sizes(v: int) -> list[int]:
    sizes = {v}
    for m in th.PADDED_MULTIPLES:
        sizes.add(-(-v // m) * m)
    return sorted(sizes)


def _constant_end(loss: np.ndarray) -> tuple[float, int] | None:
    """(level, length) of the run of identical losses that ends the log, if it is at least CONSTANT_RUN long."""
    if loss.size < th.CONSTANT_RUN:
        return None
    last = float(loss[-1])
    k = 0
    for x in loss[::-1]:
        if abs(float(x) - last) > th.CONSTANT_TOL:
            break
        k += 1
    return (last, k) if k >= th.CONSTANT_RUN else None


def check_uniform_lock(c: Context) -> Finding:
    const = _constant_end(c.loss)
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
            if c.floor is None and not c.pretrained and c.run.sources.get("random_data") is None and c.run.format != "lossdoc":
                # a from-scratch run on data not known to be random: a dead output layer; random ids would say --random
                return Finding("uniform-lock", "fail", "f.uniform.locked_unknown", args, measured=level, reference=ref, flag="--random")
            if c.floor is None:
                # random data (optimum) or a dead output layer (failure): only the floor tells them apart
                return Finding("uniform-lock", "warn", "f.uniform.unknown_floor", args, measured=level, reference=ref, flag="--random or --floor")
            return Finding("uniform-lock", "fail", "f.uniform.locked", args, measured=level, reference=ref)
    return Finding("uniform-lock", "ok", "f.uniform.ok", {"level": _r(level)}, measured=level)


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


def check_no_learning(c: Context) -> Finding:
    """Did the loss move beyond its noise? Validation is compared with validation (epoch 0 vs last),
    training batches with training batches (the first ones vs the end of the run)."""
    lrs = stats.finite(c.lr)
    same = _identical_evals(c.val)
    if same is not None:
        return Finding("no-learning", "fail", "f.nolearn.identical_evals", {"value": _r(same[0]), "count": same[1]}, measured=same[0])
    stuck = _stuck_at_unigram(c)
    if stuck is not None:
        return stuck
    moves: list[tuple[float, float, float, float]] = []  # (start, end, change, band)
    if c.init is not None and c.init_source == "epoch0" and c.val.size:
        sd = c.band_val / th.Z
        moves.append((c.init, float(c.val[-1]), c.init - float(c.val[-1]), max(th.Z * math.sqrt(2) * sd, th.MIN_BAND)))
    n = c.loss.size
    if n >= th.MIN_BATCHES and math.isfinite(c.sigma_b):
        k = max(3, min(10, n // 4))
        start, end = float(np.median(c.loss[:k])), float(np.median(c.loss[c.tail]))
        se = 1.2533 * c.sigma_b * math.sqrt(1.0 / k + 1.0 / int(c.tail.sum()))  # sd of a median is ~1.2533 sd/sqrt(n)
        moves.append((start, end, start - end, max(th.Z * se, th.MIN_BAND)))
        # and the first logged loss alone, with the error of one record: a short log (a Hugging Face record is an
        # average over many steps) may have made its whole drop before the median of its first k records
        first = float(c.loss[0])
        se1 = math.hypot(_first_record_sd(c), 1.2533 * c.sigma_b / math.sqrt(int(c.tail.sum())))
        moves.append((first, end, first - end, max(th.Z * se1, th.MIN_BAND)))
    if not moves:
        return Finding("no-learning", "skipped", "f.nolearn.no_data", {})
    moved = next((m for m in moves if abs(m[2]) > m[3]), None)
    start, end, change, band = moved or moves[0]
    args = {"init": _r(start), "end": _r(end), "moved": _r(change), "band": _r(band), "lr_max": _r(float(lrs.max()), 8) if lrs.size else None}
    lr_zero = bool(lrs.size and lrs.max() == 0)
    if c.floor is not None and start - (c.val_floor if c.val_floor is not None else c.floor) <= 2 * band and not lr_zero:
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
    if c.val_led:
        return _progress_evals(c)
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
    args = {
        "change": _r(change),
        "drop": _r(-change),
        "se": _r(se * span),
        "z": _r(z, 1),
        "span": _epoch(span),
        "source": source,
        "per_1k": _r(slope * 1000, 4),
    }
    suffix = "" if source == "batches" else "_evals"
    if z < -th.Z:
        return Finding("progress", "info", "f.progress.improving" + suffix, args, measured=change)
    if z > th.Z:
        return Finding("progress", "warn", "f.progress.rising" + suffix, args, measured=change)
    return Finding("progress", "ok", "f.progress.settled" + suffix, args, measured=change)


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
    se_change = (c.sigma_val * math.sqrt(2.0)) if math.isfinite(c.sigma_val) else (se * span if math.isfinite(se) else math.nan)
    se_change = max(se_change, th.MIN_BAND) if math.isfinite(se_change) else th.MIN_BAND
    z = change / se_change
    rel = slope / avg_slope if math.isfinite(avg_slope) and avg_slope < 0 else math.nan
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
    if z < -th.Z and (not math.isfinite(rel) or rel >= th.FLAT_SLOPE_REL):
        return Finding("progress", "info", "f.progress.val_improving", args, measured=change)
    if z > th.Z:
        return Finding("progress", "warn", "f.progress.val_rising", args, measured=change)
    key = "f.progress.val_flattened" if z < -th.Z else "f.progress.val_settled"
    return Finding("progress", "ok", key, args, measured=change)


def check_divergence(c: Context) -> Finding:
    n = c.loss.size
    if n < th.MIN_BATCHES:
        final = float(c.val[-1]) if c.val.size else math.nan
        if c.val.size >= 2 and c.ln_v is not None and final > c.ln_v + max(c.near_floor, th.DIVERGE_MIN_NATS):
            args = {"final": _r(final), "ln_v": _r(c.ln_v)}
            return Finding("divergence", "fail", "f.diverge.above_lnv", args, measured=final, reference=c.ln_v)
        return Finding("divergence", "skipped", "f.progress.too_short", {"batches": n, "evals": int(c.val.size)})
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
        se_i = 1.2533 * sd / math.sqrt(size)
        best_i, excess_i = _best_level(c.loss, n - size, sd, se_i, first_sd)
        readings.append((end_i - best_i - excess_i, end_i, se_i, best_i, excess_i))
    _, end, se_end, best, excess = max(readings) if readings else (0.0, float(np.median(c.loss)), math.inf, float(c.loss.min()), math.inf)
    rise = end - best
    args = {"best": _r(best), "end": _r(end), "rise": _r(rise), "sd": _r(sd), "ln_v": _r(c.ln_v)}
    if c.ln_v is not None and end > c.init_band[1] + th.Z * se_end:
        # worse than any healthy initialisation, at the end of training: blown up, whatever the path
        return Finding("divergence", "fail", "f.diverge.above_lnv", {**args, "final": _r(end)}, measured=end, reference=c.ln_v)
    if rise > th.DIVERGE_MIN_NATS and end - excess > best:
        if c.ln_v is not None and end > c.ln_v + max(th.DIVERGE_MIN_NATS, th.Z * se_end):
            return Finding("divergence", "fail", "f.diverge.above_lnv", {**args, "final": _r(end)}, measured=end, reference=c.ln_v)
        if c.ln_v is not None and end > c.ln_v - th.DIVERGE_MIN_NATS:
            return Finding("divergence", "fail", "f.diverge.back_to_lnv", args, measured=end, reference=best)
        return Finding("divergence", "fail", "f.diverge.rise", args, measured=end, reference=best)
    return _val_and_train_rise(c) or Finding("divergence", "ok", "f.diverge.ok", args, measured=end, reference=best)


def _first_record_sd(c: Context) -> float:
    """The noise of the first logged loss alone. A Hugging Face record averages the steps since the last one,
    so with ``logging_first_step`` its first record is one step where the others average many: sigma_b x
    sqrt(typical steps per record / steps in the first). Other writers log one batch per record."""
    if c.run.format != "hf-trainer" or c.step.size < 3:
        return c.sigma_b
    typical = float(np.median(np.diff(c.step)))
    first = max(float(c.step[0]), 1.0)
    return c.sigma_b * math.sqrt(max(1.0, typical / first)) if math.isfinite(typical) else c.sigma_b


def _best_level(loss: np.ndarray, before: int, sd: float, se_end: float, first_sd: float | None = None) -> tuple[float, float]:
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
        se_w = 1.2533 * sd / math.sqrt(window)
        lean = -stats.expected_min_of_normals(0.0, se_w, max(1, round((before - half) / window)))
    else:  # too short for a whole window before the end: the median of what there is, no lowest-of-many
        best_w = float(np.median(loss[: max(1, before)]))
        se_w, lean = 1.2533 * sd / math.sqrt(max(1, before)), 0.0
    need_w = lean + th.Z * math.hypot(se_end, se_w)
    # (a second chance to find a rise, so it must be beyond doubt: 2 Z, a blow-up rather than a drift)
    start, need_s = float(loss[0]), 2 * th.Z * math.hypot(se_end, sd if first_sd is None else first_sd)
    if start < best_w and start + need_s < best_w + need_w:
        return start, need_s
    return best_w, need_w


def _val_and_train_rise(c: Context) -> Finding | None:
    """Validation rising beyond its noise at the end (the val-led trend) while the training level rises with
    it beyond its own noise (Z standard errors of the two levels): not overfitting (training would keep falling) but the run itself
    getting worse, too slowly for the batches alone to show it (a restarted schedule, lost optimizer state)."""
    if c.val.size < 3:
        return None
    i_best = int(np.argmin(c.val))
    train = c.train_epoch_mean
    if i_best == c.val.size - 1 or not (math.isfinite(train[i_best]) and math.isfinite(train[-1])):
        return None
    t_rise = float(train[-1] - train[i_best])
    # the training level's own noise: an epoch mean (logged) or the median of up to SPIKE_WINDOW batches (read)
    logged = np.isfinite(c.run.epochs.train_loss[_after_start(c.run.epochs)]) if c.scaled is None else np.zeros(c.val.size, bool)
    if logged.size != c.val.size:
        logged = np.zeros(c.val.size, bool)
    per_epoch = max(1.0, c.loss.size / max(1, c.val.size))
    se = [
        c.sigma_b / math.sqrt(per_epoch) if logged[i] else 1.2533 * c.sigma_b / math.sqrt(min(th.SPIKE_WINDOW, max(1, c.loss.size)))
        for i in (i_best, -1)
    ]
    se_rise = math.hypot(*se) if math.isfinite(c.sigma_b) else math.inf
    band = max(th.Z * se_rise, th.MIN_BAND)
    if not t_rise > band or _progress_evals(c).status != "warn":
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
    band = max(th.Z * math.sqrt(2) * (c.band_val / th.Z), th.MIN_BAND)
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
    if rise > fail_band and train_falling:
        return Finding("overfitting", "fail", "f.overfit.val_rising", args, measured=vfinal, reference=vmin)
    memo = _memorisation(c)
    if memo is not None:
        return memo
    if rise > band:
        key = "f.overfit.val_up_noise_unknown" if train_falling else "f.overfit.val_up_train_flat" if train_known else "f.overfit.val_up_no_train"
        return Finding("overfitting", "warn", key, args, measured=vfinal, reference=vmin)
    return Finding("overfitting", "ok", "f.overfit.ok", args, measured=vfinal, reference=vmin)


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
    if not ep.size and float(c.loss[0]) <= th.MEMORISED_START_NATS:
        return None  # no epochs: only a loss that started like a language model's (a classifier's or DPO's reaches ~0 by right)
    args = {"train": _r(end), "epochs": _epoch(float(ep.max())) if ep.size else None, "limit": th.MEMORISED_NATS, "ppl": _r(math.exp(end), 3)}
    key = "f.overfit.train_memorised" if ep.size else "f.overfit.train_memorised_no_epochs"
    return Finding("overfitting", "fail", key, args, measured=end, reference=th.MEMORISED_NATS)


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
        band = max(th.Z * math.hypot(se1, se2), th.MIN_BAND) if math.isfinite(se1 + se2) else math.inf
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
    return Finding("overfitting", "warn", "f.overfit.memorising_slight", args, measured=t_final, reference=c.floor)


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
    allowance = th.Z * sd / math.sqrt(n_tail) + c.band_val + share * max(0.0, end_train - ref)
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
    se_mean = c.sigma_b / math.sqrt(n)
    args["se_mean"] = _r(se_mean)
    if mean < c.floor - max(th.Z * se_mean, th.MIN_BAND):
        # the average itself is below the floor: not noise, the model does better on rows it has seen
        return Finding("batch-noise", "info", "f.noise.mean_below", args, measured=mean, reference=c.floor)
    if below:
        return Finding("batch-noise", "info", "f.noise.dips", args, measured=float(tail.min()), reference=c.floor)
    return Finding("batch-noise", "ok", "f.noise.none", args, measured=float(tail.min()), reference=c.floor)


ALL_CHECKS = (
    check_log,
    check_nonfinite,
    check_init,
    check_scale,
    check_floor,
    check_below_floor,
    check_uniform_lock,
    check_no_learning,
    check_progress,
    check_divergence,
    check_spikes,
    check_overfitting,
    check_val_below_train,
    check_batch_noise,
)
