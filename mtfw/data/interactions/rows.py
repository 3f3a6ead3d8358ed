"""The interaction rows, checked against the user and item tables and put in the order every
later step relies on: by user, then time (ties by the original row order)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mtfw.data.interactions.frames import InteractionFrames
from mtfw.errors import ConfigError


def checked_interactions(frames: InteractionFrames) -> pd.DataFrame:
    """The interactions, refused when a column or an id is missing or a label is a feature."""
    inter = frames.interactions
    missing = {"user", "item", "timestamp"} - set(inter.columns)
    if missing:
        raise ConfigError(f"the interactions lack column(s) {sorted(missing)}")
    if len(inter) == 0:
        raise ConfigError("the dataset has no interactions")
    for what, article, table in (("user", "a", frames.users), ("item", "an", frames.items)):
        unknown = ~inter[what].isin(table.index)
        if unknown.any():
            raise ConfigError(
                f"{int(unknown.sum())} interactions have {article} {what} id that is not in the "
                f"{what} table, e.g. '{inter.loc[unknown, what].iloc[0]}'"
            )
    overlap = set(frames.labels) & set(
        frames.user_categorical
        + frames.user_numeric
        + frames.item_categorical
        + frames.item_numeric
    )
    if overlap:
        raise ConfigError(f"leakage: label column(s) {sorted(overlap)} are also input features")
    return inter


def ordered_rows(frames: InteractionFrames, inter: pd.DataFrame, part: np.ndarray, labels) -> tuple:
    """Every interaction as row indices (``uid``, ``item``) sorted by user then time, with its
    split and the label columns the tasks need."""
    uid_of = pd.Series(np.arange(1, len(frames.users) + 1), index=frames.users.index)
    iid_of = pd.Series(np.arange(1, len(frames.items) + 1), index=frames.items.index)
    order = np.lexsort(
        (np.arange(len(inter)), inter["timestamp"].to_numpy(), uid_of.loc[inter["user"]].to_numpy())
    )
    frame = pd.DataFrame(
        {
            "uid": uid_of.loc[inter["user"]].to_numpy()[order],
            "item": iid_of.loc[inter["item"]].to_numpy()[order],
            "part": part[order],
        }
    )
    for label in labels:
        if label not in inter.columns:
            raise ConfigError(
                f"a task needs interaction column '{label}'; "
                f"this dataset has labels {', '.join(frames.labels)}"
            )
        frame[label] = pd.to_numeric(inter[label], errors="coerce").to_numpy()[order]
        missing = int(frame[label].isna().sum())
        if missing:
            raise ConfigError(
                f"interaction label '{label}' has {missing} missing or non-numeric values (e.g. "
                f"row {int(np.flatnonzero(frame[label].isna())[0])} after sorting by user and "
                "time); clean the interactions file or drop the task that uses it"
            )
    return frame
