"""The maths of loss floors and reference losses.

Plain functions of numbers (numpy only, no torch): `baseline`, `train` (which
writes these figures into the run-log header) and `analysis` all call these,
so each figure has exactly one implementation. Every formula is derived in
docs/floors.md. All losses are natural-log cross-entropies in nats per token.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

LN2 = math.log(2.0)


def uniform_floor(vocab_size: int) -> float:
    """ln V: the cross-entropy of a uniform prediction over V classes.

    It is the best possible loss when every next token is drawn uniformly
    from all V ids, and the loss of a model that has learned nothing.
    """
    _check_vocab(vocab_size)
    return math.log(vocab_size)


def dummy_floor(token_low: int, token_high: int) -> float:
    """ln(high - low): the entropy of tokens drawn uniformly from [low, high).

    The seed's data is ``torch.randint(1, V, ...)``: ids 1..V-1, so the floor is
    ln(V - 1), a hair below ln V because a model can learn never to predict 0.
    """
    if token_high - token_low < 1:
        raise ValueError(f"empty token range [{token_low}, {token_high})")
    return math.log(token_high - token_low)


def nats_to_bits(nats: float) -> float:
    """Nats per token to bits per token (divide by ln 2)."""
    return nats / LN2


def perplexity(nats: float) -> float:
    """e^loss: the number of equally likely tokens that would give this loss."""
    return math.exp(nats) if nats < 709.0 else math.inf


def default_init_logit_std(d_model: int) -> float:
    """Std of lossdoc's LM-head logits at initialisation.

    The head is a PyTorch-default ``nn.Linear(d_model, V)``: weights and bias
    uniform on ±1/sqrt(d_model), variance 1/(3 d_model) each. Its input is the
    final LayerNorm output, whose squared norm is d_model. So a logit has
    variance d_model/(3 d_model) + 1/(3 d_model) = 1/3 + 1/(3 d_model).
    """
    if d_model < 1:
        raise ValueError("d_model must be >= 1")
    return math.sqrt(1.0 / 3.0 + 1.0 / (3.0 * d_model))


def expected_init_loss(vocab_size: int, logit_std: float) -> float:
    """Expected cross-entropy of V i.i.d. N(0, s^2) logits against a target
    independent of them.

    E[logsumexp(z)] - E[z_y] with E[z_y] = 0. The sum of exponentials has mean
    V e^{s^2/2} and variance V e^{s^2}(e^{s^2} - 1); a second-order expansion of
    its log gives ln V + s^2/2 - (e^{s^2} - 1)/(2V).
    """
    _check_vocab(vocab_size)
    if logit_std < 0:
        raise ValueError("logit_std must be >= 0")
    s2 = logit_std * logit_std
    if s2 > 50.0:  # far outside the expansion's range (and expm1 overflows past s^2 ~ 709)
        return expected_init_loss_exact(vocab_size, logit_std)
    return math.log(vocab_size) + s2 / 2.0 - math.expm1(s2) / (2.0 * vocab_size)


MAX_LOGIT_STD = 50.0  # beyond this, logits are so large that the integration grid gets expensive; no real init is there


@lru_cache(maxsize=256)
def expected_init_loss_exact(vocab_size: int, logit_std: float) -> float:
    """The expected loss of :func:`expected_init_loss` computed without the
    second-order expansion, so it holds for any V and any std.

    For S = sum_v e^{z_v} with z_v i.i.d. N(0, s^2), ln x = int_0^inf (e^{-t} - e^{-tx}) dt/t
    gives E[ln S] = int (exp(-e^u) - phi(e^u)^V) du over u = ln t, where
    phi(t) = E[exp(-t e^{sZ})] is a one-dimensional Gaussian integral. Both
    integrals are evaluated on fixed grids (trapezoid rule, Z truncated to
    |Z| <= 8); the result agrees with Monte Carlo and, where the expansion is
    valid ((e^{s^2} - 1)/V << 1), with the closed form. A few milliseconds.
    """
    _check_vocab(vocab_size)
    if not logit_std >= 0 or not math.isfinite(logit_std) or logit_std > MAX_LOGIT_STD:
        raise ValueError(f"logit_std must be a finite number in [0, {MAX_LOGIT_STD:g}]")
    return _init_loss_on_grid(vocab_size, float(logit_std), 1601, 0.1)


def _init_loss_on_grid(vocab_size: int, logit_std: float, nz: int, du: float) -> float:
    """The integral of :func:`expected_init_loss_exact` on a grid of ``nz`` points in Z and steps of ``du`` in u.

    (1601, 0.1) is the exact figure; (401, 0.4) is within 1e-5 nats of it for every V <= 1e9 and std <= 50
    at a tenth of the cost; (201, 0.8) within 3e-3 nats (at std 50; 1e-5 below std 20) in about 2 ms."""
    ln_v = math.log(vocab_size)
    if logit_std == 0:
        return ln_v
    zmax = 8.0
    z = np.linspace(-zmax, zmax, nz)
    w = np.exp(-0.5 * z * z)
    w /= w.sum()
    sz = logit_std * z
    u = np.arange(-(ln_v + min(logit_std * logit_std / 2.0, zmax * logit_std) + 40.0), zmax * logit_std + 5.0 + du, du)
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        q = (-np.expm1(-np.exp(u[:, None] + sz[None, :]))) @ w  # 1 - phi(e^u), accurate when phi is near 1
        phi_v = np.exp(vocab_size * np.log1p(-np.minimum(q, 1.0)))
        return float((np.exp(-np.exp(u)) - phi_v).sum() * du)


def implied_logit_std(vocab_size: int, init_loss: float) -> float:
    """The logit std s for which expected_init_loss_exact(V, s) equals ``init_loss`` (bisection on ln s).

    0 when the loss is at or below ln V; MAX_LOGIT_STD when it is beyond what that std gives.
    For small s this is sqrt(2 (loss - ln V)); for large s that expansion badly underestimates.
    """
    ln_v = math.log(vocab_size)
    if init_loss <= ln_v:
        return 0.0
    if init_loss - ln_v < 0.05:  # the expansion is exact to well under 1% here, and free
        return math.sqrt(2.0 * (init_loss - ln_v))
    if math.isnan(init_loss):
        raise ValueError("init_loss must be a number")
    # The exact integral costs up to a second at large stds, and bisection needs ~30 of them. Instead:
    # bisect on a coarse grid (2 ms each, within 3e-3 nats), then polish with secant steps on a finer one
    # (within 1e-5 nats of the exact integral): a few tenths of a second at worst, whatever the loss.
    lo, hi = math.log(1e-3), math.log(MAX_LOGIT_STD)
    if _init_loss_on_grid(vocab_size, MAX_LOGIT_STD, 401, 0.4) <= init_loss:
        return MAX_LOGIT_STD
    for _ in range(24):
        mid = 0.5 * (lo + hi)
        if _init_loss_on_grid(vocab_size, math.exp(mid), 201, 0.8) < init_loss:
            lo = mid
        else:
            hi = mid
    x0, x1 = 0.5 * (lo + hi) - 0.01, 0.5 * (lo + hi) + 0.01
    f0 = _init_loss_on_grid(vocab_size, math.exp(x0), 401, 0.4) - init_loss
    f1 = _init_loss_on_grid(vocab_size, math.exp(x1), 401, 0.4) - init_loss
    for _ in range(3):
        if f1 == f0 or abs(f1) < 1e-12:
            break
        x0, f0, x1 = x1, f1, x1 - f1 * (x1 - x0) / (f1 - f0)
        x1 = min(max(x1, math.log(1e-3)), math.log(MAX_LOGIT_STD))
        f1 = _init_loss_on_grid(vocab_size, math.exp(x1), 401, 0.4) - init_loss
    return math.exp(x1)


INIT_BAND_ALLOWANCE = 0.05  # nats either side of the init band: measurement noise of a first loss (docs/floors.md)


def init_loss_band(vocab_size: int, logit_std: float, *, max_std: float = 1.0) -> tuple[float, float]:
    """Healthy range for a loss measured at initialisation.

    Low end: ln V minus a small allowance (a uniform predictor cannot do better
    on data it has not seen). High end: the expected loss for logits of std
    ``max(logit_std, max_std)``: more than that means logits far too large,
    a summed loss, or log2 / ln confusion. See docs/floors.md and docs/verdicts.md.

    The high end uses :func:`expected_init_loss_exact`, which equals the closed
    form to within 1e-4 wherever the closed form is valid and stays right for
    large stds, where the expansion breaks down (it even turns negative).
    """
    low = math.log(vocab_size) - INIT_BAND_ALLOWANCE
    high = expected_init_loss_exact(vocab_size, max(logit_std, max_std)) + INIT_BAND_ALLOWANCE
    return low, high


def entropy(probs: Sequence[float] | np.ndarray) -> float:
    """Shannon entropy in nats of a probability vector (zeros allowed)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or np.any(p < 0) or not math.isclose(p.sum(), 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError("probs must be a non-empty 1-d probability vector")
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())


