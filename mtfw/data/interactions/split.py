"""Splits of interaction data: held-out interactions within each user, or held-out users.

``by: user_time`` (``time`` on interaction data) holds out the last interactions of every user (by
timestamp; ties broken by the original row order, so the split is deterministic): a ``val`` share
then a ``test`` share of each user's history, at least one interaction each when the user has three
or more. Users with fewer stay in train only. The model is trained on the train part; validation
asks for the val part given the train part, test for the test part given train + val (the usual
protocol of sequential recommendation).

``by: random`` holds out a seeded random ``val`` and ``test`` share of each user's interactions
(the per-user random holdout of most recommender tables, e.g. 80/20), with the same minimums;
``by: leave_one_out`` holds out each user's last interaction for test and the one before it for
val (users with three or more; the shares are not used). Either way the model sees the rest.

``by: cold_start`` draws a seeded share of users for validation and for test and holds them out
entirely: the model never sees them, their features are all it gets, and every interaction of
theirs is relevant. ``by: cold_start_items`` does the same with items: a seeded share of the items
that have interactions is held out for validation and for test with all their interactions, so no
training interaction (nor negative) involves them (see ``prepare.py`` for how they are ranked).

K-fold cross-validation (``folds: K``, ``fold: i``): with ``by: random`` each user's interactions
are dealt at random (seeded) into K folds, fold i held out for test and the ``val`` share of the
rest (at least one when two or more remain) for validation. A user with fewer than K interactions
cannot be in every test fold: such users stay in train in every fold, and the count is logged and
recorded (``data/cv_train_only_users``). With ``by: cold_start`` the users are dealt into K folds:
fold i's users are test, the ``val`` share of the others val; with ``by: cold_start_items`` the
same with items.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from mtfw.data.folds import assign_folds, carve_val
from mtfw.data.split import SplitError, SplitSpec

log = logging.getLogger("mtfw")

HELD_OUT = {"cold_start": "user", "cold_start_items": "item"}  # the column a protocol holds out


def assign(spec: SplitSpec, interactions: pd.DataFrame) -> np.ndarray:
    """The split of every interaction row: an array of 'train' / 'val' / 'test'."""
    if spec.folds is not None and spec.by in HELD_OUT:
        return fold_entities(spec, interactions, HELD_OUT[spec.by])
    if spec.folds is not None:
        n_users, few = interactions["user"].nunique(), train_only_users(spec, interactions)
        if few == n_users:
            raise SplitError(f"data.split.folds={spec.folds}: no user has {spec.folds} "
                             "interactions, so no fold would hold any for test; use fewer "
                             "folds")  # fmt: skip
        if few:
            log.info(
                "cross-validation: %d of %d users have fewer than %d interactions and "
                "stay in train in every fold (never tested)",
                few,
                n_users,
                spec.folds,
            )
        return user_folds(spec, interactions)
    if spec.by in HELD_OUT:
        return by_entity(spec, interactions, HELD_OUT[spec.by])
    return within_users(spec, interactions)


def train_only_users(spec: SplitSpec, frame: pd.DataFrame) -> int:
    """Users with fewer interactions than folds: under per-user folds they are never tested."""
    if spec.folds is None or spec.by != "random":
        return 0
    return int((frame.groupby("user").size() < spec.folds).sum())


def user_folds(spec: SplitSpec, frame: pd.DataFrame) -> np.ndarray:
    """Each user's interactions in a seeded random order, dealt into the folds round-robin from a
    random start (so the folds stay even); fold ``fold`` test, then the first ``val`` share of the
    user's other interactions val."""
    rng = np.random.default_rng(spec.seed)
    order = np.lexsort((rng.permutation(len(frame)), frame["user"].to_numpy()))
    users = frame["user"].to_numpy()[order]
    starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(users)])
    rank = np.arange(len(users)) - np.repeat(starts, sizes)  # position in the user's order
    offset = np.repeat(rng.integers(0, spec.folds, len(sizes)), sizes)
    tested = sizes >= spec.folds  # the others stay in train
    test = np.repeat(tested, sizes) & ((rank + offset) % spec.folds == spec.fold)
    rest = sizes - np.add.reduceat(test, starts)
    n_val = np.where(tested & (rest >= 2), np.maximum(1, np.floor(rest * spec.val)), 0)
    kept = np.cumsum(~test)  # position of each non-test interaction among its user's others
    position = kept - np.repeat(kept[starts] - ~test[starts], sizes) - 1
    val = ~test & (position < np.repeat(n_val, sizes))
    out = np.empty(len(frame), dtype=object)
    out[order] = np.where(test, "test", np.where(val, "val", "train"))
    return out


