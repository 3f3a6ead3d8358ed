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
theirs is relevant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtfw.data.split import SplitError, SplitSpec


def assign(spec: SplitSpec, interactions: pd.DataFrame) -> np.ndarray:
    """The split of every interaction row: an array of 'train' / 'val' / 'test'."""
    if spec.by == "cold_start":
        return by_user(spec, interactions)
    return within_users(spec, interactions)


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
    n_test, n_val = np.repeat(n_test, sizes), np.repeat(n_val, sizes)
    part = np.where(from_end < n_test, "test", np.where(from_end < n_test + n_val, "val", "train"))
    out = np.empty(len(frame), dtype=object)
    out[order] = part
    return out


def by_user(spec: SplitSpec, frame: pd.DataFrame) -> np.ndarray:
    users = np.sort(frame["user"].unique())
    shuffled = users[np.random.default_rng(spec.seed).permutation(len(users))]
    n_val, n_test = round(len(users) * spec.val), round(len(users) * spec.test)
    if min(n_val, n_test, len(users) - n_val - n_test) < 1:
        raise SplitError(
            f"a cold-start split of {len(users)} users with val={spec.val}, "
            f"test={spec.test} leaves a split without users: use larger shares"
        )
    which = pd.Series("train", index=shuffled, dtype=object)
    which.iloc[:n_val] = "val"
    which.iloc[n_val : n_val + n_test] = "test"
    return which.loc[frame["user"]].to_numpy()
