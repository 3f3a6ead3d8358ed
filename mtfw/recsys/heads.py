"""Task heads over a user representation: a pair head scores items, an interest head names
categories.

A pair head maps the task's user representation into the item space; an item's score is
``<u, v_item> + b_item`` (+ a constant offset, the mean training rating for rating regression).
Scoring the whole catalogue is therefore one matrix product, ``[B, D] @ [D, I]``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.models.mlp import mlp


def tower(in_dim: int, hidden: list[int], act: str, dropout: float, out_dim: int) -> nn.Module:
    return nn.Sequential(
        mlp(in_dim, hidden, act, dropout), nn.Linear(hidden[-1] if hidden else in_dim, out_dim)
    )


class PairHead(nn.Module):
    def __init__(
        self,
        in_dim: int,
        hidden: list[int],
        act: str,
        dropout: float,
        dim: int,
        n_items: int,
        first_only: bool,
        offset: float = 0.0,
    ):
        super().__init__()
        self.tower = tower(in_dim, hidden, act, dropout, dim)
        self.bias = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.bias.weight)
        self.first_only = first_only  # rating / like score the interacted item only
        self.register_buffer("offset", torch.tensor(float(offset)))

    def forward(self, rep: Tensor, items: nn.Module, candidates: Tensor) -> Tensor:
        """Scores ``[B, C]`` of the item indices ``candidates`` (rating, like: column 0)."""
        if self.first_only:
            candidates = candidates[:, :1]
        user = self.tower(rep)
        scores = torch.einsum("bd,bcd->bc", user, items(candidates))
        scores = scores + self.bias(candidates).squeeze(-1) + self.offset
        return scores[:, 0] if self.first_only else scores

    def score_all(self, rep: Tensor, vectors: Tensor) -> Tensor:
        """``[B, I]``: every catalogue item (``vectors`` is ``[I, D]``) for every user."""
        return self.tower(rep) @ vectors.T + self.bias.weight.T + self.offset


class InterestHead(nn.Module):
    """Logits of each category (genre) the user's next interactions fall in: ``[B, G]``."""

    def __init__(self, in_dim: int, hidden: list[int], act: str, dropout: float, n_categories: int):
        super().__init__()
        self.tower = tower(in_dim, hidden, act, dropout, n_categories)

    def forward(
        self, rep: Tensor, items: nn.Module | None = None, candidates: Tensor | None = None
    ) -> Tensor:
        return self.tower(rep)
