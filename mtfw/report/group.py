"""Group runs that differ only by seed (and, under cross-validation, by test fold); mean, sample
std and the best run of each group.

Run-control keys (where the data lives, threads, progress bars, the tracker) change how a run is
made, not what it computes, so they never split a group. ``data.split.fold`` changes what a run
computes, but the folds of one K-fold cross-validation are replicates of one setting, as seeds
are: they form one row, and paired tests pair runs by (seed, fold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from mtfw.report.collect import ReportError
from mtfw.report.direction import better
from mtfw.run_control import is_control

SEED = "seed"
FOLD = "data.split.fold"  # the test fold of K-fold cross-validation (None without)
REPLICATES = (SEED, FOLD)  # a row's runs differ in these only
MISSING = "-"  # a key a run's config does not have (e.g. encoder.n_experts of single_task)


def experiment_keys(table: pd.DataFrame) -> list[str]:
    """Config keys that define a row: every config key but the control ones, the fold and the
    keys that are the seed itself (``features.vae.seed: ${seed}``, resolved in each run)."""
    keys = table.attrs.get("config_keys", [])
    return [k for k in keys if not is_control(k) and k != FOLD and not is_seed(table, k)]


def is_seed(table: pd.DataFrame, key: str) -> bool:
    """Whether ``key`` holds each run's seed (a seed a config interpolates from ``seed``)."""
    if key == SEED or key not in table or SEED not in table:
        return key == SEED
    present = table[key].notna()  # runs without the key (features=none) do not contradict it
    values = pd.to_numeric(table.loc[present, key], errors="coerce")  # 0.0 where others lack it
    seeds = pd.to_numeric(table.loc[present, SEED], errors="coerce")
    return bool(present.any() and values.notna().all() and (values == seeds).all())


def has_folds(table: pd.DataFrame) -> bool:
    """Whether any run is a fold of a cross-validation."""
    return FOLD in table and table[FOLD].notna().any()


def replicates(table: pd.DataFrame) -> str:
    """What a row's runs differ in, for the legends: 'seed' or 'seed and data.split.fold'."""
    return f"seed and {FOLD}" if has_folds(table) else "seed"


def as_text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    return str(value)


def texts(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The columns as text, missing values as ``-``: groupable, comparable, printable."""
    return pd.DataFrame({k: table[k].map(as_text) for k in keys}, index=table.index)


def varying(table: pd.DataFrame, keys: list[str]) -> list[str]:
    return [k for k in keys if table[k].map(as_text).nunique() > 1]


def default_by(table: pd.DataFrame) -> list[str]:
    """The experiment keys that vary across runs, less those a varying ``<x>.name`` decides
    (``encoder.n_experts`` follows from ``encoder.name``) or the experiment file does: the
    columns that tell groups apart."""
    keys = varying(table, experiment_keys(table))
    if "experiment" in keys:  # keep only what differs within one experiment file's runs
        shown = texts(table, keys)
        keys = ["experiment"] + [
            k for k in keys[1:] if shown.groupby("experiment")[k].nunique().max() > 1
        ]
    names = [k for k in keys if k.endswith(".name")]
    shown = texts(table, keys)

    def decided(key: str) -> bool:
        return any(
            key != name
            and key.startswith(name[: -len("name")])
            and shown.groupby(name)[key].nunique().max() <= 1
            for name in names
        )

    return [k for k in keys if not decided(k)]


def resolve_by(table: pd.DataFrame, requested: list[str]) -> list[str]:
    """Check ``--by`` keys; ``encoder`` stands for ``encoder.name``."""
    keys = table.attrs.get("config_keys", [])
    resolved = []
    for key in requested:
        if key in keys:
            resolved.append(key)
        elif f"{key}.name" in keys:
            resolved.append(f"{key}.name")
        else:
            vary = varying(table, experiment_keys(table)) or ["(none: only seeds differ)"]
            raise ReportError(f"--by {key}: no run has the config key '{key}'. Keys that vary "
                              f"across these runs: {', '.join(vary)}")  # fmt: skip
    return resolved


@dataclass
class Group:
    label: str  # the --by values joined with "/", e.g. "mmoe/static"
    values: dict  # --by key -> value text
    runs: pd.DataFrame  # this group's rows of the run table

    @property
    def seeds(self) -> list:
        return sorted(set(self.runs[SEED].dropna().tolist())) if SEED in self.runs else []

    @property
    def folds(self) -> list:
        return sorted(set(self.runs[FOLD].dropna().astype(int))) if has_folds(self.runs) else []

    def stats(self, key: str) -> tuple[float, float, int]:
        """(mean, sample std with ddof=1 (NaN for one run), number of runs with a value)."""
        values = pd.to_numeric(self.runs[key], errors="coerce").dropna() if key in self.runs else []
        n = len(values)
        if n == 0:
            return math.nan, math.nan, 0
        return float(values.mean()), float(values.std(ddof=1)) if n > 1 else math.nan, n

    def best_run(self) -> pd.Series:
        """The run with the best ``monitor_value`` (the validation key that selected its model),
        in the monitor's direction (``trainer.mode`` when set to min or max)."""
        runs = self.runs.dropna(subset=["monitor_value"]) if "monitor_value" in self.runs else []
        if len(runs) == 0:
            return self.runs.iloc[0]
        mode = runs["trainer.mode"].iloc[0] if "trainer.mode" in runs else "auto"
        monitor = str(runs["monitor"].iloc[0]) if "monitor" in runs else "val/mean/loss"
        higher = mode == "max" or (mode != "min" and better(monitor))
        values = pd.to_numeric(runs["monitor_value"])
        return runs.loc[values.idxmax() if higher else values.idxmin()]

    def mixed_keys(self, by: list[str]) -> list[str]:
        """Experiment keys other than ``by`` that differ inside the group (worth a note)."""
        return [k for k in varying(self.runs, experiment_keys(self.runs)) if k not in by]


def group_runs(table: pd.DataFrame, by: list[str]) -> list[Group]:
    """Groups in order of their first run; one group ("all runs") when ``by`` is empty."""
    if not by:
        return [Group("all runs", {}, table)]
    groups = []
    for values, part in texts(table, by).groupby(by, sort=False):
        values = values if isinstance(values, tuple) else (values,)
        runs = table.loc[part.index]
        runs.attrs = table.attrs
        groups.append(Group("/".join(values), dict(zip(by, values, strict=True)), runs))
    return groups
