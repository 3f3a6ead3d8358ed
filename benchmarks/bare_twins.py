"""Hand-written twins of the encoders benchmarks/bare_models.py does not cover: shared-bottom,
OMoE and cross-stitch, written the way a careful engineer would (experts and columns as batched
weights, one gate matmul). CGC is PLE's one-level block: ``BarePLE`` with ``levels=1``.

Each takes (cat, num) and returns one logit tensor per task; the benchmark checks the parameter
count equals mtfw's model.
"""

from __future__ import annotations

import itertools

import torch
from bare_models import Bank, Embed, mlp, towers
from torch import Tensor, nn


class BareSharedBottom(nn.Module):
    """Embedding -> one MLP bottom -> towers."""

    def __init__(self, vocab, n_num, dim, hidden: list[int], tower_specs):
        super().__init__()
        self.embed = Embed(vocab, n_num, dim)
        self.bottom = mlp([self.embed.out_dim, *hidden])
        self.towers = towers(hidden[-1], tower_specs)

    def forward(self, cat: Tensor, num: Tensor) -> list[Tensor]:
        h = self.bottom(self.embed(cat, num))
        return [tower(h).squeeze(-1) for tower in self.towers]


class BareOMoE(nn.Module):
    """Embedding -> E batched one-layer experts mixed by one softmax gate -> towers."""

    def __init__(self, vocab, n_num, dim, n_experts, h, tower_specs):
        super().__init__()
        self.embed = Embed(vocab, n_num, dim)
        d = self.embed.out_dim
        self.bank, self.gate = Bank(n_experts, d, h), nn.Linear(d, n_experts)
        self.towers = towers(h, tower_specs)

    def forward(self, cat: Tensor, num: Tensor) -> list[Tensor]:
        x = self.embed(cat, num)
        gate = self.gate(x).softmax(-1).unsqueeze(1)  # [B, 1, E]
        mixed = torch.bmm(gate, self.bank(x))[:, 0]
        return [tower(mixed).squeeze(-1) for tower in self.towers]


class BareCrossStitch(nn.Module):
    """Embedding -> one column per task (batched), a T x T cross-stitch unit after each layer."""

    def __init__(self, vocab, n_num, dim, widths: list[int], self_weight: float, tower_specs):
        super().__init__()
        self.embed, t = Embed(vocab, n_num, dim), len(tower_specs)
        sizes = [self.embed.out_dim, *widths]
        self.columns = nn.ModuleList(Bank(t, a, b) for a, b in itertools.pairwise(sizes))
        start = torch.full((t, t), (1 - self_weight) / max(t - 1, 1)).fill_diagonal_(self_weight)
        self.units = nn.ParameterList(nn.Parameter(start.clone()) for _ in self.columns)
        self.towers = towers(widths[-1], tower_specs)

    def forward(self, cat: Tensor, num: Tensor) -> list[Tensor]:
        h = self.embed(cat, num)
        for column, alpha in zip(self.columns, self.units, strict=True):
            h = torch.einsum("ts,bsh->bth", alpha, column(h))
        return [tower(h[:, i]).squeeze(-1) for i, tower in enumerate(self.towers)]
