"""How categorical values become embedding rows: ``min_count`` and ``hash_buckets``.

``min_count`` (a whole number >= 1 for every categorical column, or ``{column: n}``): a value seen
fewer than n times in the *train* split gets no row of its own and shares row 0, the row of values
never seen in train. ``hash_buckets`` (a whole number >= 2, or ``{column: n}``): a column's values
are hashed into rows ``1..n`` instead of a vocabulary (no vocabulary is stored, and a value
unseen in train still gets its bucket); with ``min_count`` too, a bucket seen fewer than
``min_count`` times in train maps to row 0. The hash is pandas' ``hash_array`` of the value's
text (SipHash-2-4 with pandas' fixed key): the same in every process and on every machine,
unlike Python's salted ``hash()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from mtfw.errors import ConfigError

HASH_KEY = "0123456789123456"  # pandas' default key, pinned here: the buckets never change
MISSING = "<missing>"  # a missing categorical value is a category of its own (preprocess.py)


def check_per_column(name: str, value: object, low: int) -> int | dict[str, int] | None:
    """``None``, a whole number >= ``low``, or ``{column: whole number >= low}``."""
    if value is None:
        return None
    items = dict(value).items() if isinstance(value, Mapping) else None  # a DictConfig too
    values = [v for _, v in items] if items is not None else [value]
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or v < low:
            raise ConfigError(
                f"data.{name}={value!r}: expected a whole number >= {low} for every categorical "
                f"column, or {{column: n}} with whole numbers >= {low} (e.g. data.{name}={low}"
                f" or 'data.{name}={{user_id: {max(low, 5)}}}'), or null for none"
            )
    return {str(k): int(v) for k, v in items} if items is not None else int(value)


def per_column(setting: int | dict[str, int] | None, columns: list[str], name: str) -> dict:
    """The setting for each of ``columns`` (a dict naming a column that is not categorical is an
    error, with the columns that are)."""
    if setting is None:
        return {}
    if not isinstance(setting, dict):
        return {c: setting for c in columns}
    unknown = [c for c in setting if c not in columns]
    if unknown:
        raise ConfigError(
            f"data.{name} names {', '.join(unknown)}, not a categorical column of this data; "
            f"its categorical columns: {', '.join(columns[:40])}"
        )
    return dict(setting)


def as_text(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna(MISSING)


def stable_hash(values: pd.Series, buckets: int) -> np.ndarray:
    """Rows ``1..buckets`` of each value's text: deterministic across processes."""
    hashed = pd.util.hash_array(as_text(values).to_numpy(dtype=object), hash_key=HASH_KEY)
    return (hashed % np.uint64(buckets)).astype(np.int64) + 1


def fit_vocabulary(values: pd.Series, min_count: int) -> list[str]:
    """The sorted train values seen at least ``min_count`` times."""
    counts = as_text(values).value_counts(sort=False)
    return sorted(counts.index[counts.to_numpy() >= min_count].tolist())


def fit_buckets(values: pd.Series, buckets: int, min_count: int) -> list[int] | None:
    """The buckets (1..n) seen at least ``min_count`` times in train (the others map to row 0);
    None without ``min_count``: every bucket is kept."""
    if min_count <= 1:
        return None
    counts = np.bincount(stable_hash(values, buckets), minlength=buckets + 1)
    return (np.flatnonzero(counts[1:] >= min_count) + 1).tolist()


def encode_hashed(values: pd.Series, buckets: int, kept: list[int] | None) -> np.ndarray:
    ids = stable_hash(values, buckets)
    if kept is not None:
        ids[~np.isin(ids, np.asarray(kept, dtype=np.int64))] = 0
    return ids
