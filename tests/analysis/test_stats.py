import math

import numpy as np
import pytest

from lossdoc.analysis import stats


def test_mad_sd_recovers_the_sd_of_a_normal_sample():
    x = np.random.default_rng(0).normal(5.0, 0.3, 20000)
    assert stats.mad_sd(x) == pytest.approx(0.3, rel=0.03)


def test_diff_noise_ignores_a_trend():
    rng = np.random.default_rng(1)
    x = np.linspace(10, 2, 5000) + rng.normal(0, 0.05, 5000)
    assert stats.diff_noise_sd(x) == pytest.approx(0.05, rel=0.05)
    assert np.std(x) > 1  # the plain sd would be dominated by the trend


def test_linear_trend_matches_numpy_polyfit_and_its_standard_error():
    rng = np.random.default_rng(2)
    x = np.arange(200.0)
    y = 3.0 - 0.01 * x + rng.normal(0, 0.1, 200)
    slope, se = stats.linear_trend(y, x)
    p1, _ = np.polyfit(x, y, 1)
    assert slope == pytest.approx(float(p1), rel=1e-10)
    resid = y - np.polyval(np.polyfit(x, y, 1), x)
    s2 = (resid**2).sum() / (200 - 2)
    assert se == pytest.approx(math.sqrt(s2 / ((x - x.mean()) ** 2).sum()), rel=1e-10)


def test_rolling_median_against_a_loop():
    x = np.random.default_rng(3).normal(size=50)
    got = stats.rolling_median(x, 5)
    for i in range(2, 48):
        assert got[i] == np.median(x[i - 2 : i + 3])


def test_expected_min_of_normals_against_simulation():
    rng = np.random.default_rng(4)
    mins = rng.normal(0, 1, (4000, 100)).min(axis=1)
    assert stats.expected_min_of_normals(0.0, 1.0, 100) == pytest.approx(mins.mean(), abs=0.02)


def test_normal_cdf():
    assert stats.normal_cdf(0) == 0.5
    assert stats.normal_cdf(1.96) == pytest.approx(0.975, abs=1e-4)


def _rolling_reference(x, window):
    """The running median as np.median over every centred window at once (the definition, in one call)."""
    x = np.asarray(x, dtype=np.float64)
    if not x.size:
        return x.copy()
    w = max(1, min(window, x.size))
    padded = np.pad(x, (w // 2, w - 1 - w // 2), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, w)
    return np.nanmedian(windows, axis=1) if np.isnan(x).any() else np.median(windows, axis=1)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 21, 22, 150])
@pytest.mark.parametrize("window", [1, 2, 3, 4, 21, 50])
def test_rolling_median_in_blocks_equals_the_median_of_every_window(monkeypatch, n, window):
    monkeypatch.setattr(stats, "_ROLLING_ROWS", 7)  # many blocks, and windows that straddle them
    x = np.random.default_rng(n * 100 + window).normal(9.2, 0.1, size=n)
    np.testing.assert_array_equal(stats.rolling_median(x, window), _rolling_reference(x, window))
    if n > 3:
        x[2] = np.nan
        np.testing.assert_array_equal(stats.rolling_median(x, window), _rolling_reference(x, window))


def test_rolling_median_kept_for_a_series_is_recomputed_when_it_changes(monkeypatch):
    monkeypatch.setattr(stats, "_ROLLING_ROWS", 8)  # series of 4 blocks or more are kept
    x = np.random.default_rng(1).normal(size=200)
    first = stats.rolling_median(x, 21)
    first[:] = 0.0  # the caller owns what it gets
    np.testing.assert_array_equal(stats.rolling_median(x, 21), _rolling_reference(x, 21))
    x[50:100] = 5.0
    np.testing.assert_array_equal(stats.rolling_median(x, 21), _rolling_reference(x, 21))


def test_series_noise_of_a_curve_that_falls_then_rises_is_its_scatter_not_its_bend():
    # a smooth validation curve past its best (sd 0.003 around a decay plus a rise): second differences count the bend
    # as noise and a decay alone misses the rise; a decay plus a straight line leaves the scatter
    rng = np.random.default_rng(5)
    k = np.arange(1.0, 13.0)
    truth = 1.4 + 0.9 * k**-1.5 + 0.012 * (k - 1)
    sd, df = stats.series_noise(truth + rng.normal(0, 0.003, k.size))
    assert df == 8 and sd < 0.006
    # and a flat, noisy series is not made quieter by the extra freedom: its sd is about the truth (0.02)
    sds = [stats.series_noise(2.0 + np.random.default_rng(s).normal(0, 0.02, 12))[0] for s in range(15)]
    assert 0.015 < float(np.median(sds)) < 0.025


