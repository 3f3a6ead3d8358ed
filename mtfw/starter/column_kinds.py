"""Guess the kind of each column of a user's table, and say why in one line.

The kinds are those a tabular data config has: ``categorical``, ``numeric``, ``timestamp``, and the
columns that are never inputs: ``id`` (unique per row, or named like an id with many values),
``text`` (long free text: tabular data has no text inputs yet), ``constant`` and ``empty``. The
rules, in order, for a column's present values:

- none: empty; one distinct value: constant;
- numbers: whole numbers unique per row that count up, or are named like an id: id; whole numbers
  named like an id with 20+ distinct values (rows of one person): id; else numeric, with log1p
  for non-negative values whose skewness exceeds 3;
- text: 90%+ of it numbers: numeric, the rest read as missing (``coerce``); 95%+ of it dates:
  timestamp; a mean of 30+ characters and 4+ words: text; unique per row: id; named like an id
  with 20+ distinct values: id; else categorical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

INPUT_KINDS = ("categorical", "numeric")
ID_NAME = re.compile(r"(^|[_\W])(id|uuid|guid|key)$|[a-z0-9](Id|ID)$", re.IGNORECASE)
DATE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?")
MANY_IDS = 20  # distinct values an id-named column needs to be taken for an id
NUMBER_SHARE, DATE_SHARE = 0.9, 0.95
TEXT_CHARS, TEXT_WORDS = 30, 4
SKEWED = 3.0


@dataclass
class Guess:
    """A column's guessed kind, why, and what its config line adds (log1p, coerce)."""

    column: str
    kind: str
    reason: str
    log1p: bool = False
    coerce: bool = False
    missing: int = 0  # rows without a value (numeric columns: what missing_indicator marks)


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _span(values: pd.Series) -> str:
    return f"{values.min():g}..{values.max():g}"


def _whole(values: pd.Series) -> bool:
    return bool(np.all(np.mod(values.to_numpy(dtype=np.float64), 1) == 0))


def _missing_note(missing: int) -> str:
    return f", {missing:,} missing" if missing else ""


def _numbers(name: str, values: pd.Series, rows: int, missing: int) -> Guess:
    distinct = values.nunique()
    whole = _whole(values)
    id_named = bool(ID_NAME.search(name))
    if whole and distinct == len(values) >= MANY_IDS and (values.is_monotonic_increasing
                                                           or id_named):  # fmt: skip
        return Guess(name, "id", f"whole numbers unique per row ({_span(values)}) -> id, excluded")
    if whole and id_named and distinct >= MANY_IDS:
        most = int(values.value_counts().iloc[0])
        return Guess(name, "id", f"named like an id: {_count(distinct, 'distinct value')}, up to "
                     f"{most} rows each -> id (whose rows these are), excluded")  # fmt: skip
    what = "whole numbers" if whole else "numbers"
    reason = f"{what} {_span(values)}, {distinct:,} distinct{_missing_note(missing)}"
    if set(values.unique().tolist()) == {0, 1}:
        reason = f"0/1 ({values.mean():.0%} ones){_missing_note(missing)}"
    skew = float(values.astype("float64").skew()) if distinct > 2 else 0.0
    if values.min() >= 0 and skew > SKEWED:
        return Guess(name, "numeric", f"{reason}, skewed ({skew:.1f}) -> numeric, log1p", True,
                     missing=missing)  # fmt: skip
    hint = ""
    if whole and re.search(r"year", name, re.IGNORECASE) and 1800 <= values.min() <= 2100:
        hint = f" (a year? timestamp: {name} + split.by: time tests on the latest)"
    return Guess(name, "numeric", f"{reason} -> numeric{hint}", missing=missing)


def _strings(name: str, text: pd.Series, rows: int, missing: int) -> Guess:
    distinct = text.nunique()
    numbers = pd.to_numeric(text, errors="coerce")
    share = float(numbers.notna().mean())
    if share >= NUMBER_SHARE:
        bad = text[numbers.isna()]
        example = f" such as {bad.iloc[0]!r}" if len(bad) else ""
        return Guess(name, "numeric", f"numbers {_span(numbers.dropna())} but "
                     f"{_count(len(bad), 'value')}{example} -> numeric, coerce (read as missing)",
                     coerce=True, missing=missing + len(bad))  # fmt: skip
    dates = text.str.match(DATE)
    if dates.mean() >= DATE_SHARE:
        parsed = pd.to_datetime(text[dates], errors="coerce", format="mixed")
        if parsed.notna().mean() >= DATE_SHARE:
            span = f"{parsed.min():%Y-%m-%d}..{parsed.max():%Y-%m-%d}"
            return Guess(name, "timestamp", f"parses as dates ({span}) -> timestamp")
    chars = float(text.str.len().mean())
    if chars >= TEXT_CHARS and float(text.str.split().str.len().mean()) >= TEXT_WORDS:
        return Guess(name, "text", f"long free text (mean {chars:.0f} chars) -> text, excluded "
                     "(tabular data has no text inputs yet)")  # fmt: skip
    if distinct == len(text) >= MANY_IDS:
        return Guess(name, "id", "unique per row -> id, excluded")
    if ID_NAME.search(name) and distinct >= MANY_IDS:
        return Guess(name, "id", f"named like an id: {_count(distinct, 'distinct string')} -> id, "
                     "excluded")  # fmt: skip
    return Guess(name, "categorical", f"{_count(distinct, 'distinct string')} in {rows:,} rows"
                 f"{_missing_note(missing)} -> categorical")  # fmt: skip


def guess_column(raw: pd.Series) -> Guess:
    """The kind of one column, from its values (and, for ids and years, its name)."""
    name, rows = str(raw.name), len(raw)
    numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
    present = raw.dropna()
    if not numeric:
        present = present.astype("string").str.strip()
        present = present[present != ""]
    missing = rows - len(present)
    if present.empty:
        return Guess(name, "empty", "no values -> empty, excluded")
    if present.nunique() == 1:
        return Guess(name, "constant", f"one value ({present.iloc[0]!r}) in every row -> "
                     "constant, excluded")  # fmt: skip
    if pd.api.types.is_bool_dtype(raw):
        return Guess(name, "categorical", f"true/false{_missing_note(missing)} -> categorical")
    if numeric:
        finite = present[np.isfinite(present.to_numpy(dtype=np.float64))]
        if finite.empty:
            return Guess(name, "empty", "no finite values -> empty, excluded")
        return _numbers(name, finite, rows, missing + len(present) - len(finite))
    return _strings(name, present, rows, missing)