def fold_entities(spec: SplitSpec, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Cold-start folds: the users (or items, ``column``) dealt into the folds (seeded); fold
    ``fold``'s test, the ``val`` share of the others val; every interaction goes with its user
    (item)."""
    users = np.sort(frame[column].unique())
    fold = assign_folds(spec.folds, spec.seed, len(users))
    rest = np.flatnonzero(fold != spec.fold)
    which = pd.Series("train", index=users, dtype=object)
    which.iloc[np.flatnonzero(fold == spec.fold)] = "test"
    which.iloc[carve_val(rest, spec.val, spec.seed)] = "val"
    check_held_out(spec, which, column)
    return which.loc[frame[column]].to_numpy()


def within_users(spec: SplitSpec, frame: pd.DataFrame) -> np.ndarray:
    """Each user's interactions ordered (by time, or at random for ``random``), the last ones of
    that order held out: test, then val before it."""
    if spec.by == "random":
        key = np.random.default_rng(spec.seed).permutation(len(frame))
    else:
        key = frame["timestamp"].to_numpy()
    order = np.lexsort((np.arange(len(frame)), key, frame["user"]))
    users = frame["user"].to_numpy()[order]
    starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(users)])
    # Rank of each interaction from the end of its user's order: 0 = the most recent (the last).
    from_end = np.repeat(starts + sizes, sizes) - 1 - np.arange(len(users))
    if spec.by == "leave_one_out":
        n_test = n_val = np.where(sizes >= 3, 1, 0)
    else:
        n_test = np.where(sizes >= 3, np.maximum(1, np.floor(sizes * spec.test)), 0)
        n_val = np.where(sizes >= 3, np.maximum(1, np.floor(sizes * spec.val)), 0)
    check_users_train(spec, sizes, n_test, n_val)
    n_test, n_val = np.repeat(n_test, sizes), np.repeat(n_val, sizes)
    part = np.where(from_end < n_test, "test", np.where(from_end < n_test + n_val, "val", "train"))
    out = np.empty(len(frame), dtype=object)
    out[order] = part
    return out


def check_users_train(spec: SplitSpec, sizes, n_test, n_val) -> None:
    """Every evaluated user keeps a training interaction; users too small to split are named."""
    starved = (sizes >= 3) & (sizes - n_test - n_val < 1)
    if starved.any():
        i = int(np.flatnonzero(starved)[0])
        raise SplitError(
            f"data.split val={spec.val}, test={spec.test} leaves {int(starved.sum())} of "
            f"{len(sizes)} users with no training interaction (a user with {sizes[i]} holds out "
            f"{int(n_test[i])} for test and {int(n_val[i])} for val, at least one each): use "
            "smaller shares"
        )
    small = int((sizes < 3).sum())
    if small:
        log.info("%d of %d users have fewer than 3 interactions: they stay in train and are not "
                 "evaluated", small, len(sizes))  # fmt: skip


def by_entity(spec: SplitSpec, frame: pd.DataFrame, column: str) -> np.ndarray:
    """A seeded share of the users (``column='user'``) or items held out for val and for test,
    each with all its interactions."""
    ids = np.sort(frame[column].unique())
    shuffled = ids[np.random.default_rng(spec.seed).permutation(len(ids))]
    n_val, n_test = round(len(ids) * spec.val), round(len(ids) * spec.test)
    which = pd.Series("train", index=shuffled, dtype=object)
    which.iloc[:n_val] = "val"
    which.iloc[n_val : n_val + n_test] = "test"
    check_held_out(spec, which, column)
    return which.loc[frame[column]].to_numpy()


def check_held_out(spec: SplitSpec, which: pd.Series, column: str) -> None:
    """Every part of a cold-start split holds at least one user (item)."""
    counts = which.value_counts()
    empty = [part for part in ("train", "val", "test") if not counts.get(part, 0)]
    if empty:
        raise SplitError(
            f"data.split.by={spec.by}: a cold-start split of {len(which)} {column}s with "
            f"val={spec.val}, test={spec.test}{f', folds={spec.folds}' if spec.folds else ''} "
            f"leaves the {' and '.join(empty)} split without {column}s (each needs at least one "
            f"{column} with interactions): use larger shares or more {column}s"
        )