def _fit_series():
    """Validation series of the shapes the fits meet: falling (power law, exponential), past its best and rising,
    flat noise (where the decay's rate is barely determined), short, and a smooth curve with no noise at all."""
    x = np.arange(22)
    k = np.arange(1.0, 31.0)
    for seed in range(2):
        rng = np.random.default_rng(seed)
        yield 2.5 + 0.5 * np.exp(-x / 3) + np.clip(x - 9, 0, None) / 12 * 0.12 + rng.normal(0, 0.02, 22)
        yield 2.5 + 0.5 * np.exp(-x / 3) + rng.normal(0, 0.02, 22)
        yield np.concatenate([[2.6], 2.5 + rng.normal(0, 0.05, 10)])
        yield 3.0 + 2.0 * k**-0.7 + rng.normal(0, 0.01, k.size)
        yield 1.9 + 0.4 * np.exp(-np.arange(8) / 2) + rng.normal(0, 0.01, 8)
        yield 2.0 + rng.normal(0, 0.02, 15)
    yield 2.345 - 0.1 * np.log(np.arange(1.0, 7.0))


def _reference_sse(y: np.ndarray, line: bool) -> float:
    """The least sum of squares scipy's curve_fit (trust-region reflective, numerical derivatives) reaches for the
    same models and bounds, from several starting rates: an independent computation of the fits' optimum."""
    from scipy.optimize import curve_fit

    n = y.size
    k, t = np.arange(1.0, n + 1.0), np.linspace(0.0, 1.0, n)
    span = float(y.max() - y.min()) or 1.0
    best = math.inf
    for g, x, c_hi, starts in ((lambda x, c: x ** (-c), k, 6.0, (0.3, 1.0, 3.0)), (lambda x, c: np.exp(-c * x), t, 50.0, (0.5, 3.0, 20.0))):
        for c0 in starts:
            if line:
                f = lambda x, a, b, c, d, g=g: a + b * g(x, c) + d * (t if x is t else (x - 1.0) / (n - 1.0))  # noqa: E731
                p0, lo, hi = (y.min(), y[0] - y.min(), c0, 0.0), [-np.inf, -10 * span, 0.0, -10 * span], [np.inf, 10 * span, c_hi, 10 * span]
            else:
                f = lambda x, a, b, c, g=g: a + b * g(x, c)  # noqa: E731
                p0, lo, hi = (y[-1], y[0] - y[-1], c0), [-np.inf, -10 * span, 0.0], [np.inf, 10 * span, c_hi]
            try:
                p, _ = curve_fit(f, x, y, p0=p0, bounds=(lo, hi), maxfev=20000, xtol=1e-14, ftol=1e-14, gtol=1e-14)
            except (RuntimeError, ValueError):
                continue
            best = min(best, float(((y - f(x, *p)) ** 2).sum()))
    return best


def test_the_decay_fits_reach_scipys_least_squares_optimum_or_below_it():
    """The one-dimensional search over the rate (variable projection) against scipy's curve_fit from three starting
    rates, same models and bounds: its sum of squares is never above curve_fit's best (to 1e-7 relative), and on the
    falling curves, whose optimum is well determined, the two agree to 1e-5 relative."""
    for y in _fit_series():
        for fit, line in ((stats._decay_residuals, False), (stats._decay_drift_residuals, True)):
            got = fit(y)
            if y.size < (8 if line else 5):
                assert got is None
                continue
            assert got is not None and got[1] == y.size - (4 if line else 3)
            sse, ref = float((got[0] ** 2).sum()), _reference_sse(y, line)
            assert sse <= ref * (1 + 1e-7) + 1e-20, (y.size, line, sse, ref)
            if y.size in (22, 30) and not line:
                assert sse == pytest.approx(ref, rel=1e-5, abs=1e-12)


