"""Per-user sequences without Python loops over users: histories and look-ahead windows.

Rows are sorted by user then time; ``user_runs`` gives each row the first and one-past-last row
of its user's run, so "the previous ``L`` items of the same user" is a few shifted gathers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import Tensor


def user_runs(uid: Tensor) -> tuple[Tensor, Tensor]:
    """``(start, end)`` of each row's user run in rows sorted by user."""
    n = uid.shape[0]
    new = torch.ones(n, dtype=torch.bool)
    new[1:] = uid[1:] != uid[:-1]
    first = torch.nonzero(new).flatten()
    sizes = torch.diff(torch.cat([first, torch.tensor([n])]))
    start = torch.repeat_interleave(first, sizes)
    return start, start + torch.repeat_interleave(sizes, sizes)


def train_history(uid: Tensor, item: Tensor, runs: tuple[Tensor, Tensor], length: int) -> Tensor:
    """``[N, length]``: the items of the same user strictly before each row, most recent last."""
    start, _ = runs
    rows = torch.arange(uid.shape[0])
    out = torch.zeros(uid.shape[0], length, dtype=torch.long)
    for back in range(1, length + 1):
        source = rows - back
        valid = source >= start
        out[:, length - back] = torch.where(valid, item[source.clamp(min=0)], 0)
    return out


def interest_labels(
    item: Tensor, runs: tuple[Tensor, Tensor], categories: Tensor, window: int
) -> Tensor:
    """``[N, G]``: the categories of the row's item and the user's next ``window - 1`` items —
    what the user turns to next, the training counterpart of the held-out items' categories."""
    _, end = runs
    rows = torch.arange(item.shape[0])
    out = torch.zeros(item.shape[0], categories.shape[1])
    for ahead in range(max(window, 1)):
        target = rows + ahead
        valid = (target < end).unsqueeze(1)
        out = torch.maximum(out, categories[item[target.clamp(max=len(item) - 1)]] * valid)
    return out


def eval_history(known: pd.DataFrame, users: np.ndarray, length: int) -> Tensor:
    """``[len(users), length]``: each user's last ``length`` known items (``known`` is sorted by
    user then time), most recent last, zero-padded on the left."""
    tail = known[known["uid"].isin(users)].groupby("uid", sort=False).tail(length)
    from_end = tail.groupby("uid", sort=False).cumcount(ascending=False).to_numpy()
    row = np.searchsorted(users, tail["uid"].to_numpy()).astype(np.int64)
    out = torch.zeros(len(users), length, dtype=torch.long)
    if length:
        column = torch.tensor(length - 1 - from_end, dtype=torch.long)
        out[torch.from_numpy(row), column] = torch.tensor(tail["item"].to_numpy())
    return out
