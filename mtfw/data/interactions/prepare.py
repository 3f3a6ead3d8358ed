"""From :class:`InteractionFrames` to the training and evaluation sets, split and preprocessed.

User features are fitted on the training users only (a cold-start user's id is therefore unknown,
id 0); item features on the catalogue, which is known before any interaction; the item-id
vocabulary on the items with a training interaction (any other item has the unknown id 0).
Under ``cold_start_items`` an evaluation split ranks, for each user who interacted with one of its
held-out items, those held-out items only (see ``targets.eval_set``). Only the user and
item tables are inputs: interaction columns (ratings) are labels and never features.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from mtfw.data.interactions.frames import InteractionFrames
from mtfw.data.interactions.negatives import NegativeSampler
from mtfw.data.interactions.popularity import ItemPopularity
from mtfw.data.interactions.preprocessing import RecPreprocessing
from mtfw.data.interactions.rows import checked_interactions, ordered_rows
from mtfw.data.interactions.sequences import (
    eval_history,
    interest_labels,
    train_history,
    user_runs,
)
from mtfw.data.interactions.sets import TrainSet
from mtfw.data.interactions.split import assign, train_only_users
from mtfw.data.interactions.tables import Catalogue, UserTable, trained_id_rows
from mtfw.data.interactions.targets import eval_set
from mtfw.data.interactions.windows import UserWindows
from mtfw.data.needs import DataNeeds
from mtfw.data.prepared import DataContext, InputSpec, PreparedData
from mtfw.data.preprocess import Preprocessor
from mtfw.data.split import SplitError, SplitSpec, fingerprint
from mtfw.data.text.columns import TextColumns


def with_row0(t: torch.Tensor) -> torch.Tensor:
    """Prepend an all-zero row: index 0 is the padding item / the user known by features only."""
    return torch.cat([torch.zeros_like(t[:1]), t])


def catalogue(frames: InteractionFrames, text: TextColumns | None = None) -> tuple:
    pre = Preprocessor(frames.item_categorical, frames.item_numeric, text=text).fit(frames.items)
    cat, num = pre.transform(frames.items)
    index = {c: j for j, c in enumerate(frames.categories)}
    categories = torch.zeros(len(frames.items) + 1, len(frames.categories))
    for i, item in enumerate(frames.items.index):
        for name in frames.item_categories.get(item, []):
            categories[i + 1, index[name]] = 1.0
    ids = [str(i) for i in frames.items.index]
    return Catalogue(ids, with_row0(cat), with_row0(num), categories, list(frames.categories),
                     pre.text.transform(frames.items, padding_row=True)), pre  # fmt: skip


def user_table(frames: InteractionFrames, train_users, use_id: bool, text=None) -> tuple:
    users = frames.users.copy()
    categorical = list(frames.user_categorical)
    if use_id:
        users["user_id"] = users.index.astype(str)
        categorical = ["user_id", *categorical]
    pre = Preprocessor(categorical, frames.user_numeric, text=text)
    pre.fit(users.loc[train_users], users)  # the text of cold-start users encoded, not fitted
    cat, num = pre.transform(users)
    ids = [str(u) for u in users.index]
    text_rows = pre.text.transform(users, padding_row=True)
    return UserTable(ids, with_row0(cat), with_row0(num), text_rows), pre


def prepare_interactions(
    frames: InteractionFrames,
    split: SplitSpec,
    needs: DataNeeds,
    history_length: int,
    user_id_feature: bool,
    text: dict[str, TextColumns] | None = None,  # "items", "users": data.text, data.items.text
) -> PreparedData:
    inter = checked_interactions(frames)
    part = assign(split, inter)
    labels = sorted(needs.labels)
    frame = ordered_rows(frames, inter, part, labels)
    for name in ("train", "val", "test"):
        if not (frame["part"] == name).any():
            raise SplitError(
                f"the {name} split is empty: too few interactions per user for data.split={split}"
            )
    items, item_pre = catalogue(frames, (text or {}).get("items"))
    train = frame[frame["part"] == "train"].reset_index(drop=True)
    items = replace(items, id_rows=trained_id_rows(train["item"].to_numpy(), len(items)))
    train_users = frames.users.index[np.unique(train["uid"]) - 1]
    users, user_pre = user_table(frames, train_users, user_id_feature, (text or {}).get("users"))
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
        ranked = np.unique(held["item"]) if split.by == "cold_start_items" else None
        evals[name] = eval_set(held, known, eval_items, users, items, labels, ranked)
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
        "data/n_trained_items": items.n_ids - 1,
        **{
            f"data/split_hash_{s}": fingerprint(np.flatnonzero(part == s))
            for s in ("train", "val", "test")
        },
        **{f"data/{k}": v for k, v in frames.info.items()},
        **item_pre.text.info("data/text/items"),
        **user_pre.text.info("data/text/users"),
    }
    context = DataContext(
        InputSpec(
            user_pre.vocab_sizes,
            len(user_pre.numeric),
            [],
            history_length,
            [*user_pre.categorical, *user_pre.text.names, *user_pre.numeric],
            user_pre.text.fields,
        ),
        {k: float(v.mean()) for k, v in train_labels.items() if k in needs.labels},
        items,
        InputSpec(item_pre.vocab_sizes, len(item_pre.numeric), text=item_pre.text.fields),
        users,
        frame,
        ItemPopularity.of(uid, item, len(items)),
    )
    train_set = TrainSet(users, uid, item, history, train_labels, sampler, windows)
    splits = {"train": train_set, **evals}
    return PreparedData(splits, RecPreprocessing(user_pre, item_pre), info, context)
