"""Encoders of the user's recent items (the ``history`` registry kind): the user-history part
of the model's input, one vector of the item embedding size (``none`` adds nothing).

``sasrec`` follows Kang & McAuley, "Self-Attentive Sequential Recommendation" (ICDM 2018): item
embeddings plus learned positions, causal self-attention blocks (each position sees only earlier
items), and the output at the most recent position. Item embeddings are shared with the item
side of the model, as in the paper.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor, nn

from mtfw.registry import register


class HistoryEncoder(nn.Module):
    """``[B, L]`` item indices (0 = empty, most recent last) and their ``[B, L, D]`` vectors ->
    ``[B, out_dim]``. ``requires``: what the data must provide (a user's items over time)."""

    out_dim: int
    requires: ClassVar[frozenset[str]] = frozenset({"users", "items", "interactions"})

    def __init__(self, dim: int, length: int):
        super().__init__()
        self.dim, self.length = dim, length


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

    def forward(self, items: Tensor, vectors: Tensor) -> Tensor:
        present = (items > 0).unsqueeze(-1).float()
        return (vectors * present).sum(1) / present.sum(1).clamp(min=1)


@register("history", "sasrec")
class SASRec(HistoryEncoder):
    """Causal self-attention over the recent items with learned positions (SASRec)."""

    def __init__(
        self, dim: int, length: int, blocks: int = 2, heads: int = 1, dropout: float = 0.2
    ):
        super().__init__(dim, length)
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

    def forward(self, items: Tensor, vectors: Tensor) -> Tensor:
        _b, length = items.shape
        present = (items > 0).unsqueeze(-1).float()
        x = self.dropout((vectors * self.dim**0.5 + self.positions.weight[:length]) * present)
        # Causal attention only, as in the paper's code: empty positions are zero vectors, and
        # zeroed again after every block (the "timeline mask"), so no row is fully masked and
        # one [L, L] mask serves the whole batch (the fast attention path).
        mask = nn.Transformer.generate_square_subsequent_mask(length, device=items.device)
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True) * present
        return self.norm(x[:, -1]) * present[:, -1]
