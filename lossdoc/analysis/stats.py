"""Noise and trend statistics on loss series: numbers in, numbers out (numpy only).

Every threshold in lossdoc is a multiple of a noise level measured on the run
itself; these functions measure it. Derivations: docs/verdicts.md.
"""

from __future__ import annotations

import itertools
import math
import weakref
from statistics import NormalDist

import numpy as np

MAD_TO_SD = 1.482602218505602  # 1 / Phi^-1(3/4): MAD of a normal sample times this is its sd


def finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[np.isfinite(x)]


def mad_sd(x: np.ndarray) -> float:
    """Robust sd: 1.4826 x the median absolute deviation (NaN for < 2 points)."""
    x = finite(x)
    if x.size < 2:
        return math.nan
    return float(MAD_TO_SD * np.median(np.abs(x - np.median(x))))


def diff_noise_sd(x: np.ndarray) -> float:
    """Sd of the noise around a slowly moving level, from successive differences.

    For y_t = m_t + e_t with a smooth m and i.i.d. e of sd s, y_t - y_{t-1} has
    sd s * sqrt(2) and is free of the trend; its robust sd over sqrt(2)
    estimates s. NaN for fewer than 3 finite points.
    """
    x = finite(x)
    if x.size < 3:
        return math.nan
    return mad_sd(np.diff(x)) / math.sqrt(2.0)


_ROLLING_ROWS = 32768  # windows per block: memory stays a block of windows (5 MB at 21 points), whatever the length
_last_rolling: tuple = (None, 0, None, None)  # (weak reference to the series, window, its fingerprint, result)


def _fingerprint(x: np.ndarray) -> bytes:
    """Cheap evidence that a series still holds the same values: its size, sum and every 1009th value (bytes
    compare NaN with NaN as equal)."""
    return np.asarray(x.size, dtype=np.float64).tobytes() + np.add.reduce(x).tobytes() + x[::1009].tobytes()


def quarters_change(x: np.ndarray) -> tuple[float, float, float]:
    """(median of the first quarter, median of the last quarter, the standard error of their difference) of a series:
    each median's error about 1.2533 sd / sqrt(q) for q points (sd from successive differences, free of the trend).
    NaNs for fewer than 4 points."""
    q = x.size // 4
    if q < 1:
        return math.nan, math.nan, math.nan
    return float(np.median(x[:q])), float(np.median(x[-q:])), 1.2533 * diff_noise_sd(x) * math.sqrt(2.0 / q)


def rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    """Centred running median with a window of ``window`` points (shrinks at the ends).

    Computed a block of windows at a time (the windows of a million batches would take 170 MB at once), each
    block with one partition, which picks the same middle values np.median does. The result for the last
    series asked about is kept (with a fingerprint of its values, in case they change), so the checks that
    share one series share one computation."""
    global _last_rolling
    ref, w_last, fp, result = _last_rolling
    if ref is not None and ref() is x and w_last == window and fp == _fingerprint(x):
        return result.copy()
    out = _rolling_median(x, window)
    if isinstance(x, np.ndarray) and x.dtype == np.float64 and x.size >= 4 * _ROLLING_ROWS:
        _last_rolling = (weakref.ref(x), window, _fingerprint(x), out.copy())
    return out


