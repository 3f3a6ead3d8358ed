"""The base of classical recommenders (the ``baseline`` kind): fitted on the training
interactions, they score every catalogue item for a batch of evaluated users. The same split,
evaluation and metric keys as the neural models apply, so one report compares them all."""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.recsys.prepare import RecData
from mtfw.recsys.sets import RecEvalSet


class Baseline:
    def __init__(self, seed: int = 0):
        self.seed = seed

    def fit(self, data: RecData, log=None) -> None:
        """Learn from ``data.splits['train']`` (and select on ``val`` if it trains)."""
        train = data.splits["train"]
        self.n_items = len(data.items)
        # Users x items, 1 where the user interacted with the item in training.
        self.matrix = torch.zeros(len(data.users.ids) + 1, self.n_items)
        self.matrix[train.uid, train.item] = 1.0
        self.matrix[:, 0] = 0.0

    def score(self, data: RecEvalSet, rows: slice) -> Tensor:
        """``[B, I]`` scores of every item for the users ``rows`` of an evaluation set."""
        raise NotImplementedError

    def state(self) -> dict[str, Tensor]:
        """Tensors that reproduce the fitted model (saved as ``baseline.pt``)."""
        return {"matrix": self.matrix}

    def load_state(self, state: dict[str, Tensor]) -> None:
        for key, value in state.items():
            setattr(self, key, value)
        self.n_items = self.matrix.shape[1]


def known(data: RecEvalSet, rows: slice, n_items: int) -> Tensor:
    """``[B, I]`` float: the items each user already interacted with at the cut."""
    return data.known.dense(rows, n_items).float()


def normalise_rows(x: Tensor) -> Tensor:
    return x / x.norm(dim=1, keepdim=True).clamp(min=1e-12)


def keep_top(x: Tensor, k: int) -> Tensor:
    """``x`` with all but the ``k`` largest entries of each row set to 0."""
    if k >= x.shape[1]:
        return x
    values, index = x.topk(k, dim=1)
    return torch.zeros_like(x).scatter_(1, index, values)
