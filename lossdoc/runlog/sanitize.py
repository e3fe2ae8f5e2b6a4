"""Numbers at the boundary: what a reader returns is made safe for the analysis and the renderers.

``sanitize(run)`` runs once on every Run that ``read_run`` returns (docs/reliability.md, "Hostile
inputs"). Readers parse what a log says; this step enforces what the rest of lossdoc relies on:

* batches: finite steps, sorted, one row per step (the last row of a step wins); epochs, learning
  rates and gradient norms that are not finite become NaN (missing); token counts that are negative,
  not finite or beyond ``MAX_TOKENS`` become NaN, with a warning. Losses keep NaN and +-inf: those are
  the explicit non-finite markers the analysis reports (``nonfinite-loss``).
* evaluation rows: epochs and steps that are not finite become NaN; validation token counts as above.
* events: a step that is not finite becomes NaN (unknown).
* header facts (vocabulary size, entropy floor, its sample, unigram figures, init logit std, dropout,
  tokens per step) outside their sane ranges become None, with a warning naming the field.

``check_flags`` does the same for the command-line numbers that reach the maths (--floor, --random-low).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lossdoc.errors import LossdocError
from lossdoc.runlog.run import BatchSeries, EpochSeries, ReaderWarning, Run

MAX_VOCAB = 10**9  # as readers._common.MAX_VOCAB: a larger "vocabulary" is corruption
MAX_NATS = 100.0  # an entropy or a loss figure in a header beyond e^100 tokens is no figure
MAX_LOGIT_STD = 20.0  # no real initialisation has logits this large (floors accepts up to 50, at up to a second per figure)
MAX_TOKENS = 1e13  # tokens in one batch or one evaluation: more is corruption
MAX_ABS = 1e300  # finite values beyond this overflow the simplest arithmetic (x * 10, x**2)


def _finite_or_nan(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return np.where(np.isfinite(a) & (np.abs(a) <= MAX_ABS), a, np.nan) if a.size else a


def _tokens(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Token counts: NaN stays missing; negative, non-finite or absurd counts become missing and are counted."""
    a = np.asarray(a, dtype=np.float64)
    if not a.size:
        return a, 0
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(a) & ~((a >= 0) & (a <= MAX_TOKENS))
    return np.where(bad, np.nan, a), int(bad.sum())


def _batches(b: BatchSeries) -> tuple[BatchSeries, int]:
    step = np.asarray(b.step, dtype=np.float64)
    loss = np.asarray(b.loss, dtype=np.float64)
    keep = np.isfinite(step) & (np.abs(step) <= MAX_ABS)
    cols = [np.asarray(c, dtype=np.float64) for c in (b.epoch, loss, b.lr, b.grad_norm, b.tokens)]
    if not keep.all():
        step = step[keep]
        cols = [c[keep] for c in cols]
    if step.size > 1 and not np.all(step[1:] > step[:-1]):
        # sorted by step, one row per step: the last row logged for a step wins
        order = np.argsort(step, kind="stable")
        step = step[order]
        cols = [c[order] for c in cols]
        last = np.r_[step[1:] != step[:-1], True]
        step = step[last]
        cols = [c[last] for c in cols]
    epoch, loss, lr, gn, tokens = cols
    tokens, bad_tokens = _tokens(tokens)
    # a finite loss beyond MAX_ABS is kept as +-inf: it is non-finite for every purpose
    with np.errstate(invalid="ignore"):
        loss = np.where(np.isfinite(loss) & (np.abs(loss) > MAX_ABS), np.sign(loss) * np.inf, loss)
    return BatchSeries(step, _finite_or_nan(epoch), loss, _finite_or_nan(lr), _finite_or_nan(gn), tokens), bad_tokens