def _rolling_median(x: np.ndarray, window: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n == 0:
        return x.copy()
    w = max(1, min(window, n))
    half = w // 2
    padded = np.pad(x, (half, w - 1 - half), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, w)
    out = np.empty(n)
    has_nan = bool(np.isnan(x).any())
    kth = [half] if w % 2 else [half - 1, half]
    for lo in range(0, n, _ROLLING_ROWS):
        block = windows[lo : lo + _ROLLING_ROWS]
        if has_nan:
            out[lo : lo + block.shape[0]] = np.nanmedian(block, axis=1)
            continue
        part = np.partition(block, kth, axis=1)
        if w % 2:
            out[lo : lo + block.shape[0]] = part[:, half]
        else:  # the mean of the two middle values, as np.median computes it
            out[lo : lo + block.shape[0]] = (part[:, half - 1] + part[:, half]) / 2.0
    return out


def linear_trend(y: np.ndarray, x: np.ndarray | None = None) -> tuple[float, float]:
    """Least-squares slope of y on x and its standard error (NaN if undefined).

    SE = s / sqrt(sum (x - mean x)^2) with s the residual sd on n - 2 degrees
    of freedom: the textbook OLS standard error, fine for batch losses whose
    noise is close to independent from step to step.
    """
    y = np.asarray(y, dtype=np.float64)
    x = np.arange(y.size, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(x)
    y, x = y[ok], x[ok]
    if y.size < 3:
        return math.nan, math.nan
    xc = x - x.mean()
    sxx = float((xc * xc).sum())
    if sxx <= 0:
        return math.nan, math.nan
    slope = float((xc * (y - y.mean())).sum() / sxx)
    resid = y - y.mean() - slope * xc
    s = math.sqrt(float((resid * resid).sum()) / (y.size - 2))
    return slope, s / math.sqrt(sxx)


def end_slope(y: np.ndarray, x: np.ndarray | None = None, sd: float | None = None) -> tuple[float, float, int]:
    """(slope at the last point, its standard error, degrees of freedom) of a least-squares quadratic through (x, y),
    y = a + b (x - x_last) + c (x - x_last)^2, whose b is the curve's slope where it ends. A curve that bent flat
    within its last few points has an end slope near 0 where a straight line through the same points still falls.
    The error is sd sqrt([(X'X)^-1]_bb), sd the residuals' own (n - 3 degrees of freedom); where ``sd`` is given (a
    noise measured elsewhere), the larger of the two, and the degrees of freedom are returned as 0, for the caller's.
    NaN for fewer than 5 points."""
    y = np.asarray(y, dtype=np.float64)
    x = np.arange(y.size, dtype=np.float64) if x is None else np.asarray(x, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(x)
    y, x = y[ok], x[ok]
    if y.size < 5:
        return math.nan, math.nan, 0
    scale = float(x[-1] - x[0])
    if not scale > 0:
        return math.nan, math.nan, 0
    u = (x - x[-1]) / scale  # in [-1, 0]: a well-conditioned design
    design = np.column_stack([np.ones_like(u), u, u * u])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    inv = np.linalg.inv(design.T @ design)
    resid = y - design @ coef
    own = math.sqrt(float(resid @ resid) / (y.size - 3))
    if sd is None:
        sd, df = own, y.size - 3
    else:
        sd, df = max(sd, own), 0  # a curve the quadratic does not describe (a step inside it) widens its own error
    return float(coef[1]) / scale, sd * math.sqrt(float(inv[1, 1])) / scale, df


def expected_min_of_normals(mean: float, sd: float, n: int) -> float:
    """Expected minimum of n i.i.d. N(mean, sd^2) draws, by Blom's approximation:
    mean - sd * Phi^-1((n - 0.375) / (n + 0.25)); within 1% of the exact value for n >= 2."""
    if n < 2:
        return mean
    return mean - sd * NormalDist().inv_cdf((n - 0.375) / (n + 0.25))


def normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


RHO_MAX = 0.95  # lag-1 autocorrelation is capped here: beyond it a tail of a few hundred records cannot tell a trend from noise


def ar1_rho(resid: np.ndarray) -> float:
    """Lag-1 autocorrelation of residuals, with the small-sample bias correction of a mean-corrected series
    (Kendall: E[r] ~ rho - (1 + 3 rho) / n, inverted), clipped to [0, RHO_MAX]; 0 for fewer than 10 points.

    Batch losses are close to independent from step to step; a logged series can be autocorrelated (a running
    mean, an EMA-smoothed loss, data served in correlated shards), and then every standard error that assumes
    independence is too small."""
    e = finite(resid)
    if e.size < 10:
        return 0.0
    e = e - e.mean()
    den = float((e * e).sum())
    if den <= 0:
        return 0.0
    r = float((e[1:] * e[:-1]).sum()) / den
    r = (r * e.size + 1.0) / (e.size - 3.0)  # r + (1 + 3r)/n, solved for rho
    return min(max(r, 0.0), RHO_MAX)


def ar1_mean_factor(rho: float, n: int) -> float:
    """How much wider the standard error of a mean of n consecutive AR(1) values is than for independent ones:
    sqrt(1 + 2 sum_{k<n} (1 - k/n) rho^k). 1 for rho = 0; sqrt((1 + rho)/(1 - rho)) for large n."""
    if rho <= 0 or n <= 1:
        return 1.0
    k = np.arange(1, n, dtype=np.float64)
    return math.sqrt(1.0 + 2.0 * float(((1.0 - k / n) * rho**k).sum()))


def poly_residuals(y: np.ndarray, deg: int = 2) -> tuple[np.ndarray, int]:
    """Residuals of y around a least-squares polynomial in its index, and their degrees of freedom (n - deg - 1).
    The noise of a series comes from its own residuals around a fitted trend."""
    y = finite(y)
    deg = max(0, min(deg, y.size - 2))
    if y.size < 3:
        return np.empty(0), 0
    x = np.linspace(-1.0, 1.0, y.size)
    coef = np.polynomial.polynomial.polyfit(x, y, deg)
    return y - np.polynomial.polynomial.polyval(x, coef), y.size - deg - 1


_T_CACHE: dict[tuple[float, int], float] = {}


def t_equivalent(z: float, df: float) -> float:
    """The Student-t quantile with ``df`` degrees of freedom at the confidence z has under the normal: for a noise
    level estimated from few points, z standard errors are not z. Uses scipy.special.stdtrit, the function
    scipy.stats.t.ppf calls (imported here, so start-up never pays for it; scipy.special takes a fifth of the time
    scipy.stats takes to import); z itself from 200 degrees of freedom on."""
    if not math.isfinite(df) or df >= 200:
        return z
    d = max(1, int(df))
    key = (z, d)
    if key not in _T_CACHE:
        from scipy.special import stdtrit

        _T_CACHE[key] = float(stdtrit(d, normal_cdf(z)))
    return _T_CACHE[key]


_MIN_MOMENTS: dict[int, tuple[float, float]] = {}


def min_of_normals_moments(k: int) -> tuple[float, float]:
    """(mean, variance) of the minimum of k independent standard normals, by numerical integration of its density
    k phi(x) (1 - Phi(x))^(k-1) on a fine grid (exact to 1e-6 for k up to 10^6). (0, 1) for k = 1."""
    k = max(1, int(k))
    if k not in _MIN_MOMENTS:
        x = np.linspace(-9.0, 9.0, 36001)
        phi = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        sf = 0.5 * _erfc(x / math.sqrt(2.0))  # 1 - Phi(x)
        dens = k * phi * sf ** (k - 1)
        dx = x[1] - x[0]
        m = float((x * dens).sum() * dx)
        v = float(((x - m) ** 2 * dens).sum() * dx)
        _MIN_MOMENTS[k] = (m, v)
    return _MIN_MOMENTS[k]


def _erfc(x: np.ndarray) -> np.ndarray:
    """Vectorised erfc (numpy has none): math.erfc over the array."""
    return np.fromiter((math.erfc(float(v)) for v in x), dtype=np.float64, count=x.size)


# The decays the validation noise is measured around: a + b g(c) [+ d t], with g(c) a power law k^(-c) in the
# evaluation's number k = 1..n or an exponential e^(-c t), t = 0..1. Each is linear in (a, b, d) once c is fixed, so
# the least-squares fit is a one-dimensional search over c of a linear least-squares problem (variable projection,
# Golub and Pereyra 1973): the profile SSE(c) on a grid over c's whole range, refined around its lowest point to 1e-10
# in c. A local iterative fit (scipy's curve_fit, used before) stops at the nearest of several minima in about one
# series of twenty and costs ten times as long for a validation series (for 10,000 values and more the grid costs
# more). b and d are held to +-10 x the series' span (the bounds the fits have always had: a power law with c near 0
# and a huge b is a straight line in log k).

FIT_RATE_GRID = {  # log-spaced near 0 too: with b at its bound, a narrow valley of the profile can lie at c ~ 1e-3
    "power": np.unique(np.concatenate([np.linspace(0.0, 6.0, 49), np.geomspace(1e-4, 0.1, 13)])),
    "exp": np.concatenate([[0.0], np.geomspace(1e-3, 0.05, 9)[:-1], np.geomspace(0.05, 50.0, 48)]),
}
FIT_REFINE_POINTS = 17  # points of each refinement of the bracket around the lowest grid point
FIT_REFINE_ROUNDS = 12  # at most this many refinements (each shrinks the bracket 8x; stops at 1e-10 of c)


def _basis(kind: str, n: int, c: np.ndarray) -> np.ndarray:
    """g(c) for each rate in ``c`` (shape (..., 1)) at the series' n points: rows of k^(-c) or e^(-c t)."""
    if kind == "power":
        return np.arange(1.0, n + 1.0) ** (-c)
    return np.exp(-c * np.linspace(0.0, 1.0, n))


def _box_lstsq(cols: np.ndarray, y: np.ndarray, bounds: list[tuple[float, float] | None]) -> np.ndarray:
    """The fitted values of min ||y - cols p|| with each bounded p_i in its interval (None: free): the unconstrained
    solution when it is feasible, else the best feasible solution with each bounded coefficient free or at one of its
    bounds (a convex problem's optimum lies on one of these faces; 3 coefficients at most, so 9 faces)."""
    idx = [i for i, b in enumerate(bounds) if b is not None]
    best: tuple[float, np.ndarray] | None = None
    for choice in itertools.product((None, 0, 1), repeat=len(idx)):
        fixed = {i: bounds[i][ch] for i, ch in zip(idx, choice) if ch is not None}  # type: ignore[index]
        free = [i for i in range(cols.shape[1]) if i not in fixed]
        r = y - sum((v * cols[:, i] for i, v in fixed.items()), np.zeros_like(y))
        p = np.zeros(cols.shape[1])
        if free:
            p[free] = np.linalg.lstsq(cols[:, free], r, rcond=None)[0]
        for i, v in fixed.items():
            p[i] = v
        if not all(b is None or b[0] - 1e-12 <= p[i] <= b[1] + 1e-12 for i, b in enumerate(bounds)):
            continue
        f = cols @ p
        sse = float(((y - f) ** 2).sum())
        if best is None or sse < best[0]:
            best = (sse, f)
        if not fixed:
            break  # the unconstrained solution is feasible: it is the optimum
    assert best is not None  # every coefficient at a bound is always feasible
    return best[1]


def _separable_fit(y: np.ndarray, kind: str, line: bool) -> np.ndarray:
    """Residuals of y around its least-squares a + b g(c) [+ d t] (see above), c over FIT_RATE_GRID[kind]."""
    n = y.size
    lim = 10.0 * (float(y.max() - y.min()) or 1.0)
    t = np.linspace(0.0, 1.0, n)
    x0 = np.column_stack([np.ones(n), t]) if line else np.ones((n, 1))
    q0 = np.linalg.qr(x0)[0]
    yp = y - q0 @ (q0.T @ y)  # y with the constant (and the line) projected out
    yy = float(yp @ yp)
    line_of = np.linalg.pinv(x0)[-1] if line else None  # the line's coefficient of a series regressed on [1, t]

    def cols(c: float) -> np.ndarray:
        return np.column_stack([np.ones(n), _basis(kind, n, np.array(c))] + ([t] if line else []))

    def exact(c: float) -> np.ndarray:
        return _box_lstsq(cols(c), y, [None, (-lim, lim)] + ([(-lim, lim)] if line else []))

    def sse(cs: np.ndarray) -> np.ndarray:
        """The profile: the least SSE over (a, b[, d]) at each rate, b (and d) within their bounds."""
        g = _basis(kind, n, cs[:, None])
        gp = g - (g @ q0) @ q0.T
        gg, gy = np.einsum("ij,ij->i", gp, gp), gp @ yp
        ok = gg > 1e-12 * n
        b = np.clip(np.where(ok, gy / np.where(ok, gg, 1.0), 0.0), -lim, lim)  # one bounded coefficient: clip it
        out = yy - 2 * b * gy + b * b * gg
        if line_of is not None:  # the line's coefficient outside its bounds too (rare): the exact fit there
            for j in np.flatnonzero(np.abs((y[None, :] - b[:, None] * g) @ line_of) > lim):
                r = y - exact(float(cs[j]))
                out[j] = float(r @ r)
        return out

    grid = FIT_RATE_GRID[kind]
    vals = sse(grid)
    i = int(np.argmin(vals))
    c, best = float(grid[i]), float(vals[i])
    lo, hi = float(grid[max(0, i - 1)]), float(grid[min(grid.size - 1, i + 1)])
    for _ in range(FIT_REFINE_ROUNDS):
        if hi - lo <= 1e-10 * (1.0 + abs(c)):
            break
        cs = np.linspace(lo, hi, FIT_REFINE_POINTS)
        v = sse(cs)
        j = int(np.argmin(v))
        if v[j] < best:
            c, best = float(cs[j]), float(v[j])
        lo, hi = float(cs[max(0, j - 1)]), float(cs[min(FIT_REFINE_POINTS - 1, j + 1)])
    return y - exact(c)


def _best_fit(y: np.ndarray, line: bool) -> np.ndarray | None:
    """The residuals of the better (smaller sum of squares) of the power-law and exponential fits; None when neither
    leaves finite residuals (or y holds a value that is not finite)."""
    if not np.isfinite(y).all():
        return None
    best: np.ndarray | None = None
    for kind in ("power", "exp"):
        with np.errstate(all="ignore"):
            r = _separable_fit(y, kind, line)
        if np.isfinite(r).all() and (best is None or float(r @ r) < float(best @ best)):
            best = r
    return best


def _decay_drift_residuals(y: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Residuals of y around a decay plus a straight line, a + b k^(-c) + d t or a + b e^(-c t) + d t (t = 0..1), the
    better of the two, with their degrees of freedom n - 4: a curve that falls and then rises (validation past its
    best) or keeps falling at a steady rate after its bend. None for fewer than 8 values or when both fits fail."""
    if y.size < 8:
        return None
    best = _best_fit(y, line=True)
    return None if best is None else (best, y.size - 4)


def _decay_residuals(y: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Residuals of y around the better of two least-squares decays over the whole series: a power law a + b k^(-c)
    in the evaluation's number k = 1..n (c in [0, 6]) and an exponential a + b e^(-c t), t = 0..1 (c in [0, 50]);
    with their degrees of freedom n - 3. None when both fits fail. Loss curves fall roughly like one of these, so a
    smooth curve leaves only its noise."""
    if y.size < 5:
        return None
    best = _best_fit(y, line=False)
    return None if best is None else (best, y.size - 3)


STEP_JUMP_Z = 5.0  # one difference of a series this many robust sds of the others is a level shift, not noise
STEP_SEGMENT_MIN = 3  # ... whose two sides are fitted apart when each holds this many values or more (fewer: left out)


def _step_split_noise(v: np.ndarray) -> tuple[float, int] | None:
    """(sd, degrees of freedom) of a series with one level shift (a step schedule's drop, an unfrozen layer, a run
    resumed with another rate): its largest successive difference, when it is more than STEP_JUMP_Z robust sds of the
    other differences, splits it in two, and each side's residuals around its own trend (``series_noise`` of that side,
    or a line through 3 values) are pooled, one degree of freedom taken for the shift's place, chosen from the data.
    A shift no smooth trend describes would otherwise count as noise (a drop of 0.14 in a series whose noise is 0.01
    read as noise of 0.03). A side shorter than STEP_SEGMENT_MIN values is left out. None without such a shift, for
    fewer than 8 values, or when fewer than 2 degrees of freedom remain."""
    if v.size < 8:
        return None
    d = np.diff(v)
    i = int(np.argmax(np.abs(d)))
    rest = mad_sd(np.delete(d, i))
    if not (math.isfinite(rest) and abs(float(d[i])) > STEP_JUMP_Z * rest):
        return None
    ss, df = 0.0, -1
    for side in (v[: i + 1], v[i + 1 :]):
        if side.size >= 4:
            sd, f = series_noise(side, split=False)
        elif side.size >= STEP_SEGMENT_MIN:
            r, f = poly_residuals(side, 1)
            sd = math.sqrt(float((r * r).sum()) / f) if f > 0 else math.nan
        else:
            continue
        if math.isfinite(sd) and f > 0:
            ss, df = ss + sd * sd * f, df + f
    if df < 2:
        return None
    return math.sqrt(ss / df), df


def series_noise(val: np.ndarray, *, split: bool = True) -> tuple[float, int]:
    """(sd of one value, degrees of freedom) of a short, smooth series (validation losses) from its own residuals
    around a fitted trend, from the best of three fits:

    - a decay over the whole series, a power law or an exponential (df = n - 3): falling curves, whose early bend
      second differences would count as noise;
    - second differences over the last two thirds (at least 4 values): a local quadratic, for curves a decay does not
      describe (a rise after a minimum). Var(y_t - 2 y_t-1 + y_t-2) = 6 var(e); the differences overlap (lag-1
      correlation -2/3, lag-2 1/6), so k of them carry about k / 1.94 degrees of freedom;
    - from 8 values, a decay plus a straight line over the whole series (df = n - 4): a fall, its best, then a rise
      (the curve of overfitting), whose bend second differences count as noise.

    Each can only overstate the noise when the trend is not its own. The one taken is the one whose noise band is
    narrowest: the sd times the t quantile of its degrees of freedom at 3 standard errors' confidence (a smaller sd
    on fewer degrees of freedom is not a tighter estimate). With ``split``, a fourth: a series with one level shift
    fitted on each side of it (``_step_split_noise``). NaN for fewer than 4."""
    v = finite(val)
    if v.size < 4:
        return math.nan, 0
    d2 = np.diff(v[-max(4, int(math.ceil(2 * v.size / 3))) :], n=2)
    candidates = [(math.sqrt(float((d2 * d2).mean()) / 6.0), max(1, int(d2.size / 1.944)))]
    for fit in (_decay_residuals(v), _decay_drift_residuals(v)):
        if fit is not None and fit[1] >= 2:
            candidates.append((math.sqrt(float((fit[0] * fit[0]).sum()) / fit[1]), fit[1]))
    stepped = _step_split_noise(v) if split else None
    if stepped is not None:
        candidates.append(stepped)
    return min(candidates, key=lambda c: c[0] * t_equivalent(3.0, c[1]))


def pre_best_noise(val: np.ndarray, whole: tuple[float, int], min_values: int, z: float) -> tuple[float, int] | None:
    """(sd, degrees of freedom) of a series' values up to and including its lowest (``series_noise`` of them), where they
    are ``min_values`` or more, some values follow, and the whole series' noise ``whole`` exceeds theirs beyond chance
    (``variance_ratio_p`` at ``z`` standard errors one-sided): an excursion after the best (validation that leapt to 15x its best and came
    partly back) is counted as noise by every fit of the whole series, and under "no rise after the best" the values up
    to it carry the series' noise. A flat series' stretch that ends at its lowest value is fitted a little too well:
    hence the test, not the smaller estimate alone. None otherwise."""
    v = finite(val)
    if v.size < 2:
        return None
    i_min = int(np.argmin(v))
    if i_min + 1 < min_values or i_min + 1 >= v.size:
        return None
    before = series_noise(v[: i_min + 1])
    if not (math.isfinite(before[0]) and math.isfinite(whole[0])) or before[1] < 2 or whole[0] <= before[0]:
        return None
    return before if variance_ratio_p(whole, before) < 1.0 - normal_cdf(z) else None


def variance_ratio_p(larger: tuple[float, int], smaller: tuple[float, int]) -> float:
    """One-sided p of two noise estimates (sd, degrees of freedom) as large a ratio as this under one common noise:
    the F distribution's upper tail at (sd_1 / sd_2)^2 with (df_1, df_2) degrees of freedom (scipy, imported here)."""
    from scipy.special import fdtrc

    (s1, d1), (s2, d2) = larger, smaller
    if not (s2 > 0 and d1 > 0 and d2 > 0):
        return 1.0
    return float(fdtrc(d1, d2, (s1 / s2) ** 2))


EXACT_RANKS_MAX = 40  # falling_pairs_p counts permutations exactly up to this many values, then uses the normal tail


def falling_pairs_p(y: np.ndarray) -> tuple[int, float]:
    """(falling pairs, one-sided p): the Mann-Kendall rank test of a short series for a fall, exact. Of the n(n-1)/2
    pairs i < j, count those with y_j < y_i; under exchangeable noise (no trend) every order of the values is
    equally likely, and the count of falling pairs is the number of inversions of a random permutation, whose exact
    distribution is Mahonian (by dynamic programming). p = P(inversions >= observed). Needs no noise estimate."""
    y = finite(y)
    n = y.size
    if n < 2:
        return 0, 1.0
    falls = int(sum(int((y[i + 1 :] < y[i]).sum()) for i in range(n - 1)))
    if n > EXACT_RANKS_MAX:
        # the Mahonian distribution is close to normal from here (mean n(n-1)/4, variance n(n-1)(2n+5)/72): at the
        # one-sided 3-sigma tail the normal p is within 20% of the exact count and above it (conservative; tested for
        # n = 41-60), and the exact counts would pass float range at n = 170: the normal tail, continuity-corrected
        mean, var = n * (n - 1) / 4.0, n * (n - 1) * (2 * n + 5) / 72.0
        return falls, 1.0 - normal_cdf((falls - 0.5 - mean) / math.sqrt(var))
    counts = np.zeros(1, dtype=np.float64)
    counts[0] = 1.0  # permutations of 1 element: one, with 0 inversions
    for m in range(2, n + 1):  # inserting the m-th element adds 0..m-1 inversions
        new = np.zeros(counts.size + m - 1)
        for add in range(m):
            new[add : add + counts.size] += counts
        counts = new
    return falls, float(counts[falls:].sum() / counts.sum())
