"""Splits of interaction data: by time within each user, or by user (cold start).

``by: time`` holds out the last interactions of every user (by timestamp; ties broken by the
original row order, so the split is deterministic): a ``val`` share then a ``test`` share of each
user's history, at least one interaction each when the user has three or more. Users with fewer
stay in train only. The model is trained on the train part; validation asks for the val part given
the train part, test for the test part given train + val (the usual protocol of sequential
recommendation).

``by: cold_start`` draws a seeded share of users for validation and for test and holds them out
entirely: the model never sees them, their features are all it gets, and every interaction of
theirs is relevant.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from mtfw.registry import ConfigError, closest


@dataclass(frozen=True)
class InteractionSplit:
    by: str = "time"  # time | cold_start
    val: float = 0.1  # share of each user's interactions (time) or of the users (cold_start)
    test: float = 0.1
    seed: int = 0  # draws the cold-start users; a time split needs no randomness

    @classmethod
    def from_config(cls, node: dict | None) -> InteractionSplit:
        node = dict(node or {})
        allowed = [f.name for f in fields(cls)]
        for key in node:
            if key not in allowed:
                raise ConfigError(
                    f"data.split has no key '{key}'; keys: {', '.join(allowed)}."
                    f"{closest(key, allowed)}"
                )
        spec = cls(**node)
        if spec.by not in ("time", "cold_start"):
            raise ConfigError(f"data.split.by must be time or cold_start, not '{spec.by}'")
        if not (0 < spec.val < 1 and 0 < spec.test < 1 and spec.val + spec.test < 1):
            raise ConfigError(
                f"data.split shares must be in (0, 1) and leave a train part: "
                f"val={spec.val}, test={spec.test}"
            )
        return spec

    def assign(self, interactions: pd.DataFrame) -> np.ndarray:
        """The split of every interaction row: an array of 'train' / 'val' / 'test'."""
        if self.by == "cold_start":
            return self._by_user(interactions)
        return self._by_time(interactions)

    def _by_time(self, frame: pd.DataFrame) -> np.ndarray:
        order = np.lexsort((np.arange(len(frame)), frame["timestamp"].to_numpy(), frame["user"]))
        users = frame["user"].to_numpy()[order]
        starts = np.r_[0, np.flatnonzero(users[1:] != users[:-1]) + 1]
        sizes = np.diff(np.r_[starts, len(users)])
        # Rank of each interaction from the end of its user's history: 0 = the most recent.
        from_end = np.repeat(starts + sizes, sizes) - 1 - np.arange(len(users))
        n_test = np.where(sizes >= 3, np.maximum(1, np.floor(sizes * self.test)), 0)
        n_val = np.where(sizes >= 3, np.maximum(1, np.floor(sizes * self.val)), 0)
        n_test, n_val = np.repeat(n_test, sizes), np.repeat(n_val, sizes)
        part = np.where(
            from_end < n_test, "test", np.where(from_end < n_test + n_val, "val", "train")
        )
        out = np.empty(len(frame), dtype=object)
        out[order] = part
        return out

    def _by_user(self, frame: pd.DataFrame) -> np.ndarray:
        users = np.sort(frame["user"].unique())
        shuffled = users[np.random.default_rng(self.seed).permutation(len(users))]
        n_val, n_test = round(len(users) * self.val), round(len(users) * self.test)
        if min(n_val, n_test, len(users) - n_val - n_test) < 1:
            raise ConfigError(
                f"a cold-start split of {len(users)} users with val={self.val}, "
                f"test={self.test} leaves a split without users: use larger shares"
            )
        which = pd.Series("train", index=shuffled, dtype=object)
        which.iloc[:n_val] = "val"
        which.iloc[n_val : n_val + n_test] = "test"
        return which.loc[frame["user"]].to_numpy()
