"""How the flat encoder input is laid out, so field-aware experts can recover the fields."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class InputLayout:
    """The flat input is ``n_fields`` embeddings of size ``dim``, then ``n_numeric`` numbers."""

    n_fields: int
    dim: int
    n_numeric: int


class FieldView(nn.Module):
    """Flat input ``[B, F*D + N]`` -> field matrix ``[B, F + N, D]``.

    Categorical fields are their embeddings; each numeric feature becomes a field as its value
    times a learned vector of its own plus a bias (AutoInt's treatment of numeric features)."""

    def __init__(self, layout: InputLayout):
        super().__init__()
        self.layout = layout
        self.numeric_vectors = nn.Parameter(torch.randn(layout.n_numeric, layout.dim) * 0.05)
        self.numeric_bias = nn.Parameter(torch.zeros(layout.n_numeric, layout.dim))
        self.n_fields = layout.n_fields + layout.n_numeric

    def forward(self, x: Tensor) -> Tensor:
        f, d = self.layout.n_fields, self.layout.dim
        fields = x[:, : f * d].reshape(x.shape[0], f, d)
        numeric = x[:, f * d :, None] * self.numeric_vectors + self.numeric_bias
        return torch.cat([fields, numeric], dim=1)
