"""What ``mtfw init`` will write for a table: every column's kind and reason, and the labels.

Names: the data set and experiment are named after the file (``DoctorVisits.csv`` ->
``doctorvisits``) unless given; a label and its task are named after the column (characters other
than letters, digits and ``_`` become ``_``). A name a shipped config has is kept: the user's
file shadows the shipped one (mtfw says so once when it runs; see "Your own config folder").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mtfw.data.label_spec import derive_label
from mtfw.errors import ConfigError
from mtfw.settings import closest
from mtfw.starter.column_kinds import INPUT_KINDS, Guess, guess_column
from mtfw.starter.derived_columns import derived_reason
from mtfw.starter.label_tasks import LabelPlan, plan_label


@dataclass
class StarterPlan:
    """The starter folder's content: ``columns`` in file order, each with its final kind
    (``categorical``, ``numeric``, ``timestamp`` or a reason to exclude it)."""

    name: str
    path: Path
    rows: int
    columns: list[Guess]
    labels: list[LabelPlan]

    def of_kind(self, kind: str) -> list[Guess]:
        return [g for g in self.columns if g.kind == kind]

    @property
    def timestamp(self) -> Guess | None:
        return next(iter(self.of_kind("timestamp")), None)

    @property
    def excluded(self) -> list[Guess]:
        return [g for g in self.columns if g.kind not in (*INPUT_KINDS, "timestamp")]


def config_name(text: str) -> str:
    """A name usable as a config file name and a Hydra key: letters, digits and ``_``."""
    return re.sub(r"\W+", "_", text, flags=re.ASCII).strip("_") or "data"


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2`` (``name_3``, ...) where ``taken`` (input columns, earlier labels)
    has it."""
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def check_labels(frame: pd.DataFrame, labels: list[str]) -> None:
    columns = [str(c) for c in frame.columns]
    for label in labels:
        if label not in columns:
            raise ConfigError(
                f"--label {label}: the file has no column '{label}'.{closest(label, columns)} "
                f"Columns: {', '.join(columns[:40])}{' ...' if len(columns) > 40 else ''}"
            )
    repeated = sorted({c for c in labels if labels.count(c) > 1})
    if repeated:
        raise ConfigError(f"--label names {', '.join(repeated)} more than once; name each once")


def plan_starter(
    frame: pd.DataFrame, path: Path, name: str, labels: list[str], count: bool
) -> StarterPlan:
    """Guess every column of ``frame`` (read from ``path``) with ``labels`` as label columns;
    ``count``: whether a count task type is registered."""
    check_labels(frame, labels)
    frame = frame.rename(columns=str)
    taken = {str(c) for c in frame.columns} - set(labels)  # a label may not replace an input
    plans = []
    for column in labels:
        label_name = unique_name(config_name(column), taken)
        taken.add(label_name)
        plans.append(plan_label(frame[column], label_name, count))
    values = {p.name: derive_label(frame, p.name, p.spec)[0] for p in plans}
    by_column = {p.column: p for p in plans}
    columns: list[Guess] = []
    for column in frame.columns:
        if column in by_column:
            columns.append(Guess(column, "label", f"label -> task/{by_column[column].name}.yaml"))
            continue
        guess = guess_column(frame[column])
        derived = derived_reason(frame[column], guess.kind, values)
        if guess.kind in INPUT_KINDS and derived:
            guess = Guess(column, "derived", derived)
        elif guess.kind == "timestamp" and any(g.kind == "timestamp" for g in columns):
            guess = Guess(column, "date", guess.reason.replace("-> timestamp", "-> a second "
                          "timestamp, excluded (data.timestamp is one column)"))  # fmt: skip
        columns.append(guess)
    return StarterPlan(name, path, len(frame), columns, plans)
