"""Seeded, stateless hashes of row numbers and values: a row's split and fold on disk storage.

SplitMix64 (Steele, Lea and Flood, OOPSLA 2014) of the row number, mixed with the seed and a
stream number: every chunk computes its rows' values alone, in any order, on any machine, and a
row's value never depends on how the file was chunked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtfw.data.id_vocab import HASH_KEY, as_text

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser of ``x + golden`` (uint64, wrapping)."""
    with np.errstate(over="ignore"):
        z = np.asarray(x, dtype=np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def unit_interval(keys: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """A uniform value in [0, 1) per uint64 key, the same for the same (key, seed, stream)."""
    salt = splitmix64(np.array([seed * 1_000_003 + stream], dtype=np.uint64))
    with np.errstate(over="ignore"):
        hashed = splitmix64(np.asarray(keys, dtype=np.uint64) ^ salt)
    return (hashed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def value_keys(values: pd.Series) -> np.ndarray:
    """A uint64 key per value, equal for equal values (their text): group ids, user ids."""
    return pd.util.hash_array(as_text(values).to_numpy(dtype=object), hash_key=HASH_KEY)
