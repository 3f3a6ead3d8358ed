"""A flat table as a dataset loads it, before splitting."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mtfw.data.text.columns import TextColumns


@dataclass
class Table:
    """A loaded dataset before splitting: one row per sample.

    ``labels`` are the label columns tasks may name (float, NaN where a sample has no label);
    ``label_sources`` maps each label to the raw columns it was derived from: those of the labels
    the run's tasks read must never be features (the leakage guard); those of other labels may."""

    frame: pd.DataFrame
    categorical: list[str]
    numeric: list[str]
    labels: list[str]
    label_sources: dict[str, list[str]] = field(default_factory=dict)
    checksum: str = ""
    source: str = ""
    log1p: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    # Row indices of splits fixed by the data itself (pre-split files); None: split by seed.
    fixed_splits: dict[str, np.ndarray] | None = None
    # Sequence columns (separated tokens, e.g. a user's recent items): column -> separator, length.
    sequence: dict[str, dict] = field(default_factory=dict)
    timestamp: str | None = None  # the column data.split.by=time orders rows by
    # Numeric columns whose values that are not numbers are read as missing (with a warning).
    coerce: list[str] = field(default_factory=list)
    # A 0/1 input ``<col>_missing`` for each numeric column with missing values in train.
    missing_indicator: bool = False
    # True: the input lists are the dataset's default (every column), not the user's choice, and
    # preparing drops the selected labels' sources from them instead of refusing them.
    default_inputs: bool = False
    user_id: str | None = None  # the column saying whose row each is (gAUC groups by it)
    text: TextColumns | None = None  # the text columns and their encoders (``data.text``)
    # ``data.min_count`` / ``data.hash_buckets``: one number or {column: n} (mtfw.data.id_vocab)
    min_count: int | dict[str, int] | None = None
    hash_buckets: int | dict[str, int] | None = None