def test_a_fit_held_at_its_bounds_is_the_bounded_optimum():
    """A straight fall in log k is a power law with c -> 0 and b -> infinity: with b held to 10 x the span, the fit
    stops at the bound, and its sum of squares is the brute-force bounded optimum's over a fine grid of c (an unbounded
    fit would be lower)."""
    y = 2.0 - 0.3 * np.log(np.arange(1.0, 13.0))
    r = stats._separable_fit(y, "power", line=False)
    lim = 10 * float(y.max() - y.min())

    def brute(cs: np.ndarray) -> np.ndarray:  # the bounded optimum's SSE at each rate: b free (clipped) or at a bound
        g = np.arange(1.0, 13.0)[None, :] ** -cs[:, None]
        gc, yc = g - g.mean(axis=1, keepdims=True), y - y.mean()
        gg = (gc * gc).sum(axis=1)
        free = np.clip(np.divide(gc @ yc, gg, out=np.zeros_like(gg), where=gg > 0), -lim, lim)
        return np.min([((yc[None, :] - b[:, None] * gc) ** 2).sum(axis=1) for b in (free, np.full_like(gg, -lim), np.full_like(gg, lim))], axis=0)

    coarse = np.linspace(0.0, 6.0, 60001)
    c0 = float(coarse[int(np.argmin(brute(coarse)))])
    best = float(brute(np.linspace(max(0.0, c0 - 2e-4), c0 + 2e-4, 40001)).min())  # then a grid 1e-8 apart around it
    assert float(r @ r) == pytest.approx(best, rel=1e-6)  # neither above the bounded optimum nor below it (unbounded)


def test_end_slope_is_the_fitted_quadratics_derivative_at_the_last_point():
    """Against numpy's polyfit of the same points (an independent least-squares fit): the derivative at the last x, its
    standard error from the fit's own covariance (residuals over n - 3), and a given noise used where it is larger."""
    rng = np.random.default_rng(4)
    x = np.linspace(100.0, 900.0, 17)
    y = 2.0 - 1e-3 * x + 4e-7 * x**2 + rng.normal(0, 0.01, x.size)
    b, se, df = stats.end_slope(y, x)
    p, cov = np.polyfit(x, y, 2, cov="unscaled")
    resid = y - np.polyval(p, x)
    s2 = float(resid @ resid) / (x.size - 3)
    g = np.array([2 * x[-1], 1.0, 0.0])  # d/dx of p0 x^2 + p1 x + p2 at the last x
    assert df == x.size - 3
    assert b == pytest.approx(float(g @ p), rel=1e-9)
    assert se == pytest.approx(math.sqrt(s2 * float(g @ cov @ g)), rel=1e-7)
    b2, se2, df2 = stats.end_slope(y, x, sd=1.0)  # a noise larger than the residuals' is the one used
    assert b2 == b and df2 == 0 and se2 == pytest.approx(se / math.sqrt(s2), rel=1e-9)
    assert math.isnan(stats.end_slope(y[:4], x[:4])[0])


def test_t_equivalent_is_students_t_quantile_at_the_normal_confidence_of_z():
    """t_equivalent(z, df) is scipy.stats.t.ppf(Phi(z), df) (scipy.special.stdtrit, which it calls, is imported in a
    fifth of the time): bit for bit at every df below 200, and z itself from 200 on."""
    from scipy.stats import norm, t

    for z in (1.0, 2.0, 3.0, 4.5, 6.0):
        for df in (1, 2, 3, 5, 9, 30, 199):
            assert stats.t_equivalent(z, df) == float(t.ppf(norm.cdf(z), df)) > z
        assert stats.t_equivalent(z, 200) == stats.t_equivalent(z, math.inf) == z
    assert stats.t_equivalent(3.0, 4.7) == stats.t_equivalent(3.0, 4)  # whole degrees of freedom, at least 1


def test_quarters_change_against_numpy():
    rng = np.random.default_rng(7)
    x = np.linspace(3.0, 2.0, 40) + rng.normal(0, 0.05, 40)
    start, end, se = stats.quarters_change(x)
    assert start == np.median(x[:10]) and end == np.median(x[-10:])
    d = np.diff(x)
    mad_sd = 1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2)  # successive differences' robust sd / sqrt 2
    assert se == pytest.approx(1.2533 * mad_sd * np.sqrt(2 / 10), rel=1e-3)
    assert all(np.isnan(v) for v in stats.quarters_change(np.array([1.0, 2.0, 3.0])))


