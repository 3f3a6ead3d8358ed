"""What the tasks of a run need from the data, gathered before anything is loaded.

Each task states its needs (the label columns it reads, whether they may be missing, negative
items to score against, a look-ahead window of categories); preparing the data fulfils the merged
needs of all tasks and nothing else, so the data layer never knows which tasks exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mtfw.errors import ConfigError

# The key of each sample's user id (an integer code of ``data.user_id``) in a batch's labels: a
# name no column can clash with in a config.
USER_GROUPS = "@user_id"


@dataclass(frozen=True)
class Negatives:
    """Items drawn per training interaction each epoch: ``count`` of them, ``sampler`` uniform or
    popularity (training count ** ``alpha``)."""

    count: int
    sampler: str = "uniform"
    alpha: float = 0.75


@dataclass(frozen=True)
class SequenceWindows:
    """Training interactions served as windows of each user's item sequence, the history encoder
    run once per window (asked by the history encoder, not by a task; see
    ``mtfw/data/interactions/windows.py``). ``positional``: a state depends on where the items
    sit in the window (learned absolute positions): windows are ``history_length`` long and
    every target sees at least ``context`` earlier items of its window (None: half the window),
    or all its user has. Otherwise a state depends on the items before it, not on where they
    sit, and windows are long enough for every target to see its last ``history_length``."""

    positional: bool
    context: int | None = None


@dataclass(frozen=True)
class DataNeeds:
    labels: dict[str, bool] = field(default_factory=dict)  # column -> missing values allowed
    negatives: Negatives | None = None
    category_window: int | None = None  # ``next_categories``: those of the next N interactions
    user_groups: bool = False  # each sample's user (``data.user_id``) as ``USER_GROUPS`` (gAUC)
    windows: SequenceWindows | None = None  # None: one row per interaction with its history

    def merged(self, other: DataNeeds, names: tuple[str, str]) -> DataNeeds:
        """Both tasks' needs; ``names`` (this one's tasks, the other's) name them in errors. A
        label column may be missing only if every task reading it allows that."""
        labels = dict(self.labels)
        for column, allowed in other.labels.items():
            labels[column] = labels.get(column, True) and allowed
        for what in ("negatives", "category_window"):
            mine, theirs = getattr(self, what), getattr(other, what)
            if mine is not None and theirs is not None and mine != theirs:
                raise ConfigError(
                    f"tasks {names[0]} and {names[1]} both set the data's {what} differently "
                    f"({mine} vs {theirs}): at most one ranking task (it drives the negative "
                    "sampling) and one interest task per run"
                )
        return DataNeeds(
            labels,
            self.negatives if self.negatives is not None else other.negatives,
            self.category_window if self.category_window is not None else other.category_window,
            self.user_groups or other.user_groups,
            self.windows if self.windows is not None else other.windows,
        )


def merge_needs(needs: dict[str, DataNeeds]) -> DataNeeds:
    """The needs of every task of a run (``{task name: its needs}``) as one."""
    total, sampling, seen = DataNeeds(), [], []
    for name, need in needs.items():
        if need.negatives is not None:
            sampling.append(name)
        if len(sampling) > 1:
            raise ConfigError(
                "at most one ranking task per run (it drives the negative sampling); "
                f"{' and '.join(sampling)} both sample negatives"
            )
        total = total.merged(need, (", ".join(seen) or "-", name))
        seen.append(name)
    return total
