"""Splits of interaction data: by time within each user, or by user (cold start).

``by: user_time`` (``time`` on interaction data) holds out the last interactions of every user (by
timestamp; ties broken by the original row order, so the split is deterministic): a ``val`` share
then a ``test`` share of each user's history, at least one interaction each when the user has three
or more. Users with fewer stay in train only. The model is trained on the train part; validation
asks for the val part given the train part, test for the test part given train + val (the usual
protocol of sequential recommendation).

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
    return by_user_time(spec, interactions)


def by_user_time(spec: SplitSpec, frame: pd.DataFrame) -> np.ndarray:
    order = np.lexsort((np.arange(len(frame)), frame["timestamp"].to_numpy(), frame["user"]))
    users = frame["user"].to_numpy()[order]
    starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(users)])
    # Rank of each interaction from the end of its user's history: 0 = the most recent.
    from_end = np.repeat(starts + sizes, sizes) - 1 - np.arange(len(users))
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
