"""Feature embedding: categorical ids and numeric features -> one dense input vector."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from mtfw.models.layout import InputLayout


class FeatureEmbedding(nn.Module):
    """Per-field embeddings from one table (a single gather for all fields), the mean embedding of
    each sequence column's tokens (a field each), then the numeric features.

    Output: ``[B, (F_cat + S) * dim + F_num]``."""

    def __init__(
        self, vocab_sizes: list[int], n_numeric: int, dim: int = 8,
        sequence_vocab_sizes: list[int] = (),
    ):  # fmt: skip
        super().__init__()
        self.n_fields, self.dim = len(vocab_sizes) + len(sequence_vocab_sizes), dim
        offsets = torch.tensor([0, *vocab_sizes[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("offsets", offsets[: len(vocab_sizes)], persistent=False)
        self.table = nn.Embedding(max(sum(vocab_sizes), 1), dim)
        nn.init.normal_(self.table.weight, std=0.05)
        self.sequences = nn.ModuleList(
            nn.Embedding(size, dim, padding_idx=0) for size in sequence_vocab_sizes
        )
        for table in self.sequences:
            nn.init.normal_(table.weight, std=0.05)
            table.weight.data[0] = 0.0
        self.out_dim = self.n_fields * dim + n_numeric

    def fields(self, cat: Tensor, seq: Tensor | None = None) -> Tensor:
        """Field embeddings ``[B, F_cat + S, dim]`` (for field-aware experts such as attention):
        a sequence field is the mean of its tokens' embeddings (zero when empty)."""
        out = self.table(cat + self.offsets)
        if not len(self.sequences):
            return out
        pooled = []
        for s, table in enumerate(self.sequences):
            tokens = seq[:, s]
            present = (tokens > 0).unsqueeze(-1).float()
            pooled.append((table(tokens) * present).sum(1) / present.sum(1).clamp(min=1))
        return torch.cat([out, torch.stack(pooled, dim=1)], dim=1)

    @property
    def layout(self) -> InputLayout:
        return InputLayout(self.n_fields, self.dim, self.out_dim - self.n_fields * self.dim)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.parameters()

    def forward(self, cat: Tensor, num: Tensor, seq: Tensor | None = None) -> Tensor:
        if self.n_fields == 0:
            return num
        return torch.cat([self.fields(cat, seq).flatten(1), num], dim=1)
