"""Hand-written reference models for benchmarks/throughput.py, independent of mtfw's classes.

Each takes (cat, num) and returns one logit tensor per task; sizes come from the composed config so
the parameter count equals mtfw's model (checked by the benchmark).
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class Embed(nn.Module):
    def __init__(self, vocab: list[int], n_num: int, dim: int):
        super().__init__()
        offsets = torch.tensor([0, *vocab[:-1]]).cumsum(0)[: len(vocab)]
        self.register_buffer("offsets", offsets, persistent=False)
        self.table = nn.Embedding(max(sum(vocab), 1), dim)
        self.out_dim = len(vocab) * dim + n_num

    def forward(self, cat: Tensor, num: Tensor) -> Tensor:
        return torch.cat([self.table(cat + self.offsets).flatten(1), num], 1)


def towers(h: int, specs: list[list[int]]) -> nn.ModuleList:
    return nn.ModuleList(nn.Sequential(mlp([h, *t]), nn.Linear([h, *t][-1], 1)) for t in specs)


class Bank(nn.Module):
    """E one-layer experts as one batched weight: [B, d] or [B, E, d] -> [B, E, h]."""

    def __init__(self, n: int, d: int, h: int):
        super().__init__()
        self.w = nn.Parameter(torch.randn(n, d, h) / d**0.5)
        self.b = nn.Parameter(torch.zeros(n, h))

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 2:
            n, d, h = self.w.shape
            return torch.relu(
                (x @ self.w.transpose(0, 1).reshape(d, n * h)).view(-1, n, h) + self.b
            )
        return torch.relu(torch.einsum("bed,edh->beh", x, self.w) + self.b)


class BareMMoE(nn.Module):
    """Embedding -> MMoE (one-layer experts) -> towers; batched or a loop over expert modules."""

    def __init__(self, vocab, n_num, dim, n_experts, h, tower_specs, batched: bool, bank=Bank):
        super().__init__()
        self.embed, t = Embed(vocab, n_num, dim), len(tower_specs)
        d, self.n, self.t, self.batched = self.embed.out_dim, n_experts, t, batched
        if batched:  # ``bank(n, d, h)``: the experts (Bank: one-layer MLPs)
            self.bank, self.gate = bank(n_experts, d, h), nn.Linear(d, t * n_experts)
        else:
            self.experts = nn.ModuleList(mlp([d, h]) for _ in range(n_experts))
            self.gates = nn.ModuleList(nn.Linear(d, n_experts) for _ in range(t))
        self.towers = towers(h, tower_specs)

    def forward(self, cat: Tensor, num: Tensor) -> list[Tensor]:
        x = self.embed(cat, num)
        if self.batched:
            gates = self.gate(x).view(len(x), self.t, self.n).softmax(-1)
            mixed = torch.bmm(gates, self.bank(x)).unbind(1)
        else:
            h = torch.stack([e(x) for e in self.experts], 1)
            mixed = [(g(x).softmax(-1).unsqueeze(1) @ h).squeeze(1) for g in self.gates]
        return [tower(m).squeeze(-1) for tower, m in zip(self.towers, mixed, strict=True)]


class BarePLE(nn.Module):
    """Embedding -> PLE (levels of task-specific + shared one-layer experts) -> towers."""

    def __init__(self, vocab, n_num, dim, levels, k, s, h, tower_specs, bank=Bank):
        super().__init__()
        self.embed, t = Embed(vocab, n_num, dim), len(tower_specs)
        self.t, self.k, self.s = t, k, s
        self.levels = nn.ModuleList()
        d = self.embed.out_dim
        for i in range(levels):  # ``bank(n, d, h)``: the first level's experts; MLPs above it
            level, make = nn.Module(), bank if i == 0 else Bank
            level.spec, level.shared = make(t * k, d, h), make(s, d, h)
            level.gw = nn.Parameter(torch.randn(t, d, k + s) / d**0.5)
            level.gb = nn.Parameter(torch.zeros(t, k + s))
            level.sgate = nn.Linear(d, t * k + s) if i < levels - 1 else None
            self.levels.append(level)
            d = h
        self.towers = towers(h, tower_specs)

    def forward(self, cat: Tensor, num: Tensor) -> list[Tensor]:
        x = self.embed(cat, num)
        task_in, shared_in = x, x
        for lv in self.levels:
            b = len(x)
            spec = lv.spec(task_in.repeat_interleave(self.k, 1) if task_in.dim() == 3 else task_in)
            shared = lv.shared(shared_in)
            experts = torch.cat([spec.view(b, self.t, self.k, -1),
                                 shared[:, None].expand(-1, self.t, -1, -1)], 2)  # fmt: skip
            eq = "btd,tdk->btk" if task_in.dim() == 3 else "bd,tdk->btk"
            gates = (torch.einsum(eq, task_in, lv.gw) + lv.gb).softmax(-1)
            new_task = torch.einsum("btk,btkh->bth", gates, experts)
            if lv.sgate is not None:
                g = lv.sgate(shared_in).softmax(-1)
                shared_in = torch.einsum("be,beh->bh", g, torch.cat([spec, shared], 1))
            task_in = new_task
        return [tower(task_in[:, i]).squeeze(-1) for i, tower in enumerate(self.towers)]