def _mahonian_tail(n, k):
    """P(inversions >= k) of a random permutation of n, by exact integer counts (independent of stats' floats)."""
    counts = [1]
    for m in range(2, n + 1):
        new = [0] * (len(counts) + m - 1)
        for i, c in enumerate(counts):
            for add in range(m):
                new[i + add] += c
        counts = new
    return sum(counts[k:]) / sum(counts)


def test_falling_pairs_p_is_the_exact_rank_test():
    from itertools import permutations

    y = np.array([3.0, 1.0, 2.5, 0.5, 0.7])
    falls, p = stats.falling_pairs_p(y)
    inv = lambda t: sum(t[i] > t[j] for i in range(len(t)) for j in range(i + 1, len(t)))  # noqa: E731
    assert falls == inv(tuple(y))
    assert p == pytest.approx(sum(inv(t) >= falls for t in permutations(range(5))) / 120)


@pytest.mark.parametrize("n", [41, 50, 60])
def test_falling_pairs_p_beyond_40_values_is_the_normal_tail_and_errs_high(n):
    # near p = 1e-3 (3 standard errors one-sided): the normal tail is within 20% of the exact count, and not below it
    mean, sd = n * (n - 1) / 4, math.sqrt(n * (n - 1) * (2 * n + 5) / 72)
    k = int(round(mean + 3 * sd))
    y = np.arange(n, dtype=float)[::-1].copy()  # n(n-1)/2 falls, brought down to exactly k below
    rng = np.random.default_rng(n)
    while True:  # a random order with exactly k falls: swap neighbours in order until the count is k
        falls, _ = stats.falling_pairs_p(y)
        if falls == k:
            break
        j = int(rng.integers(0, n - 1))
        if (falls > k) == (y[j] > y[j + 1]):
            y[j], y[j + 1] = y[j + 1], y[j]
    _, p = stats.falling_pairs_p(y)
    exact = _mahonian_tail(n, k)
    assert exact <= p <= 1.2 * exact, (p, exact)


@pytest.mark.parametrize("past", [True, False])
def test_a_level_shift_is_fitted_apart_from_step_jump_z_robust_sds_of_the_other_differences(past):
    # the other differences alternate +a, -a: their median absolute deviation is a, their robust sd 1.4826 a
    a = 0.01
    other = np.resize([a, -a], 16)
    jump = stats.STEP_JUMP_Z * stats.MAD_TO_SD * a * (1.05 if past else 0.95)
    d = np.insert(other, 8, -jump)
    v = 2.0 + np.concatenate(([0.0], np.cumsum(d)))
    split = stats._step_split_noise(v)
    assert (split is not None) is past
    if past:
        # each side (9 values) is the same zigzag: its residuals around its own fit, pooled, one df for the shift's place
        left, right = v[:9], v[9:]
        sd_l, df_l = stats.series_noise(left, split=False)
        sd_r, df_r = stats.series_noise(right, split=False)
        assert split == pytest.approx((math.sqrt((sd_l**2 * df_l + sd_r**2 * df_r) / (df_l + df_r - 1)), df_l + df_r - 1))


def test_a_step_side_of_three_values_is_a_line_and_fewer_are_left_out():
    rng = np.random.default_rng(0)
    tail = 1.0 + rng.normal(0, 0.01, 12)
    # two values before the shift: left out, the right side alone, one degree of freedom less for the shift's place
    v = np.concatenate(([3.0, 3.01], tail))
    sd, df = stats.series_noise(tail, split=False)
    assert stats._step_split_noise(v) == pytest.approx((sd * math.sqrt(df / (df - 1)), df - 1))
    # three before it: their residuals around a line (one degree of freedom) join the pool
    head = np.array([3.0, 3.02, 3.01])
    v3 = np.concatenate((head, tail))
    r = head - np.polyval(np.polyfit(np.arange(3.0), head, 1), np.arange(3.0))
    ss = float((r * r).sum()) + sd * sd * df
    assert stats._step_split_noise(v3) == pytest.approx((math.sqrt(ss / df), df))
