"""A task type and a label spec (``data.labels``) for each label column a user names.

- two values: ``binary``; a 0/1 column as it is, two other numbers with ``min:`` (1 for the larger),
  two strings with ``equals:`` (1 for a yes-like value, ``"1. Yes"`` included, else the rarer);
- whole numbers >= 0: ``count`` where that task type is registered, else ``regression``;
- other numbers: ``regression``;
- more than two strings: ``regression`` on their numbers (``map:``) when every value is numbered
  (``"1. < HS Grad"``), else ``binary`` for the most common value (``equals:``).

A label with rows without a value gets ``mask_missing: true`` (trained and evaluated where set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mtfw import registry
from mtfw.errors import ConfigError

YES = {"yes", "y", "true", "t", "1", "positive", "pos", "success"}
NO = {"no", "n", "false", "f", "0", "negative", "neg", "failure"}
NUMBERED = re.compile(r"^\s*(\d+)\s*[.)]\s")  # "1. Yes", "2) No"


@dataclass
class LabelPlan:
    """One label: its name (the label's and the task's), the column, its data.labels entry, the
    task type and the reason for both."""

    name: str
    column: str
    spec: str | dict
    task: str
    reason: str
    missing: int = 0
    note: str = ""  # said in the task file only
    variance: float = 1.0  # of the label's values (numbers)


def count_task() -> bool:
    """Whether a ``count`` task type for label columns of flat tables is registered (a plug-in
    registry may lack one: counts then become regression tasks)."""
    if "count" not in registry.names("task"):
        return False
    requires = registry.get("task", "count").requires  # every task type declares it
    return "label" in registry.parameters("task", "count") and requires <= {"columns"}


def _bare(value: str) -> str:
    return NUMBERED.sub("", value).strip().lower()


def _positive(counts: pd.Series) -> str:
    """Of two strings, the one that means 1: yes-like, else the other of a no-like, else the
    rarer (the last in order on a tie)."""
    values = sorted(counts.index)
    for value in values:
        if _bare(value) in YES:
            return value
    for i, value in enumerate(values):
        if _bare(value) in NO:
            return values[1 - i]
    return min(reversed(values), key=lambda v: counts[v])


def _from_strings(column: str, text: pd.Series, count: bool) -> tuple[str | dict, str, str]:
    counts = text.value_counts()
    if len(counts) == 2:
        positive = _positive(counts)
        negative = next(v for v in counts.index if v != positive)
        share = counts[positive] / counts.sum()
        return ({"column": column, "equals": positive}, "binary",
                f"{positive!r} is 1 ({share:.0%}), {negative!r} is 0 -> binary")  # fmt: skip
    numbered = [NUMBERED.match(v) for v in counts.index]
    numbers = {v: int(m.group(1)) for v, m in zip(counts.index, numbered, strict=True) if m}
    if len(numbers) == len(counts) and len(set(numbers.values())) == len(counts):
        ordered = sorted(numbers, key=numbers.get)
        return ({"column": column, "map": {v: numbers[v] for v in ordered}}, "regression",
                f"{len(counts)} numbered values ({ordered[0]!r} .. {ordered[-1]!r}) -> "
                "regression on their numbers (map)")  # fmt: skip
    top, share = str(counts.index[0]), counts.iloc[0] / counts.sum()
    return ({"column": column, "equals": top}, "binary",
            f"{len(counts)} values; 1 for the most common, {top!r} ({share:.0%}) -> binary (edit "
            "equals:, or use in: or map:)")  # fmt: skip


def _from_numbers(column: str, values: pd.Series, count: bool) -> tuple[str | dict, str, str]:
    distinct = np.sort(values.unique())
    span = f"{distinct[0]:g}..{distinct[-1]:g}"
    if len(distinct) == 2:
        if set(distinct.tolist()) == {0.0, 1.0}:
            return column, "binary", f"0/1 ({values.mean():.0%} ones) -> binary"
        high = float(distinct[1])
        return ({"column": column, "min": high}, "binary",
                f"two values {distinct[0]:g}, {high:g}: 1 where {high:g} -> binary")  # fmt: skip
    whole = bool(np.all(np.mod(distinct, 1) == 0))
    if whole and distinct[0] >= 0:
        task = "count" if count else "regression"
        return column, task, f"whole numbers {span}, mean {values.mean():.2f} -> {task}"
    return column, "regression", f"numbers {span}, {len(distinct):,} distinct -> regression"


def plan_label(raw: pd.Series, name: str, count: bool) -> LabelPlan:
    """The label spec and task type for the column ``raw``, to be called ``name``."""
    column = str(raw.name)
    numbers = pd.to_numeric(raw, errors="coerce") if not pd.api.types.is_bool_dtype(raw) else None
    text = raw.dropna().astype("string").str.strip()
    text = text[text != ""]
    if text.nunique() < 2:
        raise ConfigError(
            f"--label {column}: the column has {text.nunique()} distinct value(s) "
            f"({', '.join(repr(v) for v in text.unique()[:1])}): a label needs two or more"
        )
    if pd.api.types.is_bool_dtype(raw):
        spec, task, reason = column, "binary", "true/false -> binary"
    elif numbers.notna().sum() == len(text):  # every present value is a number
        spec, task, reason = _from_numbers(column, numbers.dropna().astype("float64"), count)
    else:
        spec, task, reason = _from_strings(column, text, count)
    missing = len(raw) - len(text)
    if missing:
        reason += f"; {missing:,} rows without a value -> mask_missing"
    note = ""
    if task == "regression" and not count and "whole numbers" in reason:
        note = " A count task type would suit whole numbers >= 0; none is registered yet."
    variance = float(numbers.var()) if numbers is not None and task != "binary" else 1.0
    return LabelPlan(name, column, spec, task, reason, missing, note, variance)
