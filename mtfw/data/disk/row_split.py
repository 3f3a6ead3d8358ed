"""Each row's split on disk storage, from its number (and its chunk's values) alone.

- ``random``: a seeded uniform value per row (``mtfw.data.disk.row_hash``); below ``val`` it is
  val, below ``val + test`` test, else train: the same shares as in memory, as independent draws
  per row (so the counts vary by a few rows around ``n * share``; the rows differ from memory's
  permutation, and are recorded by their hashes like every split).
- ``time``: the newest rows, exactly those memory storage takes (``mtfw.data.disk.time_cut``).
- pre-split ``files``: the file's split; a missing val split is carved from train by the hash.
- ``folds: K``: a row's fold is its hashed value times K (by the ``group`` column's value
  instead, so one group is in one fold); val is the ``val`` share of the other folds by a second
  hash. ``stratify`` needs every row's class at once and is refused on disk storage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mtfw.data.disk.row_hash import unit_interval, value_keys
from mtfw.data.disk.time_cut import Cut, order_keys
from mtfw.data.split import SplitError, SplitSpec

TRAIN, VAL, TEST = 0, 1, 2
NAMES = ("train", "val", "test")


def check_disk_split(spec: SplitSpec, timestamp: str | None) -> None:
    """What disk storage cannot do with a split spec, before any data is read."""
    if spec.stratify is not None:
        raise SplitError(
            f"data.split.stratify={spec.stratify} with data.storage=disk: stratified folds need "
            "every row's class at once; use data.storage=memory, or unstratified folds (hashed "
            "per row, or per data.split.group)"
        )
    if spec.by == "time" and timestamp is None:
        raise SplitError("data.split.by=time needs a timestamp column (data.timestamp)")


@dataclass(frozen=True)
class RowSplit:
    """Assigns split codes (``TRAIN``, ``VAL``, ``TEST``) to the rows of a chunk."""

    spec: SplitSpec
    test_cut: Cut | None = None  # time: the newest rows (None: no test row)
    val_cut: Cut | None = None  # time: the newest rows of test and val together
    has_val_file: bool = True  # pre-split files: False when there is no val file

    def codes(self, rows: np.ndarray, frame: pd.DataFrame, times: np.ndarray | None,
              fixed: str | None) -> np.ndarray:  # fmt: skip
        """``rows``: the chunk's row numbers in the whole data; ``fixed``: the split of the
        file the chunk comes from (pre-split files), or None."""
        spec, keys = self.spec, rows.astype(np.uint64)
        codes = np.full(rows.size, TRAIN, dtype=np.int8)
        if fixed is not None:
            codes[:] = NAMES.index(fixed)
            if fixed == "train" and not self.has_val_file:
                codes[unit_interval(keys, spec.seed, 3) < spec.val] = VAL
            return codes
        if spec.folds is not None:
            groups = keys if spec.group is None else value_keys(frame[spec.group])
            fold = np.floor(unit_interval(groups, spec.seed, 1) * spec.folds).astype(np.int64)
            codes[unit_interval(groups, spec.seed, 2) < spec.val] = VAL
            codes[fold == spec.fold] = TEST
            return codes
        if spec.by == "time":
            order = order_keys(times)
            if self.val_cut is not None:
                codes[self.val_cut.at_or_above(order, rows)] = VAL
            if self.test_cut is not None:
                codes[self.test_cut.at_or_above(order, rows)] = TEST
            return codes
        u = unit_interval(keys, spec.seed, 0)
        codes[u < spec.val + spec.test] = TEST
        codes[u < spec.val] = VAL
        return codes
