"""The preprocessing fitted on the train rows a chunk at a time, to the same state as
:meth:`Preprocessor.fit` on all of them at once.

Categorical values are counted (``value_counts`` summed over chunks; hashed columns by bucket), so
``min_count`` and the sorted vocabulary are those of the whole train split; sequence tokens are
collected as a set; numeric columns accumulate count, mean and the sum of squared deviations of
their finite values, merged per chunk by Chan, Golub and LeVeque's pairwise update (1979), which
is as accurate as two passes (the standard deviation agrees with NumPy's to rounding).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtfw.data.id_vocab import as_text, stable_hash
from mtfw.data.preprocess import Preprocessor


class StreamingFit:
    """Feed it train chunks with :meth:`add`; :meth:`fitted` fills and returns ``pre``."""

    def __init__(self, pre: Preprocessor):
        self.pre = pre
        self.counts: dict[str, pd.Series] = {}
        self.bucket_counts = {c: np.zeros(n + 1, dtype=np.int64)
                              for c, n in pre.hash_buckets.items()}  # fmt: skip
        self.tokens: dict[str, set[str]] = {c: set() for c in pre.sequence}
        self.moments = {c: (0, 0.0, 0.0) for c in pre.numeric}  # n, mean, M2 of finite values
        self.missing = dict.fromkeys(pre.numeric, False)
        self.rows = 0

    def add(self, frame: pd.DataFrame) -> None:
        pre, self.rows = self.pre, self.rows + len(frame)
        for col in pre.categorical:
            if col in pre.hash_buckets:
                ids = stable_hash(frame[col], pre.hash_buckets[col])
                self.bucket_counts[col] += np.bincount(ids, minlength=len(self.bucket_counts[col]))
                continue
            counts = as_text(frame[col]).value_counts(sort=False)
            known = self.counts.get(col)
            self.counts[col] = counts if known is None else known.add(counts, fill_value=0)
        for col in pre.sequence:
            self.tokens[col].update(pre.split_tokens(frame, col).dropna().tolist())
        for col in pre.numeric:
            values = pre.numeric_values(frame, col)
            finite = values[np.isfinite(values)]
            self.missing[col] |= finite.size < values.size
            if finite.size:
                self.moments[col] = merge(self.moments[col], finite)

    def fitted(self) -> Preprocessor:
        pre = self.pre
        if self.rows == 0:
            raise ValueError("cannot fit preprocessing on an empty train split")
        for col in pre.categorical:
            least = pre.min_count.get(col, 1)
            if col in pre.hash_buckets:
                counts = self.bucket_counts[col]
                pre.vocab[col] = []
                pre.kept_buckets[col] = (
                    None if least <= 1 else (np.flatnonzero(counts[1:] >= least) + 1).tolist()
                )
                continue
            counts = self.counts.get(col, pd.Series(dtype=np.int64))
            pre.vocab[col] = sorted(counts.index[counts.to_numpy() >= least].tolist())
        for col in pre.sequence:
            pre.tokens[col] = sorted(self.tokens[col])
        for col in pre.numeric:
            n, mean, m2 = self.moments[col]
            std = float(np.sqrt(m2 / n)) if n else 1.0
            pre.mean[col], pre.std[col] = (float(mean) if n else 0.0), (std if std > 0 else 1.0)
        pre.indicators = [c for c in pre.numeric if pre.missing_indicator and self.missing[c]]
        return pre


def merge(moments: tuple[int, float, float], values: np.ndarray) -> tuple[int, float, float]:
    """``(n, mean, M2)`` of the values seen so far and ``values`` (Chan et al.'s update)."""
    n_a, mean_a, m2_a = moments
    n_b, mean_b = values.size, float(values.mean())
    m2_b = float(((values - mean_b) ** 2).sum())
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * n_b / n, m2_a + m2_b + delta * delta * n_a * n_b / n
