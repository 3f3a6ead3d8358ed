"""Columns whose values must be numbers: the ``numeric`` inputs and the timestamp.

A value of a ``numeric`` column that is present but not a number (``"n/a"``, ``"cheap"``) is a
mistake in the data or in the config (a categorical column listed as numeric), so it is an error
naming the column, the value and its row; with ``coerce`` set on purpose for the column it is read
as missing instead, with a warning giving the count per column. A timestamp is numbers (epoch
seconds, a year) or dates (``2021-03-04``, ``2021-03-04 12:00``), read as seconds since 1970.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from mtfw.data.table import Table
from mtfw.errors import ConfigError

log = logging.getLogger("mtfw")


def not_numbers(raw: pd.Series) -> pd.Series:
    """Where ``raw`` holds a value that is present, not blank and not a number."""
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return pd.Series(False, index=raw.index)
    text = raw.astype("string").str.strip()
    return (pd.to_numeric(raw, errors="coerce").isna() & raw.notna() & (text != "")).astype(bool)


def check_numeric(table: Table) -> dict[str, int]:
    """Refuse a non-number in a numeric column, or, for a column in ``table.coerce``, make each one
    missing (in ``table.frame``) with a warning. Returns the count made missing per column."""
    stray = [c for c in table.coerce if c not in table.numeric]
    if stray:
        raise ConfigError(
            f"data.coerce names {', '.join(stray)}, which the data config does not list as "
            "numeric: coerce reads the non-numbers of numeric columns as missing; give it numeric "
            "columns (or coerce: true for all of them)"
        )
    coerced: dict[str, int] = {}
    for col in table.numeric:
        raw = table.frame[col]
        bad = not_numbers(raw)
        if not bad.any():
            continue
        row = int(np.flatnonzero(bad.to_numpy())[0])
        if col not in table.coerce:
            raise ConfigError(
                f"numeric column '{col}' holds {int(bad.sum())} values that are not numbers, "
                f"e.g. {raw.iloc[row]!r} in row {row}: list it as categorical, clean the data, or "
                f"set data.coerce: [{col}] (or true) to read them as missing values"
            )
        coerced[col] = int(bad.sum())
        table.frame[col] = pd.to_numeric(raw, errors="coerce").astype("float64")
        log.warning(
            "numeric column '%s': %d of %d values are not numbers (e.g. %r in row %d) and are read "
            "as missing (data.coerce)", col, coerced[col], len(raw), raw.iloc[row], row,
        )  # fmt: skip
    return coerced


def timestamp_values(raw: pd.Series) -> np.ndarray:
    """Seconds as float (NaN where missing): numbers as they are, dates parsed."""
    if pd.api.types.is_numeric_dtype(raw):
        return pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    numbers = pd.to_numeric(raw, errors="coerce")
    if not not_numbers(raw).any():  # numbers written as text
        return numbers.to_numpy(dtype=np.float64)
    text = raw.astype("string").str.strip()
    dates = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    bad = dates.isna() & raw.notna() & (text != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(
            f"timestamp column '{raw.name}' holds {int(bad.sum())} values that are neither "
            f"numbers nor dates, e.g. {raw.iloc[row]!r} in row {row}: a timestamp is numbers "
            "(epoch seconds, a year) or dates such as 2021-03-04 or 2021-03-04 12:00"
        )
    seconds = (dates - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return seconds.to_numpy(dtype=np.float64, na_value=np.nan)
