"""Text columns as input fields: each column's token ids and weights ``[B, L]`` -> ``[B, dim]``,
one field beside the categorical ones, so every encoder sees it as one more field.

``bag`` (``bag_of_words``): an embedding bag, pooled by the mean of the present tokens or by
attention (a learned query scores each token, softmax over the present ones). ``linear``
(``tfidf``): the weighted sum of the terms' rows plus a bias, i.e. a linear map of the sparse
tf-idf vector. ``vectors`` (``pretrained``): the frozen vector of the text (a buffer: data, not a
parameter) through a trainable linear projection, or a small MLP with ``hidden``. A row without
tokens (an empty or missing text) gets the column's learned empty-text vector."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.data.text.field import TextField


class TextColumnEncoder(nn.Module):
    """One text column -> ``[B, dim]``."""

    def __init__(self, spec: TextField, dim: int):
        super().__init__()
        self.module = spec.module
        self.empty = nn.Parameter(torch.randn(dim) * 0.05)  # the empty-text vector
        if spec.module == "vectors":
            self.register_buffer("vectors", spec.vectors, persistent=False)  # data, frozen
            width = spec.vectors.shape[1]
            self.project = (
                nn.Linear(width, dim)
                if spec.hidden is None
                else nn.Sequential(
                    nn.Linear(width, spec.hidden), nn.ReLU(), nn.Linear(spec.hidden, dim)
                )
            )
        else:
            self.table = nn.Embedding(spec.rows, dim, padding_idx=0)
            nn.init.normal_(self.table.weight, std=0.05)
            self.table.weight.data[0] = 0.0
            self.bias = nn.Parameter(torch.zeros(dim)) if spec.module == "linear" else None
            self.query = nn.Parameter(torch.randn(dim) * 0.05) if spec.pooling == "attention" \
                else None  # fmt: skip

    def forward(self, ids: Tensor, weights: Tensor) -> Tensor:
        present = weights.sum(1, keepdim=True) > 0
        if self.module == "vectors":
            out = self.project(self.vectors[ids[:, 0]])
        elif self.module == "linear":
            out = (self.table(ids) * weights.unsqueeze(-1)).sum(1) + self.bias
        else:
            tokens, mask = self.table(ids), weights > 0
            if self.query is None:
                share = mask.float() / mask.sum(1, keepdim=True).clamp(min=1)
            else:
                scores = (tokens @ self.query) / tokens.shape[-1] ** 0.5
                share = torch.softmax(scores.masked_fill(~mask, -1e9), dim=1) * mask
            out = (tokens * share.unsqueeze(-1)).sum(1)
        return torch.where(present, out, self.empty.expand_as(out))


class TextFields(nn.Module):
    """Every text column of a table: ``[B, T, L]`` ids and weights -> ``[B, T, dim]``."""

    def __init__(self, specs: list[TextField], dim: int):
        super().__init__()
        self.columns = nn.ModuleList(TextColumnEncoder(spec, dim) for spec in specs)

    def __len__(self) -> int:
        return len(self.columns)

    def forward(self, ids: Tensor, weights: Tensor) -> Tensor:
        out = [field(ids[:, t], weights[:, t]) for t, field in enumerate(self.columns)]
        return torch.stack(out, dim=1)
