"""One split spec for every dataset: ``data.split.by``, the val and test shares, the seed.

``by`` chooses the protocol; a dataset says which it supports:

- ``random``: on flat tables a seeded permutation of the rows; on interaction data a seeded
  random share of each user's interactions;
- ``time`` (flat tables): the newest rows (by the timestamp column) are test, the ones before
  them val, so no model is trained on the future. On interaction data ``time`` means
  ``user_time``, as it always has there;
- ``user_time`` (interaction data): each user's last interactions are held out;
- ``leave_one_out`` (interaction data): each user's last interaction is test, the one before val;
- ``cold_start`` (interaction data): a seeded share of users is held out entirely;
- ``cold_start_items`` (interaction data): a seeded share of items is held out entirely.

K-fold cross-validation (``folds: K``, ``fold: i``) replaces the ``test`` share: fold i is test
and val is the ``val`` share of the other K-1 folds (see :mod:`mtfw.data.folds`). It applies to
``random`` (rows of a flat table, or each user's interactions), ``cold_start`` (folds of
users) and ``cold_start_items`` (folds of items); ``stratify`` and ``group`` name columns of a
flat table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mtfw.data.folds import assign_folds, carve_val, class_codes, column_codes
from mtfw.errors import ConfigError
from mtfw.settings import settings_from

PROTOCOLS = ("random", "time", "user_time", "leave_one_out", "cold_start", "cold_start_items")
FOLD_PROTOCOLS = ("random", "cold_start", "cold_start_items")  # K-fold applies to these


class SplitError(ConfigError):
    """A split spec or its outcome cannot be used: bad shares, an unknown protocol, an empty
    split."""


@dataclass(frozen=True)
class SplitSpec:
    val: float = 0.1
    test: float = 0.1
    seed: int = 0
    by: str = "random"
    folds: int | None = None  # K-fold cross-validation: K, or None for none
    fold: int | None = None  # the test fold, 0..K-1
    stratify: str | None = None  # a label column: stratified folds
    group: str | None = None  # an id column: one id never in two folds

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
        spec.check_folds()
        return spec

    def check_folds(self) -> None:
        """The K-fold settings, before any data is loaded."""
        if self.folds is None:
            for key in ("fold", "stratify", "group"):
                if getattr(self, key) is not None:
                    raise SplitError(
                        f"data.split.{key}={getattr(self, key)} is a cross-validation setting, "
                        "but data.split.folds is not set: add data.split.folds=K (K >= 2), e.g. "
                        "`mtfw train cv=5` runs all five folds"
                    )
            return
        if self.folds < 2:
            raise SplitError(f"data.split.folds={self.folds}: K-fold cross-validation needs at "
                             "least 2 folds (null for none)")  # fmt: skip
        if self.fold is None or not 0 <= self.fold < self.folds:
            raise SplitError(
                f"data.split.fold={self.fold} with data.split.folds={self.folds}: the test fold "
                f"must be one of 0..{self.folds - 1}; all of them: "
                f"-m 'data.split.fold=range({self.folds})' (or cv={self.folds})"
            )
        if self.by not in FOLD_PROTOCOLS:
            raise SplitError(
                f"data.split.by={self.by} with data.split.folds: K-fold cross-validation assigns "
                f"rows at random, which {self.by} does not (it holds out by time or position); "
                "use data.split.by=random (per user on interaction data), cold_start (folds "
                "of users) or cold_start_items (folds of items)"
            )
        if self.val <= 0:
            raise SplitError(f"data.split.val={self.val}: cross-validation carves validation "
                             "from the training folds and needs a val share > 0")  # fmt: skip

    @property
    def info(self) -> dict:
        """What a run's summary records of the split (beside the hashes)."""
        info: dict = {"data/split_seed": self.seed}
        if self.folds is not None:
            info.update({"data/split_folds": self.folds, "data/split_fold": self.fold})
            info.update({f"data/split_{k}": getattr(self, k) for k in ("stratify", "group")
                         if getattr(self, k) is not None})  # fmt: skip
        return info

    def indices(
        self,
        n: int,
        fixed: dict[str, np.ndarray] | None = None,
        times: np.ndarray | None = None,
        frame: pd.DataFrame | None = None,
    ) -> dict[str, np.ndarray]:
        """Row indices of each split of a flat table: a permutation drawn from ``seed`` (or the
        rows by time, ``times``), cut val | test | train; under cross-validation the folds of
        the rows (``frame`` holds the ``stratify`` and ``group`` columns).

        With ``fixed`` splits from the data (pre-split files), those are kept; a missing val split
        is carved from train with the ``val`` fraction (seeded)."""
        if self.folds is not None:
            if fixed is not None:
                raise SplitError("data.split.folds: this data comes split into files "
                                 "(data.files), whose test split is fixed; cross-validate a "
                                 "single file (data.path)")  # fmt: skip
            return self._check_parts(self.fold_indices(n, frame), n)
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
        return self._check_parts(parts, n)

    def _check_parts(self, parts: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        for name, idx in parts.items():
            if idx.size == 0:
                raise self.empty(name, n)
        return parts

    def empty(self, name: str, n: int) -> SplitError:
        """The error for an empty ``name`` split of ``n`` rows."""
        shares = f"val={self.val}, " + (
            f"folds={self.folds}" if self.folds else f"test={self.test}"
        )
        return SplitError(f"the {name} split is empty ({n} rows, {shares}): use more data or "
                          "larger fractions")  # fmt: skip

    def fold_indices(self, n: int, frame: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
        """Fold ``fold`` of ``folds`` is test; val is the ``val`` share of the other folds."""
        classes = groups = None
        if self.stratify is not None:
            classes = class_codes(frame, self.stratify)
        if self.group is not None:
            groups = column_codes(frame, self.group, "group")
        fold = assign_folds(self.folds, self.seed, n, classes, groups)
        rest = np.flatnonzero(fold != self.fold)
        val = carve_val(rest, self.val, self.seed, classes, groups)
        train = np.setdiff1d(rest, val, assume_unique=True)
        return {"train": train, "val": val, "test": np.flatnonzero(fold == self.fold)}

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
