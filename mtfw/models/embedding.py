"""Feature embedding: categorical ids and numeric features -> one dense input vector."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from mtfw.data.text.field import TextField
from mtfw.models.layout import InputLayout
from mtfw.models.text_fields import TextFields


def lookup(table: nn.Embedding, ids: Tensor) -> Tensor:
    """``table(ids)``. A table with dense gradients is read by ``index_select``, whose backward
    (``index_add_``) is about 3x faster on the CPU than the embedding's and adds the same rows;
    a sparse table (``optim.sparse_embeddings``) keeps its own lookup, which yields sparse grads."""
    if table.sparse:
        return table(ids)
    return table.weight.index_select(0, ids.reshape(-1)).view(*ids.shape, table.embedding_dim)


class FeatureEmbedding(nn.Module):
    """Per-field embeddings from one table (a single gather for all fields), the mean embedding of
    each sequence column's tokens (a field each), each text column's vector (a field each), then
    the numeric features.

    Output: ``[B, (F_cat + S + T) * dim + F_num]``."""

    def __init__(
        self, vocab_sizes: list[int], n_numeric: int, dim: int = 8,
        sequence_vocab_sizes: list[int] = (), text: list[TextField] = (),
    ):  # fmt: skip
        super().__init__()
        self.text = TextFields(list(text), dim)
        n_fields = len(vocab_sizes) + len(sequence_vocab_sizes) + len(self.text)
        self.n_fields, self.dim = n_fields, dim
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

    def fields(
        self, cat: Tensor, seq: Tensor | None = None, text: tuple[Tensor, Tensor] | None = None
    ) -> Tensor:
        """Field embeddings ``[B, F_cat + S + T, dim]`` (for field-aware experts such as
        attention): a sequence field is the mean of its tokens' embeddings (zero when empty)."""
        out = lookup(self.table, cat + self.offsets)
        if len(self.text):
            out = torch.cat([out, self.text(*text)], dim=1)
        if not len(self.sequences):
            return out
        pooled = []
        for s, table in enumerate(self.sequences):
            tokens = seq[:, s]
            present = (tokens > 0).unsqueeze(-1).float()
            pooled.append((table(tokens) * present).sum(1) / present.sum(1).clamp(min=1))
        n_cat = cat.shape[1]  # sequence fields sit between the categorical and text ones
        return torch.cat([out[:, :n_cat], torch.stack(pooled, dim=1), out[:, n_cat:]], dim=1)

    @property
    def layout(self) -> InputLayout:
        return InputLayout(self.n_fields, self.dim, self.out_dim - self.n_fields * self.dim)

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.parameters()

    def forward(
        self, cat: Tensor, num: Tensor, seq: Tensor | None = None,
        text: tuple[Tensor, Tensor] | None = None,
    ) -> Tensor:  # fmt: skip
        if self.n_fields == 0:
            return num
        return torch.cat([self.fields(cat, seq, text).flatten(1), num], dim=1)
