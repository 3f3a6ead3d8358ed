"""One split spec for every dataset: ``data.split.by``, the val and test shares, the seed.

``by`` chooses the protocol; a dataset says which it supports:

- ``random``: on flat tables a seeded permutation of the rows; on interaction data a seeded
  random share of each user's interactions;
- ``time`` (flat tables): the newest rows (by the timestamp column) are test, the ones before
  them val, so no model is trained on the future. On interaction data ``time`` means
  ``user_time``, as it always has there;
- ``user_time`` (interaction data): each user's last interactions are held out;
- ``leave_one_out`` (interaction data): each user's last interaction is test, the one before val;
- ``cold_start`` (interaction data): a seeded share of users is held out entirely.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np

from mtfw.errors import ConfigError
from mtfw.settings import settings_from

PROTOCOLS = ("random", "time", "user_time", "leave_one_out", "cold_start")


class SplitError(ConfigError):
    """A split spec or its outcome cannot be used: bad shares, an unknown protocol, an empty
    split."""


@dataclass(frozen=True)
class SplitSpec:
    val: float = 0.1
    test: float = 0.1
    seed: int = 0
    by: str = "random"

    @classmethod
    def from_config(
        cls, node: dict | None, kinds: tuple[str, ...] = ("random", "time"), default: str = ""
    ) -> SplitSpec:
        """Read ``data.split``; ``kinds`` are the protocols the dataset supports, ``default``
        the one it uses when ``by`` is not given."""
        spec = settings_from(cls, node, "data.split")
        if default and "by" not in dict(node or {}):
            spec = replace(spec, by=default)
        if spec.by not in kinds:
            raise SplitError(
                f"data.split.by must be {' or '.join(kinds)} for this dataset, not '{spec.by}'"
                f" (protocols: {', '.join(PROTOCOLS)})"
            )
        if not (0 <= spec.val < 1 and 0 <= spec.test < 1 and spec.val + spec.test < 1):
            raise SplitError(
                f"data.split fractions must be in [0, 1) and leave a train split: "
                f"val={spec.val}, test={spec.test}"
            )
        return spec

    def indices(
        self, n: int, fixed: dict[str, np.ndarray] | None = None, times: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Row indices of each split of a flat table: a permutation drawn from ``seed`` (or the
        rows by time, ``times``), cut val | test | train.

        With ``fixed`` splits from the data (pre-split files), those are kept; a missing val split
        is carved from train with the ``val`` fraction (seeded)."""
        if fixed is not None and "val" not in fixed:
            train = fixed["train"][
                np.random.default_rng(self.seed).permutation(len(fixed["train"]))
            ]
            n_val = round(len(train) * self.val)
            fixed = {**fixed, "train": np.sort(train[n_val:]), "val": np.sort(train[:n_val])}
        if fixed is not None:
            parts = {s: fixed[s] for s in ("train", "val", "test")}
        else:
            order = self._order(n, times)
            n_val, n_test = round(n * self.val), round(n * self.test)
            parts = {
                "train": np.sort(order[n_val + n_test :]),
                "val": np.sort(order[:n_val]),
                "test": np.sort(order[n_val : n_val + n_test]),
            }
        for name, idx in parts.items():
            if idx.size == 0:
                raise SplitError(
                    f"the {name} split is empty ({n} rows, val={self.val}, test={self.test}): "
                    "use more data or larger fractions"
                )
        return parts

    def _order(self, n: int, times: np.ndarray | None) -> np.ndarray:
        """Rows in the order val | test | train are cut from."""
        if self.by != "time":
            return np.random.default_rng(self.seed).permutation(n)
        if times is None:
            raise SplitError("data.split.by=time needs a timestamp column (data.timestamp)")
        newest = np.argsort(times, kind="stable")[::-1]
        n_val, n_test = round(n * self.val), round(n * self.test)
        # the newest rows test, the next ones val
        return np.r_[newest[n_test : n_test + n_val], newest[:n_test], newest[n_val + n_test :]]


def fingerprint(indices: np.ndarray) -> str:
    """A short hash of a split's row indices, recorded so a later run can prove the same split."""
    return hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest()[:16]
