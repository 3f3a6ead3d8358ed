"""A frozen latent encoder: an entity's features -> the latent mean of a VAE fitted before the
multi-task model (``mtfw/features/vae.py``), with the interaction part of its input masked.

Its weights are buffers, not parameters: saved in ``best.pt`` with the model, moved with it to
a device, never trained by the multi-task loop nor counted as shared parameters by the
weightings. The output depends on the row's own features only (no batch statistics)."""

from __future__ import annotations

from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LatentEncoder(nn.Module):
    """``(cat [B, F_cat], num [B, N]) -> [B, latent]``: the categorical columns ``columns`` of
    ``cat`` one-hot (``vocab_sizes``, unknown code 0 included) beside every numeric feature, then
    the VAE encoder's layers (tanh between them) up to its mean. ``sizes``: the layer widths,
    ``[one-hot + numeric, *hidden, latent]``."""

    def __init__(self, columns: list[int], vocab_sizes: list[int], n_numeric: int,
                 sizes: list[int]):  # fmt: skip
        super().__init__()
        offsets = torch.tensor([0, *vocab_sizes[:-1]], dtype=torch.long).cumsum(0)
        self.register_buffer("columns", torch.tensor(columns, dtype=torch.long))
        self.register_buffer("offsets", offsets[: len(vocab_sizes)])
        self.n_one_hot, self.n_numeric = sum(vocab_sizes), n_numeric
        if sizes[0] != self.n_one_hot + n_numeric:
            raise ValueError(f"the first layer takes {sizes[0]} inputs, the features give "
                             f"{self.n_one_hot + n_numeric}")  # fmt: skip
        self.n_layers, self.out_dim = len(sizes) - 1, sizes[-1]
        for i, (n_in, n_out) in enumerate(pairwise(sizes)):
            self.register_buffer(f"weight{i}", torch.zeros(n_out, n_in))
            self.register_buffer(f"bias{i}", torch.zeros(n_out))

    def features(self, cat: Tensor, num: Tensor) -> Tensor:
        """``[B, one-hot + numeric]``: the encoder's feature input (also what the VAE trains on)."""
        one_hot = torch.zeros(cat.shape[0], self.n_one_hot, device=num.device)
        if len(self.columns):
            one_hot.scatter_(1, cat[:, self.columns] + self.offsets, 1.0)
        return torch.cat([one_hot, num.float()], dim=1)

    def layers(self) -> list[tuple[Tensor, Tensor]]:
        return [
            (getattr(self, f"weight{i}"), getattr(self, f"bias{i}")) for i in range(self.n_layers)
        ]

    def forward(self, cat: Tensor, num: Tensor) -> Tensor:
        x = self.features(cat, num)
        for i, (weight, bias) in enumerate(self.layers()):
            x = F.linear(x, weight, bias)
            if i < self.n_layers - 1:
                x = torch.tanh(x)
        return x

    @torch.no_grad()
    def load_layers(self, layers: list[tuple[Tensor, Tensor]]) -> None:
        """Copy the fitted encoder's layers (the first one's feature columns only)."""
        for (weight, bias), (w, b) in zip(self.layers(), layers, strict=True):
            weight.copy_(w[:, : weight.shape[1]]), bias.copy_(b)
