"""Paired t-test across seeds and folds: is a group's metric different from the baseline row's?

Runs are paired by seed (seed s of the group with seed s of the baseline: same data split, same
batch order) and, under K-fold cross-validation, by test fold (fold i with fold i: the same test
rows), which removes the variance both share. The Student t distribution is
computed here through the regularised incomplete beta function (continued fraction, Lentz's
method), so reports need no scipy.
"""

from __future__ import annotations

import math

import pandas as pd

TEST_NAME = "paired t-test, two-sided, runs paired by seed"
PAIRING = ("seed", "data.split.fold")  # a fold of None (no cross-validation) pairs by seed


def pairing_name(replicates: str) -> str:
    """The legend's name of the test, ``replicates`` being 'seed' or 'seed and data.split.fold'."""
    return f"paired t-test, two-sided, runs paired by {replicates}"


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction of I_x(a, b) (Numerical Recipes, betacf), modified Lentz's method."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 1000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < eps:
            break
    return result


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"regularized_beta needs 0 <= x <= 1, got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))  # fmt: skip
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))  # P(T > |t|)
    return 1.0 - tail if t > 0 else tail


def paired_t_test(values: list[float], baseline: list[float]) -> tuple[float, float, int]:
    """(t, two-sided p, number of pairs); NaNs when fewer than two pairs. Identical pairs give
    p = 1; a constant non-zero difference gives p = 0."""
    diffs = [a - b for a, b in zip(values, baseline, strict=True)]
    n = len(diffs)
    if n < 2:
        return math.nan, math.nan, n
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if sd == 0.0:
        return (0.0, 1.0, n) if mean == 0.0 else (math.copysign(math.inf, mean), 0.0, n)
    t = mean / (sd / math.sqrt(n))
    return t, 2.0 * (1.0 - t_cdf(abs(t), n - 1)), n


def by_pair(runs: pd.DataFrame, key: str) -> dict:
    """(seed, fold) -> value of ``key`` (the first run of a pair when one repeats)."""
    values: dict = {}
    if key not in runs or "seed" not in runs:
        return values
    folds = runs[PAIRING[1]] if PAIRING[1] in runs else pd.Series(None, index=runs.index)
    numbers = pd.to_numeric(runs[key], errors="coerce")
    for seed, fold, value in zip(runs["seed"], folds, numbers, strict=True):
        if not math.isnan(value):
            values.setdefault((seed, None if pd.isna(fold) else int(fold)), float(value))
    return values


def compare_paired(runs: pd.DataFrame, baseline: pd.DataFrame, key: str) -> tuple[float, int]:
    """(two-sided p, pairs) of the paired t-test of ``key`` on the (seed, fold) pairs both sets
    have."""
    mine, theirs = by_pair(runs, key), by_pair(baseline, key)
    pairs = sorted(set(mine) & set(theirs), key=str)
    _, p, n = paired_t_test([mine[s] for s in pairs], [theirs[s] for s in pairs])
    return p, n
