"""The Student t distribution and paired t-test of `mtfw report`, against closed forms, tables
and (where installed) scipy."""

from __future__ import annotations

import math
import random

import pytest

from mtfw.report.significance import paired_t_test, regularized_beta, t_cdf


@pytest.mark.parametrize("t", [-30.0, -2.5, -0.3, 0.0, 0.7, 1.0, 4.2, 50.0])
def test_t_cdf_matches_the_closed_forms_for_one_and_two_degrees_of_freedom(t: float) -> None:
    assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-13)  # Cauchy
    assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-13)


@pytest.mark.parametrize(
    ("df", "t"),  # two-sided 5% critical values from a t table: t_{0.975, df}
    [(1, 12.7062047), (2, 4.3026527), (3, 3.1824463), (4, 2.7764451), (9, 2.2621572),
     (30, 2.0422725)],
)  # fmt: skip
def test_t_cdf_at_tabulated_critical_values(df: int, t: float) -> None:
    assert t_cdf(t, df) == pytest.approx(0.975, abs=1e-7)
    assert t_cdf(-t, df) == pytest.approx(0.025, abs=1e-7)


def test_regularized_beta_known_values() -> None:
    # integer a, b: I_x(a, b) = P(Binomial(a + b - 1, x) >= a); I_0.4(2, 3) = 0.5248
    assert regularized_beta(2, 3, 0.4) == pytest.approx(0.5248, abs=1e-14)
    assert regularized_beta(0.5, 0.5, 0.3) == pytest.approx(
        2 / math.pi * math.asin(math.sqrt(0.3)),
        abs=1e-13,  # the arcsine distribution
    )
    assert regularized_beta(3, 1, 0.9) == pytest.approx(0.9**3, abs=1e-14)
    assert (regularized_beta(2, 2, 0.0), regularized_beta(2, 2, 1.0)) == (0.0, 1.0)
    with pytest.raises(ValueError, match="0 <= x <= 1"):
        regularized_beta(1, 1, 1.5)


def test_paired_t_test_edge_cases() -> None:
    assert paired_t_test([1.0, 2.0], [1.0, 2.0]) == (0.0, 1.0, 2)  # identical
    t, p, n = paired_t_test([1.1, 2.1, 3.1], [1.0, 2.0, 3.0])
    assert p == pytest.approx(0.0, abs=1e-9) and n == 3  # a constant non-zero difference
    assert math.isnan(paired_t_test([1.0], [2.0])[1])  # one pair: no test
    # differences 1, 2, 3: t = 2 / (1 / sqrt 3) = 2 sqrt 3, df = 2: p = 1 - t / sqrt(2 + t^2)
    t, p, _ = paired_t_test([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert t == pytest.approx(2 * math.sqrt(3)) and p == pytest.approx(1 - t / math.sqrt(14))


def test_agrees_with_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(0)
    for _ in range(200):
        df = rng.choice([1, 2, 3, 5, 8, 13.5, 40, 200])
        t = rng.uniform(-15, 15)
        assert t_cdf(t, df) == pytest.approx(stats.t.cdf(t, df), abs=1e-12)
    for _ in range(50):
        a = [rng.gauss(0, 1) for _ in range(6)]
        b = [x + rng.gauss(0.2, 0.5) for x in a]
        expected = stats.ttest_rel(a, b)
        t, p, _ = paired_t_test(a, b)
        assert (t, p) == (pytest.approx(expected.statistic), pytest.approx(expected.pvalue))