def zipf_probs(vocab_size: int, exponent: float) -> np.ndarray:
    """p(k) ∝ 1 / k^exponent for ranks k = 1..V (normalised)."""
    _check_vocab(vocab_size)
    w = np.arange(1, vocab_size + 1, dtype=np.float64) ** (-float(exponent))
    return w / w.sum()


def zipf_entropy(vocab_size: int, exponent: float) -> float:
    """Entropy (nats) of i.i.d. Zipf tokens: the floor for `zipf` data."""
    return entropy(zipf_probs(vocab_size, exponent))


def stationary_distribution(transition: np.ndarray) -> np.ndarray:
    """The stationary distribution pi = pi P of a row-stochastic matrix.

    Power iteration from the uniform vector on the lazy chain (P + I)/2, which
    has the same stationary distribution and converges for periodic chains.
    """
    p = np.asarray(transition, dtype=np.float64)
    n = p.shape[0]
    if p.ndim != 2 or p.shape[1] != n or np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0):
        raise ValueError("transition must be a square row-stochastic matrix")
    pi = np.full(n, 1.0 / n)
    for _ in range(100_000):
        nxt = 0.5 * (pi + pi @ p)
        if np.abs(nxt - pi).sum() < 1e-15:
            pi = nxt
            break
        pi = nxt
    return pi / pi.sum()


