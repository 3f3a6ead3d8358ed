"""Columns that look derived from a label, such as ``logwage`` beside the label ``wage``.

mtfw's leakage guard keeps every column a label spec reads out of the inputs; a column the user
derived from the label beforehand it cannot know, so ``mtfw init`` excludes an input column when:

- numeric: its rank correlation with the label is 0.99 or more in size, or, for a two-valued
  label, one threshold on it separates the label's two values in every row;
- categorical: its value decides the label in every row (5 or more rows per value on average).

Both mean the column carries the answer; the data config says so next to it, and ``exclude:``
keeps it out (move it back if it is a real input).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CORRELATED = 0.99
ROWS_PER_VALUE = 5
MIN_ROWS = 10


def _threshold_separates(x: np.ndarray, y: np.ndarray) -> bool:
    low, high = np.unique(y)
    a, b = x[y == low], x[y == high]
    return bool(a.max() < b.min() or b.max() < a.min())


def _numeric_reason(raw: pd.Series, label: pd.Series, name: str) -> str | None:
    x = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    y = label.to_numpy(dtype=np.float64)
    both = np.isfinite(x) & np.isfinite(y)
    if both.sum() < MIN_ROWS or np.unique(x[both]).size < 2 or np.unique(y[both]).size < 2:
        return None
    x, y = x[both], y[both]
    rho = float(pd.Series(x).rank().corr(pd.Series(y).rank()))
    if abs(rho) >= CORRELATED:
        return f"rank correlation {rho:.2f} with the label {name!r} -> derived from it, excluded"
    if np.unique(y).size == 2 and _threshold_separates(x, y):
        return f"a threshold on it gives the label {name!r} in every row -> derived, excluded"
    return None


def _categorical_reason(raw: pd.Series, label: pd.Series, name: str) -> str | None:
    keys = raw.astype("string").fillna("<missing>")
    known = label.notna().to_numpy()
    keys, values = keys[known], label[known]
    groups = keys.nunique()
    if len(values) < MIN_ROWS or values.nunique() < 2 or groups < 2:
        return None
    if len(values) / groups < ROWS_PER_VALUE:
        return None
    if int(values.groupby(keys.to_numpy()).nunique().max()) == 1:
        return f"its value decides the label {name!r} in every row -> derived from it, excluded"
    return None


def derived_reason(raw: pd.Series, kind: str, labels: dict[str, pd.Series]) -> str | None:
    """Why the input column ``raw`` of ``kind`` looks derived from one of ``labels`` (the labels
    as numbers, NaN where missing), or None."""
    reason = _numeric_reason if kind == "numeric" else _categorical_reason
    for name, values in labels.items():
        found = reason(raw, values, name)
        if found:
            return found
    return None
