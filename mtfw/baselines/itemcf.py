"""Item-based collaborative filtering (Sarwar et al., WWW 2001): an item's score is the summed
cosine similarity to the items the user interacted with, keeping each item's ``neighbours``
most similar items."""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.baselines.base import Baseline, keep_top, known, normalise_rows
from mtfw.data.batch import Inputs
from mtfw.registry import register


@register("baseline", "itemcf")
class ItemCF(Baseline):
    """Item-based kNN: cosine similarity of the items' user vectors, ``neighbours`` per item."""

    def __init__(self, seed: int = 0, task_names: list[str] = (), neighbours: int = 50):
        super().__init__(seed, task_names)
        self.neighbours = neighbours

    def fit(self, data, validate=None) -> None:
        super().fit(data, validate)
        columns = normalise_rows(self.matrix.T)  # [I, users]
        similarity = columns @ columns.T
        similarity.fill_diagonal_(0.0)
        self.similarity = keep_top(similarity, self.neighbours)

    def state(self) -> dict[str, Tensor]:
        return {"matrix": self.matrix, "similarity": self.similarity}

    def score(self, inputs: Inputs) -> Tensor:
        # similarity[j, i]: how much interacting with j recommends i (row j keeps j's neighbours)
        return torch.mm(known(inputs), self.similarity)
