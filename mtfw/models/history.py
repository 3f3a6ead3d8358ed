"""Encoders of the user's recent items (the ``history`` registry kind): the user-history part
of the model's input, one vector of the item embedding size (``none`` adds nothing).

``sasrec`` (self-attention, Kang & McAuley 2018) is in ``sasrec.py``.

Training is sequence-packed for ``mean`` and ``sasrec`` (``data/interactions/windows.py``): the
encoder declares it in ``data_needs``, and ``states`` runs once per window of a user's sequence,
giving the state after every position; evaluation calls ``forward`` on one row per user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from mtfw.data.needs import DataNeeds, SequenceWindows
from mtfw.registry import register


class HistoryEncoder(nn.Module):
    """``[B, L]`` item indices (0 = empty, most recent last) and their ``[B, L, D]`` vectors ->
    ``[B, out_dim]``, the user after the row's last item. ``requires``: what the data must
    provide (a user's items over time). An encoder whose ``data_needs`` ask for windows also
    gives ``states``: ``[B, W]`` items -> ``[B, W, out_dim]``, the state after each position,
    from that position and earlier ones only."""

    out_dim: int
    requires: ClassVar[frozenset[str]] = frozenset({"users", "items", "interactions"})

    def __init__(self, dim: int, length: int):
        super().__init__()
        self.dim, self.length = dim, length

    @classmethod
    def data_needs(cls, settings: Mapping[str, Any]) -> DataNeeds:
        """What training asks of the data, given the encoder's config node: nothing here (one
        row per interaction with its history)."""
        return DataNeeds()

    def states(self, items: Tensor, vectors: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} is not trained on packed windows")


@register("history", "none")
class NoHistory(HistoryEncoder):
    """No history: the encoder sees the row's features only (any data)."""

    out_dim = 0
    requires: ClassVar[frozenset[str]] = frozenset()

    def forward(self, items: Tensor, vectors: Tensor) -> Tensor:
        return vectors.new_zeros(items.shape[0], 0)


@register("history", "mean")
class MeanHistory(HistoryEncoder):
    """The mean of the recent items' embeddings (zero for an empty history)."""

    def __init__(self, dim: int, length: int):
        super().__init__(dim, length)
        self.out_dim = dim

    @classmethod
    def data_needs(cls, settings: Mapping[str, Any]) -> DataNeeds:
        return DataNeeds(windows=SequenceWindows(positional=False))

    def forward(self, items: Tensor, vectors: Tensor) -> Tensor:
        present = (items > 0).unsqueeze(-1).float()
        return (vectors * present).sum(1) / present.sum(1).clamp(min=1)

    def states(self, items: Tensor, vectors: Tensor) -> Tensor:
        """The mean of the last ``length`` items up to each position: cumulative sums, the
        sum ``length`` positions earlier subtracted."""
        present = (items > 0).unsqueeze(-1).float()
        total = self._sliding(torch.cumsum(vectors * present, 1))
        return total / self._sliding(torch.cumsum(present, 1)).clamp(min=1)

    def _sliding(self, cumulative: Tensor) -> Tensor:
        """Sums over the last ``length`` positions from cumulative sums along dimension 1."""
        n = self.length
        if cumulative.shape[1] <= n:
            return cumulative
        return torch.cat([cumulative[:, :n], cumulative[:, n:] - cumulative[:, :-n]], 1)
