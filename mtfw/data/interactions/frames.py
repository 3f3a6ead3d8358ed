"""The raw form of a recommendation dataset: users, items and user-item interactions.

Every interaction dataset (MovieLens-100K, a YAML-declared CSV/parquet set) loads into this one
shape; splitting, preprocessing and tensorising happen afterwards, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class InteractionFrames:
    """``interactions`` has columns ``user``, ``item``, ``timestamp`` and any label columns
    (e.g. ``rating``); ``users`` is indexed by user id and ``items`` by item id (ids as strings),
    one row each, with their feature columns. ``item_categories`` maps each item id to its list
    of category names (MovieLens genres), the labels of the ``interest`` task."""

    interactions: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    user_categorical: list[str]
    user_numeric: list[str]
    item_categorical: list[str]
    item_numeric: list[str]
    categories: list[str]  # the category vocabulary, in a fixed order
    item_categories: dict[str, list[str]]
    labels: list[str]  # interaction columns tasks may use as labels (never features)
    checksum: str = ""
    source: str = ""
    info: dict = field(default_factory=dict)
