"""MMoE: Multi-gate Mixture-of-Experts (Ma et al., KDD 2018), and OMoE, its one-gate ablation.

E experts shared by all tasks; each task mixes them with its own softmax gate over the input:
``h_t = sum_e softmax(W_t x)_e * f_e(x)``. OMoE uses a single gate for every task. Experts and
gates run as batched matmuls.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.registry import register
from mtfw.value_types import Count


@register("encoder", "mmoe")
class MMoE(Encoder):
    """Multi-gate mixture of experts: shared experts, one softmax gate per task."""

    n_gates_per_task = 1

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        n_experts: Count = 8,
        expert: dict | str | None = None,
    ):
        super().__init__(in_dim, task_names, layout)
        self.bank = self.experts(expert, n=n_experts)
        n_gates = len(self.task_names) if self.n_gates_per_task else 1
        self.gates = nn.Linear(in_dim, n_gates * n_experts)  # all gates in one matmul
        self.n_experts, self.out_dim = n_experts, self.bank.out_dim

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.bank.parameters()  # each MMoE gate serves one task: task-specific

    def field_experts(self, x: Tensor) -> tuple[list[str], Tensor]:
        return [str(e) for e in range(self.n_experts)], self.bank(x)

    def gate_experts(self, task: str) -> list[str]:
        return [str(e) for e in range(self.n_experts)]  # one gate (or OMoE's) over every expert

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        experts = self.shared_output = self.bank(x)  # [B, E, h]
        gates = self.gates(x).view(x.shape[0], -1, self.n_experts).softmax(-1)  # [B, G, E]
        # G views [B, h] from one unbind: its backward stacks once, where a select per task would
        # each copy its gradient into zeros; OMoE's tasks share one view (their gradients add).
        mixed = torch.bmm(gates, experts).unbind(1)
        g = range(len(self.task_names)) if gates.shape[1] > 1 else [0] * len(self.task_names)
        weights = gates.detach().unbind(1)
        self.last_gates = {t: weights[i] for t, i in zip(self.task_names, g, strict=True)}
        return {t: mixed[i] for t, i in zip(self.task_names, g, strict=True)}


@register("encoder", "omoe")
class OMoE(MMoE):
    """One-gate mixture of experts: shared experts, a single gate shared by all tasks."""

    n_gates_per_task = 0

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.parameters()  # the one gate serves every task
