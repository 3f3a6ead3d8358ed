"""MMoE: Multi-gate Mixture-of-Experts (Ma et al., KDD 2018).

E experts shared by all tasks; each task mixes them with its own softmax gate over the input:
``h_t = sum_e softmax(W_t x)_e * f_e(x)``. Experts and gates run as single batched matmuls.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from mtfw.models.encoder import Encoder
from mtfw.models.mlp import ExpertMLPs
from mtfw.registry import register


@register("encoder", "mmoe")
class MMoE(Encoder):
    """Multi-gate mixture of experts: shared experts, one softmax gate per task."""

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        n_experts: int = 8,
        expert_hidden: list[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__(in_dim, task_names)
        self.experts = ExpertMLPs(n_experts, in_dim, list(expert_hidden), activation, dropout)
        self.gates = nn.Linear(in_dim, len(self.task_names) * n_experts)  # all gates, one matmul
        self.n_experts, self.out_dim = n_experts, self.experts.out_dim

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return self.experts.parameters()  # each gate serves one task: task-specific

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        experts = self.shared_output = self.experts(x)  # [B, E, h]
        gates = self.gates(x).view(x.shape[0], len(self.task_names), self.n_experts).softmax(-1)
        mixed = torch.bmm(gates, experts)  # [B, T, h]
        self.last_gates = {t: gates[:, i].detach() for i, t in enumerate(self.task_names)}
        return {t: mixed[:, i] for i, t in enumerate(self.task_names)}
