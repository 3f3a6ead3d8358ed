"""From the run table to the report: one row per group with its statistics, gains and p-values.

Metrics: ``--metrics`` patterns (``test/*/auc``, ``test/*``), by default each task's first metric
on test (the first of ``task.<name>.metrics``, e.g. AUC for census). The first selected metric of
each task (never the ``mean`` pseudo-task) is the task's *gain metric*: MTL gain, Delta_m, the
seesaw flag and the p-values use it.
"""

from __future__ import annotations

import fnmatch
import json
import math
from dataclasses import dataclass, field

import pandas as pd

from mtfw.metrics import AGGREGATES
from mtfw.report.collect import ReportError
from mtfw.report.direction import better, unknown_directions
from mtfw.report.group import Group, group_runs, replicates
from mtfw.report.mtl import delta_m, mtl_gain, seesaw, single_task_baseline
from mtfw.report.significance import compare_paired, pairing_name


@dataclass
class Row:
    group: Group
    stats: dict[str, tuple[float, float, int]]  # metric -> (mean, std, n)
    best: dict[str, float]  # metric -> value of the run selected on validation
    best_run: str
    baseline: str | None = None  # the label of the single-task group gains compare with
    gains: dict[str, float] = field(default_factory=dict)  # task -> MTL gain
    delta_m: float = math.nan
    seesaw: bool | None = None
    p_values: dict[str, tuple[float, int]] = field(default_factory=dict)  # task -> (p, pairs)


@dataclass
class Report:
    by: list[str]
    metrics: list[str]
    gain_metrics: dict[str, str]  # task -> metric key
    rows: list[Row]
    notes: list[str]
    comparison_notes: list[str]  # about the gain and p columns (left out with --means-only)


def task_of(key: str) -> str:
    parts = key.split("/")
    return parts[1] if len(parts) >= 3 else ""


def default_metrics(table: pd.DataFrame) -> list[str]:
    """Each task's first configured metric on test, else its first non-loss test key."""
    keys = [c for c in table.columns if c.startswith("test/")]
    chosen = []
    tasks = dict.fromkeys(task_of(k) for k in keys if task_of(k) not in AGGREGATES)
    for task in tasks:
        own = [k for k in keys if task_of(k) == task and not k.endswith("/loss")]
        names = configured_metrics(table, task)
        first = f"test/{task}/{names[0]}" if names else None
        chosen.append(first if first in keys else (own or [f"test/{task}/loss"])[0])
    return chosen


def configured_metrics(table: pd.DataFrame, task: str) -> list[str]:
    """``task.<name>.metrics`` of the first run that has it (JSON text in the run table)."""
    column = table.get(f"task.{task}.metrics")
    for text in [] if column is None else column.dropna():
        try:
            names = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(names, list):
            return [str(n) for n in names]
    return []


def select_metrics(table: pd.DataFrame, patterns: list[str] | None) -> list[str]:
    if not patterns:
        return default_metrics(table)
    keys = [c for split in ("test/", "val/") for c in table.columns if c.startswith(split)]
    chosen = [k for k in keys if any(fnmatch.fnmatchcase(k, p) for p in patterns)]
    if not chosen:
        shown = ", ".join(keys[:12]) + (" ..." if len(keys) > 12 else "")
        raise ReportError(f"--metrics {','.join(patterns)} matches no metric; the runs have: "
                          f"{shown}")  # fmt: skip
    return chosen


def gain_metrics(metrics: list[str]) -> dict[str, str]:
    firsts: dict[str, str] = {}
    for key in metrics:
        if task_of(key) not in ("", *AGGREGATES):
            firsts.setdefault(task_of(key), key)
    return firsts


def build_report(
    table: pd.DataFrame, by: list[str], metrics: list[str], baseline: str | None = None
) -> Report:
    """Group, summarise, compare. ``baseline``: a row label or 0-based index for the p-values;
    None compares each row with its single-task baseline."""
    groups = group_runs(table, by)
    per_task = gain_metrics(metrics)
    fixed = find_row(groups, baseline) if baseline is not None else None
    notes = []
    rows = []
    for g in groups:
        best = g.best_run()
        row = Row(g, {m: g.stats(m) for m in metrics}, {m: _num(best.get(m)) for m in metrics},
                  str(best["run"]))  # fmt: skip
        single = single_task_baseline(g, groups)
        if single is not None:
            row.baseline = single.label
            # the tasks this group has (a report may hold runs on other task sets too)
            means = {k: m for k in per_task.values() if not math.isnan(m := g.stats(k)[0])}
            bases = {k: single.stats(k)[0] for k in means}
            row.gains = {t: mtl_gain(means[k], bases[k], better(k))
                         for t, k in per_task.items() if k in means}  # fmt: skip
            row.delta_m = delta_m(means, bases)
            row.seesaw = seesaw(list(row.gains.values()))
        against = fixed or single
        if against is not None and against is not g:
            row.p_values = {t: compare_paired(g.runs, against.runs, k)
                            for t, k in per_task.items()}  # fmt: skip
        mixed = g.mixed_keys(by)
        if mixed:
            notes.append(f"row {g.label} mixes runs that differ in {', '.join(mixed)}, not only "
                         f"in {replicates(table)}")  # fmt: skip
        rows.append(row)
    comparison = []
    if not any(r.baseline for r in rows):
        comparison.append("no single_task runs on the same data and tasks: no MTL gain or Delta_m")
    unknown = unknown_directions(list(per_task.values()))
    if unknown:
        notes.append(f"direction unknown, taken as higher-is-better: {', '.join(unknown)}")
    against = f"row {fixed.label}" if fixed else "each row's single-task baseline"
    comparison.append(f"p: {pairing_name(replicates(table))}, against {against}")
    return Report(by, metrics, per_task, rows, notes, comparison)


def find_row(groups: list[Group], wanted: str) -> Group:
    labels = [g.label for g in groups]
    if wanted.isdigit() and int(wanted) < len(groups):
        return groups[int(wanted)]
    normalised = wanted.replace(",", "/").replace(" ", "")
    for g in groups:
        if normalised in (g.label, g.label.replace(" ", "")):
            return g
    rows = "; ".join(f"{i}: {label}" for i, label in enumerate(labels))
    raise ReportError(f"--baseline {wanted}: no such row; rows (label or 0-based index): {rows}")


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
