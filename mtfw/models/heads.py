"""Task heads: a task's tower over its representation, and what it outputs for training and for
evaluation.

Every head is called ``head(rep, inputs, items)`` with the task's representation ``[B, d]``, the
batch's inputs and the model's item side (None on a flat table). A tower head outputs one value
per row. A pair head maps the representation into the item space; an item's score is
``<u, v_item> + b_item`` (+ a constant offset, the mean training rating for rating regression), so
scoring the whole catalogue is one matrix product, ``[B, D] @ [D, I]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mtfw.data.batch import Inputs
from mtfw.data.prepared import DataContext
from mtfw.models.items import ItemEmbedding
from mtfw.models.mlp import mlp


def tower(in_dim: int, hidden: list[int], act: str, dropout: float, out_dim: int) -> nn.Module:
    return nn.Sequential(
        mlp(in_dim, hidden, act, dropout), nn.Linear(hidden[-1] if hidden else in_dim, out_dim)
    )


class Head(nn.Module):
    """``forward`` gives the training output; ``evaluate`` what the task's evaluation collects
    (the same unless the head scores items differently at evaluation)."""

    def forward(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        raise NotImplementedError

    def evaluate(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        return self(rep, inputs, items)


class TowerHead(Head):
    """An MLP then one output per row, ``[B]``; or, with ``out_dim``, ``[B, out_dim]`` (e.g. one
    logit per category)."""

    def __init__(
        self, in_dim: int, hidden: list[int], act: str, dropout: float, out_dim: int | None = None
    ):
        super().__init__()
        self.tower = tower(in_dim, hidden, act, dropout, out_dim or 1)
        self.one = out_dim is None

    def forward(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        out = self.tower(rep)
        return out.squeeze(-1) if self.one else out


class ItemScoreHead(Head):
    """Scores of items for the user: the candidates ``[B, C]`` in training, every catalogue item
    ``[B, I]`` in evaluation (item ranking)."""

    def __init__(
        self, in_dim: int, hidden: list[int], act: str, dropout: float, dim: int, n_items: int,
        offset: float = 0.0,
    ):  # fmt: skip
        super().__init__()
        self.tower = tower(in_dim, hidden, act, dropout, dim)
        self.bias = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.bias.weight)
        self.register_buffer("offset", torch.tensor(float(offset)))

    def score(self, rep: Tensor, items: ItemEmbedding, candidates: Tensor) -> Tensor:
        user = self.tower(rep)
        scores = torch.einsum("bd,bcd->bc", user, items(candidates))
        return scores + self.bias(candidates).squeeze(-1) + self.offset

    def forward(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        return self.score(rep, items, inputs.candidates)

    def evaluate(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        return self.tower(rep) @ items.all().T + self.bias.weight.T + self.offset


class PairHead(ItemScoreHead):
    """The score of the interaction's own item, ``[B]`` (rating, like): in training the first
    candidate, in evaluation each held-out pair ``[P]`` of the batch's users."""

    def forward(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        return self.score(rep, items, inputs.candidates[:, :1])[:, 0]

    def evaluate(self, rep: Tensor, inputs: Inputs, items: ItemEmbedding | None) -> Tensor:
        return self.score(rep[inputs.pair_row], items, inputs.pair_item[:, None])[:, 0]


@dataclass(frozen=True)
class HeadContext:
    """What a task's head is built from: the encoder's output size, the item embedding size and
    what the data knows (catalogue size, categories, label means)."""

    in_dim: int
    item_dim: int
    data: DataContext