def markov_entropy_rate(transition: np.ndarray) -> float:
    """H = -sum_i pi_i sum_j P_ij ln P_ij: the floor for an order-1 Markov source."""
    p = np.asarray(transition, dtype=np.float64)
    pi = stationary_distribution(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        row_h = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    return float(pi @ row_h)


def unigram_counts(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """Counts of each id 0..V-1 in a 1-d token array."""
    t = np.asarray(tokens)
    return np.bincount(t.astype(np.int64, copy=False), minlength=vocab_size)[:vocab_size]


def unigram_entropy(counts: np.ndarray) -> float:
    """Plug-in entropy (nats) of the empirical unigram distribution: the loss of
    a model that knows only token frequencies, on the data it counted."""
    c = np.asarray(counts, dtype=np.float64)
    n = c.sum()
    if n <= 0:
        raise ValueError("no tokens counted")
    return entropy(c / n)


def unigram_cross_entropy(train_counts: np.ndarray, eval_tokens: np.ndarray, *, alpha: float = 1.0) -> float:
    """Cross-entropy (nats) on ``eval_tokens`` of the add-alpha smoothed unigram
    model fitted on ``train_counts``: p(v) = (c_v + alpha) / (N + alpha V)."""
    c = np.asarray(train_counts, dtype=np.float64)
    v = c.size
    p = (c + alpha) / (c.sum() + alpha * v)
    e = np.asarray(eval_tokens, dtype=np.int64)
    if e.size == 0:
        raise ValueError("no evaluation tokens")
    return float(-np.log(p[e]).mean())


def bigram_conditional_entropy(tokens: np.ndarray, vocab_size: int) -> tuple[float, float]:
    """Plug-in estimate of H(X_t | X_{t-1}) in nats, and its first-order
    (Miller-Madow) bias correction.

    The plug-in estimate is biased low: on N pairs with K distinct observed
    pairs and J distinct observed contexts it underestimates by about
    (K - J) / (2N). Returns (plug_in, plug_in + (K - J) / (2N)).

    ``tokens`` is a 1-d stream, or a 2-d array of rows (sequences as a model
    sees them): then only pairs inside a row count, none across rows.
    """
    t = np.asarray(tokens, dtype=np.int64)
    if t.ndim == 2:
        prev, nxt = t[:, :-1].ravel(), t[:, 1:].ravel()
    else:
        prev, nxt = t[:-1], t[1:]
    if prev.size < 1:
        raise ValueError("need at least two tokens")
    pair = prev * np.int64(vocab_size) + nxt
    _, pair_counts = np.unique(pair, return_counts=True)
    ctx_counts = np.bincount(prev, minlength=vocab_size)
    ctx_counts = ctx_counts[ctx_counts > 0]
    n = float(prev.size)
    h_joint = -(pair_counts / n * np.log(pair_counts / n)).sum()
    h_ctx = -(ctx_counts / n * np.log(ctx_counts / n)).sum()
    plug_in = float(h_joint - h_ctx)
    correction = (pair_counts.size - ctx_counts.size) / (2.0 * n)
    return plug_in, plug_in + correction


def excess(loss: float, floor: float) -> tuple[float, float]:
    """(loss - floor) in nats and as a percentage of the floor."""
    d = loss - floor
    return d, (100.0 * d / floor) if floor > 0 else math.nan


def _check_vocab(vocab_size: int) -> None:
    if not isinstance(vocab_size, (int, np.integer)) or vocab_size < 2:
        raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
