"""Reading the facts: a Run measured once into the Context every check shares (finite batches, evaluations,
the two ways a logged loss may not be a mean per-token loss, noise levels, the loss at initialisation, a
pretrained start).

No torch, no rich: numbers in, Findings out. Rules: docs/verdicts.md; thresholds: thresholds.py."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lossdoc import floors
from lossdoc.analysis import stats
from lossdoc.analysis import thresholds as th
from lossdoc.runlog.run import FactSource, Run


def _epoch(x: float) -> int | float | str:
    """An epoch number as a log gives it: 2, 1.5 (HF logs fractional epochs), or '-' when unknown."""
    if not math.isfinite(x):
        return "-"
    return int(x) if float(x).is_integer() else round(float(x), 2)


def _r(x: float | None, nd: int = 4) -> float | None:
    """Round for display and JSON: nd decimals, or nd significant digits for a number (not 0) that nd decimals would
    round to 0 (a loss on a tiny scale: 3.334e-05, not 0.0); None and non-finite pass through as None/str."""
    if x is None:
        return None
    if not math.isfinite(x):
        return x
    if x != 0 and abs(x) < 0.5 * 10.0**-nd:
        return float(f"{float(x):.{nd}g}")
    return round(float(x), nd)


def _source_text(src) -> dict | str:
    """A fact's source for a sentence: rendered in the reader's language by the renderer."""
    return "-" if src is None else {"kind": src.kind, "where": src.where, "args": dict(src.args)}


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
    band_val: float  # z_val * sigma_val, at least min_band
    init: float | None
    init_source: str | None  # "epoch0" | "step1" | None
    first_step: float | None
    init_logit_std: float | None
    batch_loss: np.ndarray = field(default_factory=lambda: np.empty(0))  # every batch loss, filtered zeros as NaN
    zero_filtered: list[float] = field(default_factory=list)  # steps whose logged 0.0 stands for a non-finite loss
    scaled: dict | None = None  # the training loss is not a mean per-token loss (ratio to validation): batches unused
    eval_multiple: dict | None = None  # the evaluation loss is k x the training level (summed over k processes): read / k
    stale_evals: dict | None = None  # identical evaluations while training moved: one stale value repeated, left out
    pretrained: bool | None = None
    pretrained_source: object | None = None  # FactSource
    unigram_est: float | None = None  # Zipf estimate of a unigram model's loss on natural text with V ids
    val_step: np.ndarray = field(default_factory=lambda: np.empty(0))
    val_noise_source: str | None = None  # tokens | series | None
    first_loss: float | None = None  # the first logged loss (training, else validation after the start)
    val_start: float | None = None  # a fine-tune's validation before training (``_start_val``)
    first_loss_step: float | None = None
    last_step: float | None = None
    facts: dict = field(default_factory=dict)
    rho_b: float = 0.0  # lag-1 autocorrelation of the batch losses around their trend at the end (0: independent)
    z_b: float = th.Z  # Z as a Student-t quantile for the degrees of freedom sigma_b was measured with
    min_band: float = th.MIN_BAND  # the smallest noise band (min_band_for: smaller for a loss on a tiny scale)
    z_val: float = th.Z  # the same for sigma_val (from the series itself: few evaluations, few degrees of freedom)
    val_noise_df: float = math.inf  # the degrees of freedom of sigma_val when it comes from the series

    def level_se(self, n: float, median: bool = True) -> float:
        """Standard error of the level of n consecutive batch losses (their median, else their mean): sigma_b / sqrt(n)
        for independent batches (1.2533 x that for a median), widened for autocorrelated ones by the AR(1) factor of
        rho_b, with sigma_b / sqrt(1 - rho_b) the marginal sd (successive differences see only sqrt(1 - rho) of it)."""
        n = max(1, int(n))
        marginal = self.sigma_b / math.sqrt(1.0 - self.rho_b)
        return (1.2533 if median else 1.0) * marginal * stats.ar1_mean_factor(self.rho_b, n) / math.sqrt(n)

    @property
    def val_led(self) -> bool:
        return self.val.size >= th.MIN_EVALS_LEAD

    @property
    def real_data(self) -> bool:
        """Not random ids and no exact floor: natural data, whose floor is unknown."""
        return not self.random_data and self.floor is None

    @property
    def data_text(self) -> bool:
        """The data is known to have something to learn although its floor is unknown: the log says it is text
        (lossdoc's header), or the run is a fine-tune of a pretrained model (trained on text, meeting text)."""
        if self.random_data or self.floor is not None:
            return False
        kind = self.run.data_kind
        return bool(self.pretrained) or (kind is not None and kind not in ("dummy", "random"))

    def end_level(self) -> float | None:
        """Where the run ends: the median of the batches' tail, else the last evaluation."""
        return self.tail_level() if self.tail.any() else self.final_val

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


def _val_series_noise(val: np.ndarray) -> tuple[float, int]:
    """(sd of one validation loss, its degrees of freedom) from the series itself: its residuals around a fitted trend
    (``stats.series_noise``: the better of a decay a + b e^(-c t) over the whole series and second differences,
    a local quadratic, over its last two thirds). NaN for fewer than 4 evaluations. (The median absolute deviation
    of a handful of second differences, used before, put the noise of a flat 10-evaluation series 8x too low.)"""
    return stats.series_noise(val)


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

    stale = _stale_evals(step, loss, val, val_step, run.epochs.train_loss[eval_rows(run.epochs)])
    keep = np.ones(val.size, dtype=bool)
    if stale is not None:  # a value logged again and again while training moved is no evaluation: left out
        keep = stale.pop("keep")
        val_epoch, val, val_tokens, val_step = val_epoch[keep], val[keep], val_tokens[keep], val_step[keep]
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
    # the noise's autocorrelation, from the same stretch's residuals around a fitted quadratic; and the confidence Z
    # stands for, as a t quantile of the degrees of freedom sigma_b was measured with
    rho_b = stats.ar1_rho(stats.poly_residuals(noise_from, 2)[0]) if n >= 10 else 0.0
    z_b = stats.t_equivalent(th.Z, max(1, noise_from.size - 2))
    tok = stats.finite(b.tokens)
    tpb = float(np.median(tok)) if tok.size else run.batch_tokens
    sel = eval_rows(run.epochs)
    train_epoch = run.epochs.train_loss[sel][keep] if scaled is None else np.full(val.size, np.nan)
    train_mean = np.where(np.isfinite(train_epoch), train_epoch, train_at_eval)
    min_band = min_band_for(batch_loss, val)
    sigma_val, noise_source, band_val, z_val, val_df = _val_noise(sigma_b, tpb, val, val_tokens, min_band)

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
    hf_shift = _hf_label_shift(run, floor, loss, val)
    val_floor = (run.val_floor_sample if run.val_floor_sample is not None else floor) if floor is not None else None
    if (
        hf_shift is not None and floor is not None and val_floor is not None
    ):  # every logged loss is (T - 1)/T of the true mean: compare them with the floor scaled alike
        floor, val_floor = floor * (hf_shift - 1) / hf_shift, val_floor * (hf_shift - 1) / hf_shift
    return Context(
        run=run,
        vocab_size=v,
        ln_v=math.log(v) if v else None,
        floor=floor,
        val_floor=val_floor,
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
        min_band=min_band,
        init=init,
        init_source=init_source,
        first_step=first_step,
        init_logit_std=run.init_logit_std,
        batch_loss=batch_loss,
        zero_filtered=zero_steps,
        scaled=scaled,
        eval_multiple=eval_multiple,
        stale_evals=stale,
        pretrained=pretrained,
        pretrained_source=p_source,
        unigram_est=unigram_est,
        val_step=val_step,
        val_noise_source=noise_source,
        first_loss=first_loss,
        val_start=_start_val(run),
        first_loss_step=first_loss_step,
        last_step=last_step,
        rho_b=rho_b,
        z_b=z_b,
        z_val=z_val,
        val_noise_df=val_df,
        facts={"hf_shift": hf_shift} if hf_shift is not None else {},
    )


def _hf_label_shift(run: Run, floor: float | None, loss: np.ndarray, val: np.ndarray) -> int | None:
    """T when a Hugging Face Trainer log (not written by lossdoc's callback, which corrects it) sits below an exact floor
    by the factor (T - 1)/T, T >= 8: the Trainer divided each row's loss over T - 1 predicted tokens by all T labels
    (transformers 5.x with loss_type None; docs/formats.md). The end level (last evaluation, else the median of the
    last quarter of batches) must be below the floor by more than 1% and by at most 1/8 of it; T is the nearest whole
    number to floor / (floor - level)."""
    if run.format != "hf-trainer" or floor is None or floor <= 0 or run.loss_scale is not None:
        return None
    if val.size:
        level = float(np.median(val[-3:]))
    elif loss.size:
        level = float(np.median(loss[-max(1, loss.size // 4) :]))
    else:
        return None
    r = level / floor
    if not (1.0 - 1.0 / th.HF_SHIFT_MIN_T <= r < 1.0 - th.NEAR_FLOOR_REL):
        return None
    return int(round(1.0 / (1.0 - r)))


def _start_val(run: Run) -> float | None:
    """A fine-tune's validation loss before training (``_at_start``; pretrained as the log, a file beside it or a flag
    states it, not as inferred from low losses, which a leak shows too): the pretrained model's own score, the level its
    fine-tune should beat. Not in the validation series, whose trend and noise it would bend (its first adaptation is a
    drop of another kind); the overfitting check reads it (``trends._never_beat_start``). None otherwise."""
    e = run.epochs
    if run.pretrained is not True or not len(e):
        return None
    start = _at_start(e) & np.isfinite(e.val_loss)
    return float(e.val_loss[start][0]) if start.any() else None


def eval_rows(e) -> np.ndarray:
    """The rows of the evaluations after the start (``_after_start``), one per step: an evaluation repeated at the same
    step and epoch is one evaluation, the first (a closing trainer.evaluate() repeats the checkpoint just evaluated, or
    scores the best one that load_best_model_at_end loaded: not a point of the curve)."""
    idx = np.flatnonzero(_after_start(e))
    step, epoch = (e.step[idx], e.epoch[idx]) if idx.size else (np.empty(0), np.empty(0))
    if idx.size > 1 and np.isfinite(step).all():
        # the same step and the same epoch (or none): a step counted within each epoch repeats across epochs
        same_epoch = (np.diff(epoch) == 0) | (np.isnan(epoch[1:]) & np.isnan(epoch[:-1]))
        idx = idx[np.r_[True, ~((np.diff(step) == 0) & same_epoch)]]
    return idx


def _after_start(e) -> np.ndarray:
    """Evaluations after training started with a finite loss: everything but the measurement before any update
    (``_at_start``): a fresh model's initial loss, a fine-tune's pretrained score (``_start_val``)."""
    if not len(e):
        return np.zeros(0, dtype=bool)
    return ~_at_start(e) & np.isfinite(e.val_loss)


def _at_start(e) -> np.ndarray:
    """Rows measured before any update: step 0; epoch 0 only where the row has no step (a Keras-style history): a
    Hugging Face log rounds the epoch to 2 decimals, so its first evaluations on a large dataset read epoch 0.0."""
    return (e.step == 0) | (np.isnan(e.step) & (e.epoch == 0))


def _evaluations(run: Run) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(epoch, loss, tokens, step) of the evaluations after the start, one per step (``eval_rows``); an evaluation without
    an epoch is numbered by its place."""
    e = run.epochs
    sel = eval_rows(e)
    val_epoch, val, val_tokens, val_step = e.epoch[sel], e.val_loss[sel], e.val_tokens[sel], e.step[sel]
    if val.size and not np.isfinite(val_epoch).all():
        val_epoch = np.where(np.isfinite(val_epoch), val_epoch, np.arange(1, val.size + 1, dtype=np.float64))
    return val_epoch, val, val_tokens, val_step


def _stale_evals(step: np.ndarray, loss: np.ndarray, val: np.ndarray, val_step: np.ndarray, val_train: np.ndarray) -> dict | None:
    """IDENTICAL_EVALS or more identical evaluation losses in a row, over steps where training moved beyond its noise
    (Z standard errors) and materially (MIN_EFFECT_REL of the level): the weights changed, so the evaluation was not run
    again and one value was logged each time (a column filled from a stale estimate, or refreshed only every so often).
    Training is read from the batches over those steps (the medians of their first and last quarters), else from the
    training values logged on the evaluations' own rows (first against last, the noise from their differences). Every
    such stretch is left out; the longest is described. Its value, count, the training level's move, the number of
    evaluations left out and the evaluations to keep; None when there is none."""
    keep = np.ones(val.size, dtype=bool)
    found: list[dict] = []
    i = 0
    while i < val.size:
        j = i
        while j + 1 < val.size and val[j + 1] == val[i]:
            j += 1
        if j - i + 1 >= th.IDENTICAL_EVALS:
            moved = _training_moved(step, loss, val_step, val_train, val.size, i, j)
            if moved is not None:
                keep[i : j + 1] = False
                found.append({"value": float(val[i]), "count": j - i + 1, "train_from": moved[0], "train_to": moved[1]})
        i = j + 1
    if not found:
        return None
    longest = max(found, key=lambda f: f["count"])
    return {**longest, "left_out": int((~keep).sum()), "keep": keep}


def _training_moved(
    step: np.ndarray, loss: np.ndarray, val_step: np.ndarray, val_train: np.ndarray, n_val: int, a: int, b: int
) -> tuple[float, float] | None:
    """(start, end) of the training level over evaluations a..b when it moved beyond Z standard errors and by
    MIN_EFFECT_REL, else None (see _stale_evals)."""
    seg = loss[(step >= val_step[a]) & (step <= val_step[b])] if math.isfinite(val_step[a]) and math.isfinite(val_step[b]) else loss[:0]
    rows = val_train[a : b + 1] if val_train.size == n_val else val_train[:0]
    if seg.size // 4 >= 3:
        start, end, se = stats.quarters_change(seg)
    elif rows.size >= th.IDENTICAL_EVALS and np.isfinite(rows).all():
        start, end = float(rows[0]), float(rows[-1])
        se = math.sqrt(2.0) * stats.diff_noise_sd(rows)
    else:
        return None
    if abs(start - end) > th.Z * se and abs(start - end) >= th.MIN_EFFECT_REL * abs(start):
        return start, end
    return None


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


def min_band_for(loss: np.ndarray, val: np.ndarray) -> float:
    """The smallest noise band a finding uses: MIN_BAND (nats), for logs with (almost) no noise; for a loss on a tiny
    scale, every finite logged value (training and validation) below TINY_SCALE and not all 0 (a regression's mean
    squared error on normalised targets, 3e-5 falling to 1e-6), MIN_BAND_REL of the median of its values that are
    not 0 instead (positive: a band of 0 would divide by 0): an absolute
    floor of 0.002 there is a hundred times the loss, and every change would read as noise."""
    values = np.abs(np.concatenate([stats.finite(loss), stats.finite(val)]))
    if not values.size or float(values.max()) >= th.TINY_SCALE or not float(values.max()) > 0:
        return th.MIN_BAND
    return min(th.MIN_BAND, th.MIN_BAND_REL * float(np.median(values[values > 0])))  # (of the values that are not 0)


def _val_noise(
    sigma_b: float, tpb: float | None, val: np.ndarray, val_tokens: np.ndarray, min_band: float = th.MIN_BAND
) -> tuple[float, str | None, float, float, float]:
    """(sigma_val, its source, band): the standard error of one validation loss, from the per-token sd (the
    batch noise) over sqrt(validation tokens); without token counts, from the validation series itself
    (never from one batch's noise)."""
    sigma_val, noise_source, z_val, val_df = math.nan, None, th.Z, math.inf
    vt = stats.finite(val_tokens)
    if math.isfinite(sigma_b) and tpb and vt.size:
        sigma_val, noise_source = sigma_b * math.sqrt(tpb) / math.sqrt(float(np.median(vt))), "tokens"
    else:
        sv, df = _val_series_noise(val)
        if math.isfinite(sv):
            z_val, val_df = stats.t_equivalent(th.Z, df), float(df)
            sigma_val, noise_source = max(sv, min_band / z_val), "series"
    band_val = max(z_val * sigma_val, min_band) if math.isfinite(sigma_val) else min_band
    return sigma_val, noise_source, band_val, z_val, val_df


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
                "inferred", "where.first_loss", (("loss", _r(first_loss)), ("step", int(first_loss_step)), ("limit", round(limit, 2)))
            )
    return pretrained, p_source
