"""Encoders of the user's recent items (the ``history`` registry kind): the user-history part
of the model's input, one vector of the item embedding size (``none`` adds nothing).

``sasrec`` follows Kang & McAuley, "Self-Attentive Sequential Recommendation" (ICDM 2018): item
embeddings plus learned positions, causal self-attention blocks (each position sees only earlier
items), and the output at the most recent position. Item embeddings are shared with the item
side of the model, as in the paper.

Training is sequence-packed for ``mean`` and ``sasrec`` (``data/interactions/windows.py``): the
encoder declares it in ``data_needs``, and ``states`` runs once per window of a user's sequence,
giving the state after every position; evaluation calls ``forward`` on one row per user.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

import torch
from torch import Tensor, nn

from mtfw.data.needs import DataNeeds, SequenceWindows
from mtfw.registry import register
from mtfw.value_types import Range


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


@register("history", "sasrec")
class SASRec(HistoryEncoder):
    """Causal self-attention over the recent items with learned positions (SASRec)."""

    def __init__(
        self, dim: int, length: int, blocks: int = 2, heads: int = 1, dropout: float = 0.2,
        min_context: Annotated[int, Range(low=0)] | None = None,
    ):  # fmt: skip
        super().__init__(dim, length)
        self.min_context = min_context  # of the training windows (data_needs)
        self.out_dim, self.heads = dim, heads
        self.positions = nn.Embedding(max(length, 1), dim)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(
                dim, heads, dim_feedforward=dim, dropout=dropout, batch_first=True, norm_first=True
            )
            for _ in range(blocks)
        )
        self.norm = nn.LayerNorm(dim)

    @classmethod
    def data_needs(cls, settings: Mapping[str, Any]) -> DataNeeds:
        """Windows of ``data.history_length`` positions, each training target seeing at least
        ``min_context`` earlier items of its window (or all its user has)."""
        context = settings.get("min_context")
        return DataNeeds(windows=SequenceWindows(positional=True, context=context))

    def forward(self, items: Tensor, vectors: Tensor) -> Tensor:
        x, present = self.hidden(items, vectors)
        return self.norm(x[:, -1]) * present[:, -1]

    def states(self, items: Tensor, vectors: Tensor) -> Tensor:
        x, present = self.hidden(items, vectors)
        return self.norm(x) * present

    def hidden(self, items: Tensor, vectors: Tensor) -> tuple[Tensor, Tensor]:
        """Every position after the blocks ``[B, L, D]``, and which positions hold an item."""
        _b, length = items.shape
        present = (items > 0).unsqueeze(-1).float()
        x = self.dropout((vectors * self.dim**0.5 + self.positions.weight[:length]) * present)
        # Causal attention only, as in the paper's code: empty positions are zero vectors, and
        # zeroed again after every block (the "timeline mask"), so no row is fully masked and
        # one [L, L] mask serves the whole batch (the fast attention path).
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=items.device)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True) * present
        return x, present
