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
    s2 = (resid ** 2).sum() / (200 - 2)
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
