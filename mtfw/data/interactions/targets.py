"""What an evaluation split asks of a model, per evaluated user: rank the catalogue (minus the
items already known) so that the held-out items come first; name the categories of the held-out
items; and score the held-out interactions themselves (their label columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from mtfw.data.interactions.sets import EvalSet
from mtfw.data.interactions.sparse import Sparse
from mtfw.data.interactions.tables import Catalogue, UserTable


def _pairs(frame: pd.DataFrame, users: np.ndarray) -> tuple[Tensor, Tensor]:
    unique = frame[frame["uid"].isin(users)].drop_duplicates(["uid", "item"])
    rows = np.searchsorted(users, unique["uid"].to_numpy())
    return torch.from_numpy(rows), torch.tensor(unique["item"].to_numpy())


def eval_set(
    held: pd.DataFrame,
    known: pd.DataFrame,
    history: Tensor,
    users: UserTable,
    items: Catalogue,
    labels: list[str],
    ranked: np.ndarray | None = None,
) -> EvalSet:
    """``held`` are the split's interactions and ``known`` those the model may know at its cut
    (both sorted by user then time, columns ``uid``, ``item`` and the label columns).

    ``ranked``: the only items ranked (the split's held-out items under ``cold_start_items``);
    None ranks the whole catalogue. Restricting the candidates is the usual cold-start item
    protocol: the held-out interactions involve held-out items only, so ranking them against the
    warm catalogue would count every unobserved warm item a user might well like as a miss and
    mostly measure how far new items are pushed below warm ones, not how well they are ordered."""
    uids = np.unique(held["uid"].to_numpy())
    n = len(uids)
    relevant = Sparse.from_pairs(*_pairs(held, uids), n)
    known_sparse = Sparse.from_pairs(*_pairs(known, uids), n)
    pair_row = torch.from_numpy(np.searchsorted(uids, held["uid"].to_numpy()))
    pair_item = torch.tensor(held["item"].to_numpy())
    pair_labels = {k: torch.tensor(held[k].to_numpy(), dtype=torch.float32) for k in labels}
    categories = torch.zeros(n, items.categories.shape[1])
    categories = categories.index_add_(0, pair_row, items.categories[pair_item]).clamp_(max=1.0)
    inputs = users.inputs(torch.from_numpy(uids), history)
    mask = None
    if ranked is not None:
        mask = torch.zeros(len(items), dtype=torch.bool)
        mask[torch.from_numpy(ranked)] = True
    return EvalSet(
        inputs, known_sparse, relevant, pair_row, pair_item, pair_labels, categories, len(items),
        mask,
    )  # fmt: skip