def _epochs(e: EpochSeries) -> tuple[EpochSeries, int]:
    if not len(e):
        return e, 0
    val_tokens, bad = _tokens(e.val_tokens)
    out = []
    for c in (e.train_loss, e.val_loss):
        c = np.asarray(c, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            out.append(np.where(np.isfinite(c) & (np.abs(c) > MAX_ABS), np.sign(c) * np.inf, c))
    return EpochSeries(_finite_or_nan(e.epoch), _finite_or_nan(e.step), out[0], out[1], val_tokens), bad


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    try:
        v = float(value)
    except (OverflowError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _shown(value: Any) -> str:
    s = repr(value)
    return s if len(s) <= 40 else s[:37] + "…"


def _header(run: Run) -> None:
    def drop(field: str, value: Any) -> None:
        run.warnings.append(ReaderWarning("warn.header_out_of_range", {"field": field, "value": _shown(value)}))

    v = run.vocab_size
    if v is not None:
        ok = isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 2 <= v <= MAX_VOCAB
        if not ok:
            drop("vocab_size", v)
            run.vocab_size = None
        else:
            run.vocab_size = int(v)
    ranges = {
        "entropy_floor": (0.0, MAX_NATS, False),
        "val_floor_sample": (0.0, MAX_NATS, False),
        "unigram_entropy": (0.0, MAX_NATS, False),
        "unigram_xent": (0.0, MAX_NATS, False),
        "init_logit_std": (0.0, MAX_LOGIT_STD, True),
        "dropout": (0.0, 1.0, True),
        "batch_tokens": (0.0, MAX_TOKENS, False),
    }
    for field, (lo, hi, lo_inclusive) in ranges.items():
        value = getattr(run, field)
        if value is None:
            continue
        x = _number(value)
        if x is None or x > hi or x < lo or (x == lo and not lo_inclusive):
            drop(field, value)
            setattr(run, field, None)
        else:
            setattr(run, field, x)
    if run.entropy_floor is None:
        run.val_floor_sample = None


def sanitize(run: Run) -> Run:
    """Make ``run`` safe for the analysis (module docstring); returns the same Run, changed in place."""
    gn = np.asarray(run.batches.grad_norm, dtype=np.float64)
    if gn.size and not np.isnan(gn).all():
        # gradient norms logged (a readers' +-inf is one logged as NaN or inf): how many, and how many not finite, before
        # the series keeps finite values only (analysis/impossible.py: every logged norm non-finite is broken)
        run.config["grad_norms"] = {"logged": int((~np.isnan(gn)).sum()), "nonfinite": int(np.isinf(gn).sum())}
    run.batches, bad_b = _batches(run.batches)
    run.epochs, bad_e = _epochs(run.epochs)
    if bad_b + bad_e:
        run.warnings.append(ReaderWarning("warn.nonfinite_tokens", {"count": bad_b + bad_e}))
    for ev in run.events:
        s = _number(ev.step)
        ev.step = s if s is not None and abs(s) <= MAX_ABS else math.nan
        if not isinstance(ev.message, str):
            ev.message = str(ev.message)
    _header(run)
    if not isinstance(run.records_read, int) or run.records_read < 0:
        run.records_read = 0
    if not isinstance(run.records_skipped, int) or run.records_skipped < 0:
        run.records_skipped = 0
    return run


def check_flags(*, floor: float | None = None, random_low: int | None = None) -> None:
    """The command-line numbers that reach the maths, in range (one line, exit 2, otherwise)."""
    if floor is not None and not isinstance(floor, bool) and isinstance(floor, (int, float)):
        if math.isfinite(floor) and floor > MAX_NATS:
            raise LossdocError("error.flag_range", flag="--floor", value=floor, allowed=f"(0, {MAX_NATS:g}]")
    if random_low is not None and isinstance(random_low, int) and not isinstance(random_low, bool):
        if random_low < 0 or random_low > MAX_VOCAB:
            raise LossdocError("error.flag_range", flag="--random-low", value=random_low, allowed=f"[0, {MAX_VOCAB:,}]")
