"""Seeded random train/val/test splits, recorded with the run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import numpy as np

from mtfw.registry import ConfigError, closest


@dataclass(frozen=True)
class SplitSpec:
    """``by: random`` (seeded) or ``by: time``: the latest rows (by the dataset's timestamp
    column) are test, the ones before them val, so no model is trained on the future."""

    val: float = 0.1
    test: float = 0.1
    seed: int = 0
    by: str = "random"

    @classmethod
    def from_config(cls, node: dict | None) -> SplitSpec:
        node = dict(node or {})
        allowed = [f.name for f in fields(cls)]
        for key in node:
            if key not in allowed:
                hint = closest(key, allowed)
                raise ConfigError(
                    f"data.split has no key '{key}'; keys: {', '.join(allowed)}.{hint}"
                )
        spec = cls(**node)
        if spec.by not in ("random", "time"):
            raise ConfigError(f"data.split.by must be random or time, not '{spec.by}'")
        if not (0 <= spec.val < 1 and 0 <= spec.test < 1 and spec.val + spec.test < 1):
            raise ConfigError(
                f"data.split fractions must be in [0, 1) and leave a train split: "
                f"val={spec.val}, test={spec.test}"
            )
        return spec

    def indices(
        self, n: int, fixed: dict[str, np.ndarray] | None = None, times: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        """Row indices of each split: a permutation drawn from ``seed`` (or the rows by time,
        ``times``), cut val | test | train.

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
            if self.by == "time":
                if times is None:
                    raise ConfigError(
                        "data.split.by=time needs a timestamp column (data.timestamp)"
                    )
                newest = np.argsort(times, kind="stable")[::-1]
                n_val, n_test = round(n * self.val), round(n * self.test)
                # val | test | train as below: the newest rows test, the next ones val
                order = np.r_[
                    newest[n_test : n_test + n_val], newest[:n_test], newest[n_val + n_test :]
                ]
            else:
                order = np.random.default_rng(self.seed).permutation(n)
            n_val, n_test = round(n * self.val), round(n * self.test)
            parts = {
                "train": np.sort(order[n_val + n_test :]),
                "val": np.sort(order[:n_val]),
                "test": np.sort(order[n_val : n_val + n_test]),
            }
        for name, idx in parts.items():
            if idx.size == 0:
                raise ConfigError(
                    f"the {name} split is empty ({n} rows, val={self.val}, test={self.test}): "
                    "use more data or larger fractions"
                )
        return parts


def fingerprint(indices: np.ndarray) -> str:
    """A short hash of a split's row indices, recorded so a later run can prove the same split."""
    return hashlib.sha256(np.ascontiguousarray(indices, dtype=np.int64).tobytes()).hexdigest()[:16]
