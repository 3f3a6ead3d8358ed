"""What the protocol tables share: the paper's model order, best-on-validation values, paired
differences with their standard errors, Markdown cells."""

from __future__ import annotations

import math

import pandas as pd

from mtfw.report.collect import ReportError
from mtfw.report.direction import better

MODEL_ORDER = ("single_task", "shared_bottom", "omoe", "mmoe")
MODEL_NAMES = {"single_task": "Single-Task", "shared_bottom": "Shared-Bottom", "omoe": "OMoE",
               "mmoe": "MMoE"}  # fmt: skip


def need_columns(table: pd.DataFrame, columns: list[str], protocol: str) -> None:
    missing = [c for c in columns if c not in table]
    if missing:
        raise ReportError(
            f"--protocol {protocol}: the runs have no {', '.join(missing)}; this protocol reads "
            f"runs of its own experiment file (see mtfw/conf/experiment/)"
        )


def ordered_models(names: list[str]) -> list[str]:
    """The paper's row order (single-task, shared-bottom, OMoE, MMoE), any other model after."""
    known = [m for m in MODEL_ORDER if m in names]
    return known + sorted(set(names) - set(known))


def best_value(runs: pd.DataFrame, key: str) -> float:
    """``key`` of the run with the best validation ``monitor_value`` (never chosen on test)."""
    runs = runs.dropna(subset=["monitor_value"])
    if runs.empty:
        return math.nan
    higher = better(str(runs["monitor"].iloc[0])) if "monitor" in runs else False
    values = pd.to_numeric(runs["monitor_value"])
    return float(pd.to_numeric(runs.loc[values.idxmax() if higher else values.idxmin(), key]))


def mean_std_n(values: pd.Series) -> tuple[float, float, int]:
    values = pd.to_numeric(values, errors="coerce").dropna()
    n = len(values)
    if n == 0:
        return math.nan, math.nan, 0
    return float(values.mean()), float(values.std(ddof=1)) if n > 1 else math.nan, n


def paired_difference(first: dict, second: dict) -> tuple[float, float, int]:
    """(mean, standard error, pairs) of ``first[r] - second[r]`` over the repeats r both have."""
    keys = sorted(set(first) & set(second))
    diffs = [first[k] - second[k] for k in keys]
    n = len(diffs)
    if n == 0:
        return math.nan, math.nan, 0
    mean = math.fsum(diffs) / n
    if n < 2:
        return mean, math.nan, n
    sd = math.sqrt(math.fsum((d - mean) ** 2 for d in diffs) / (n - 1))
    return mean, sd / math.sqrt(n), n


def cell(mean: float, spread: float | None = None, decimals: int = 4) -> str:
    if math.isnan(mean):
        return "-"
    if spread is None or math.isnan(spread):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {spread:.{decimals}f}"


def markdown_table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    align = ["---" if i < right_from else "---:" for i in range(len(header))]
    return ["| " + " | ".join(r) + " |" for r in [header, align, *rows]]
