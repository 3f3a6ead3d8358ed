"""From :class:`InteractionFrames` to the training and evaluation sets, split and preprocessed.

User features are fitted on the training users only (a cold-start user's id is therefore unknown,
id 0); item features on the catalogue, which is known before any interaction. Only the user and
item tables are inputs: interaction columns (ratings) are labels and never features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from mtfw.data.interactions.frames import InteractionFrames
from mtfw.data.interactions.negatives import NegativeSampler
from mtfw.data.interactions.popularity import ItemPopularity
from mtfw.data.interactions.preprocessing import RecPreprocessing
from mtfw.data.interactions.sequences import (
    eval_history,
    interest_labels,
    train_history,
    user_runs,
)
from mtfw.data.interactions.sets import TrainSet
from mtfw.data.interactions.split import assign, train_only_users
from mtfw.data.interactions.tables import Catalogue, UserTable
from mtfw.data.interactions.targets import eval_set
from mtfw.data.interactions.windows import UserWindows
from mtfw.data.needs import DataNeeds
from mtfw.data.prepared import DataContext, InputSpec, PreparedData
from mtfw.data.preprocess import Preprocessor
from mtfw.data.split import SplitError, SplitSpec, fingerprint
from mtfw.errors import ConfigError


def _check(frames: InteractionFrames) -> pd.DataFrame:
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


def with_row0(t: torch.Tensor) -> torch.Tensor:
    """Prepend an all-zero row: index 0 is the padding item / the user known by features only."""
    return torch.cat([torch.zeros_like(t[:1]), t])


def catalogue(frames: InteractionFrames) -> tuple[Catalogue, Preprocessor]:
    pre = Preprocessor(frames.item_categorical, frames.item_numeric).fit(frames.items)
    cat, num = pre.transform(frames.items)
    index = {c: j for j, c in enumerate(frames.categories)}
    categories = torch.zeros(len(frames.items) + 1, len(frames.categories))
    for i, item in enumerate(frames.items.index):
        for name in frames.item_categories.get(item, []):
            categories[i + 1, index[name]] = 1.0
    ids = [str(i) for i in frames.items.index]
    return Catalogue(ids, with_row0(cat), with_row0(num), categories, list(frames.categories)), pre


def user_table(
    frames: InteractionFrames, train_users, use_id: bool
) -> tuple[UserTable, Preprocessor]:
    users = frames.users.copy()
    categorical = list(frames.user_categorical)
    if use_id:
        users["user_id"] = users.index.astype(str)
        categorical = ["user_id", *categorical]
    pre = Preprocessor(categorical, frames.user_numeric).fit(users.loc[train_users])
    cat, num = pre.transform(users)
    return UserTable([str(u) for u in users.index], with_row0(cat), with_row0(num)), pre


def _ordered(frames: InteractionFrames, inter: pd.DataFrame, part: np.ndarray, labels) -> tuple:
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


def prepare_interactions(
    frames: InteractionFrames,
    split: SplitSpec,
    needs: DataNeeds,
    history_length: int,
    user_id_feature: bool,
) -> PreparedData:
    inter = _check(frames)
    part = assign(split, inter)
    labels = sorted(needs.labels)
    frame = _ordered(frames, inter, part, labels)
    for name in ("train", "val", "test"):
        if not (frame["part"] == name).any():
            raise SplitError(
                f"the {name} split is empty: too few interactions per user for data.split={split}"
            )
    items, item_pre = catalogue(frames)
    train = frame[frame["part"] == "train"].reset_index(drop=True)
    train_users = frames.users.index[np.unique(train["uid"]) - 1]
    users, user_pre = user_table(frames, train_users, user_id_feature)
    train_labels = {k: torch.tensor(train[k].to_numpy(), dtype=torch.float32) for k in labels}
    uid, item = torch.tensor(train["uid"].to_numpy()), torch.tensor(train["item"].to_numpy())
    starts = user_runs(uid)
    if needs.category_window is not None:
        window = needs.category_window
        train_labels["next_categories"] = interest_labels(item, starts, items.categories, window)
    history, windows = None, None
    if needs.windows is not None and history_length:  # asked by the history encoder
        windows = UserWindows.build(item, starts, needs.windows, history_length)
    else:
        history = train_history(uid, item, starts, history_length)
    sampler = None
    if needs.negatives is not None:
        sampler = NegativeSampler.fit(uid, item, len(items), needs.negatives)
    evals = {}
    for name, known_parts in (("val", ("train",)), ("test", ("train", "val"))):
        known = frame[frame["part"].isin(known_parts)]
        held = frame[frame["part"] == name]
        eval_items = eval_history(known, np.unique(held["uid"]), history_length)
        evals[name] = eval_set(held, known, eval_items, users, items, labels)
    info = {
        "data/source": frames.source,
        "data/checksum": frames.checksum,
        "data/split": split.by,
        **split.info,
        **({"data/cv_train_only_users": train_only_users(split, inter)} if split.folds else {}),
        "data/n_users": len(frames.users),
        "data/n_items": len(frames.items),
        **{f"data/n_{s}": int((frame["part"] == s).sum()) for s in ("train", "val", "test")},
        **{f"data/n_{s}_users": len(evals[s]) for s in ("val", "test")},
        **{
            f"data/split_hash_{s}": fingerprint(np.flatnonzero(part == s))
            for s in ("train", "val", "test")
        },
        **{f"data/{k}": v for k, v in frames.info.items()},
    }
    context = DataContext(
        InputSpec(
            user_pre.vocab_sizes,
            len(user_pre.numeric),
            [],
            history_length,
            [*user_pre.categorical, *user_pre.numeric],
        ),
        {k: float(v.mean()) for k, v in train_labels.items() if k in needs.labels},
        items,
        InputSpec(item_pre.vocab_sizes, len(item_pre.numeric)),
        users,
        frame,
        ItemPopularity.of(uid, item, len(items)),
    )
    train_set = TrainSet(users, uid, item, history, train_labels, sampler, windows)
    splits = {"train": train_set, **evals}
    return PreparedData(splits, RecPreprocessing(user_pre, item_pre), info, context)
