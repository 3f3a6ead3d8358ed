"""Synthetic click logs with the Ali-CCP sample's schema, generated in chunks.

The columns are those of ``../shared/data/samples/ali-ccp`` (and ``conf/data/ali_ccp.yaml``):
``click``, ``purchase``, 23 sparse fields named by their Ali-CCP field ids and 8 dense ``D*``
fields. Each sparse field's ids follow a Zipf law over its vocabulary (id 0 the most frequent);
the four dense user fields are positive values, the other four are zero in the sample's share of
rows. ``click`` is Bernoulli of a logistic model over every field's id effect and one dense field;
``purchase`` is zero without a click, and after one Bernoulli of a second logistic model (half
the click's effects, half its own). Both intercepts are calibrated once, on a fixed calibration
draw, so that the click rate and the purchase rate among clicks are the configured ones.

Rows are a deterministic function of ``(seed, settings)``: chunk ``c`` draws from the generator
seeded with ``[seed, c]`` and is always drawn whole, so the first N rows of a larger data set are
the N-row data set. An id's effect is a stable hash of (seed, field, id, label): no table of
effects is held, whatever the vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

SPARSE = ("101", "121", "122", "124", "125", "126", "127", "128", "129", "205", "206", "207",
          "210", "216", "508", "509", "702", "853", "301", "109_14", "110_14", "127_14",
          "150_14")  # fmt: skip
# Dense fields: (share of zeros, mean of the non-zero values), from the 200 sample rows.
DENSE = {"D109_14": (0.0, 0.4734), "D110_14": (0.0, 0.562), "D127_14": (0.0, 0.0856),
         "D150_14": (0.0, 0.1902), "D508": (0.18, 0.3405), "D509": (0.705, 0.1993),
         "D702": (0.64, 0.2793), "D853": (0.775, 0.1907)}  # fmt: skip
CALIBRATION_ROWS = 100_000
MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on uint64 arrays: a fixed, well-mixed hash (no salt)."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & MASK64
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & MASK64
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & MASK64
        return x ^ (x >> np.uint64(31))


def id_effect(seed: int, field: int, label: int, ids: np.ndarray) -> np.ndarray:
    """Each id's effect on one label's logit: mean 0, variance 1, a hash of its coordinates."""
    key = np.uint64((seed * 1_000_003 + field * 101 + label) % (1 << 63))
    bits = splitmix64(ids.astype(np.uint64) ^ splitmix64(np.array([key], dtype=np.uint64)))
    uniform = (bits >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return (uniform - 0.5) * np.sqrt(12.0)


@dataclass(frozen=True)
class CTRSettings:
    """What the rows are a function of (the cache key)."""

    rows: int
    seed: int
    vocab: dict[str, int]
    zipf: float
    click_rate: float
    purchase_rate_clicked: float
    chunk_rows: int

    def key(self) -> dict:
        return {"generator": "synthetic_ctr-v1", **self.__dict__}


class CTRGenerator:
    def __init__(self, settings: CTRSettings):
        self.s = settings
        self.cdf = {f: zipf_cdf(settings.vocab[f], settings.zipf) for f in SPARSE}
        rng = np.random.default_rng([settings.seed, 1 << 30])
        # Field weights of the click and of the purchase's own part: a few fields matter most.
        self.click_w = rng.gamma(0.5, 1.0, len(SPARSE))
        self.click_w *= 1.5 / np.sqrt((self.click_w**2).sum())
        self.buy_w = rng.gamma(0.5, 1.0, len(SPARSE))
        self.buy_w *= 1.5 / np.sqrt((self.buy_w**2).sum())
        self.click_bias, self.buy_bias = 0.0, 0.0
        self.click_bias, self.buy_bias = self.calibrate()

    def features(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        columns = {f: np.searchsorted(self.cdf[f], rng.random(n), side="right").astype(np.int32)
                   for f in SPARSE}  # fmt: skip
        for f, (zeros, mean) in DENSE.items():
            values = np.clip(mean * rng.gamma(4.0, 0.25, n), 0.0, 1.0)
            columns[f] = np.round(np.where(rng.random(n) < zeros, 0.0, values), 4)
        return columns

    def logits(self, columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        n = len(columns[SPARSE[0]])
        click, own = np.zeros(n), np.zeros(n)
        for j, f in enumerate(SPARSE):
            click += self.click_w[j] * id_effect(self.s.seed, j, 0, columns[f])
            own += self.buy_w[j] * id_effect(self.s.seed, j, 1, columns[f])
        click += 2.0 * (columns["D508"] - DENSE["D508"][1])
        return click + self.click_bias, 0.5 * click + 0.5 * own + self.buy_bias

    def calibrate(self) -> tuple[float, float]:
        """Intercepts giving the configured click rate and purchase rate among clicks, in
        expectation, on a fixed calibration draw (its own seed stream)."""
        columns = self.features(np.random.default_rng([self.s.seed, 1 << 31]), CALIBRATION_ROWS)
        click, buy = self.logits(columns)  # before calibration: both intercepts 0
        click_bias = solve_bias(click, np.ones_like(click), self.s.click_rate)
        buy_bias = solve_bias(buy, sigmoid(click + click_bias), self.s.purchase_rate_clicked)
        return click_bias, buy_bias

    def chunk(self, index: int) -> pd.DataFrame:
        rng = np.random.default_rng([self.s.seed, index])
        n = self.s.chunk_rows
        columns = self.features(rng, n)
        click_logit, buy_logit = self.logits(columns)
        click = rng.random(n) < sigmoid(click_logit)
        purchase = click & (rng.random(n) < sigmoid(buy_logit))
        labels = {"click": click.astype(np.int8), "purchase": purchase.astype(np.int8)}
        return pd.DataFrame({**labels, **columns})

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The data set, ``chunk_rows`` rows at a time (the last chunk cut to ``rows``)."""
        for index in range(-(-self.s.rows // self.s.chunk_rows)):
            frame = self.chunk(index)
            yield frame.iloc[: self.s.rows - index * self.s.chunk_rows]


def zipf_cdf(size: int, exponent: float) -> np.ndarray:
    weights = np.arange(1, size + 1, dtype=np.float64) ** -exponent
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    cdf[-1] = 1.0 + 1e-12  # a uniform draw never falls past the last id
    return cdf


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def solve_bias(logits: np.ndarray, weights: np.ndarray, rate: float) -> float:
    """``b`` with ``sum(w * sigmoid(logits + b)) / sum(w) == rate`` (bisection)."""
    low, high = -30.0, 30.0
    for _ in range(60):
        mid = (low + high) / 2
        if (weights * sigmoid(logits + mid)).sum() / weights.sum() < rate:
            low = mid
        else:
            high = mid
    return (low + high) / 2
