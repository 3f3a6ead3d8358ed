"""AITM: Adaptive Information Transfer Multi-task (Xi et al., KDD 2021).

For tasks of a sequential conversion funnel (impression -> click -> purchase ...), task t's
representation q_t (its own tower over the shared input) is combined with information p_{t-1}
transferred from the previous task by the AIT module, an attention over the two:
``z_t = sum_{u in (p_{t-1}, q_t)} w_u h3(u)`` with ``w_u = softmax(<h1(u), h2(u)> / sqrt(d))``.
The behavioural expectation calibrator adds ``alpha * mean(max(p_t - p_{t-1}, 0))`` to the later
task's loss: the probability of a later step should not exceed that of the step before it.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import Tensor, nn

from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.registry import register
from mtfw.value_types import NonNegative


class AdaptiveTransfer(nn.Module):
    """The AIT module: attention over (transferred p, own q)."""

    def __init__(self, dim: int):
        super().__init__()
        self.h1, self.h2, self.h3 = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.scale = dim**-0.5

    def forward(self, p: Tensor, q: Tensor) -> Tensor:
        u = torch.stack([p, q], dim=1)  # [B, 2, d]
        w = ((self.h1(u) * self.h2(u)).sum(-1) * self.scale).softmax(dim=1)  # [B, 2]
        return (w.unsqueeze(-1) * self.h3(u)).sum(1)


def calibrator_loss(probs: list[Tensor], alpha: float) -> Tensor:
    """alpha * sum over consecutive tasks of mean(max(p_t - p_{t-1}, 0))."""
    terms = [torch.relu(later - earlier).mean() for earlier, later in pairwise(probs)]
    return alpha * torch.stack(terms).sum() if terms else probs[0].new_zeros(())


@register("encoder", "aitm")
class AITM(Encoder):
    """Sequential funnel tasks with adaptive information transfer and the calibrator loss."""

    requires = frozenset({"columns"})  # a funnel of label columns of one flat table

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        expert: dict | str | None = None,
        calibrator: NonNegative = 0.6,
    ):
        super().__init__(in_dim, task_names, layout)
        self.towers = self.experts(expert, n=len(task_names))  # q_t: one network per task
        d = self.out_dim = self.towers.out_dim
        n = len(task_names) - 1
        self.transfer = nn.ModuleList(nn.Sequential(nn.Linear(d, d), nn.ReLU()) for _ in range(n))
        self.ait = nn.ModuleList(AdaptiveTransfer(d) for _ in range(n))
        self.calibrator = calibrator

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        q = self.towers(x)  # [B, T, d], tasks in funnel order
        z = [q[:, 0]]
        for t in range(1, len(self.task_names)):
            z.append(self.ait[t - 1](self.transfer[t - 1](z[-1]), q[:, t]))
        return dict(zip(self.task_names, z, strict=True))

    def auxiliary_losses(self, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        """The calibrator, added to the loss of the last task of the funnel."""
        probs = [outputs[t].sigmoid() for t in self.task_names]
        return {self.task_names[-1]: calibrator_loss(probs, self.calibrator)}
