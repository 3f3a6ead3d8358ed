"""Uncertainty weighting: Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh
Losses for Scene Geometry and Semantics", CVPR 2018.

Each task has a learnable log-variance ``s_t``; the objective is
``sum_t w_t * (exp(-s_t) * L_t + s_t)`` (the common form that drops the per-type 1/2 factors), so
the effective weight of task t is ``w_t * exp(-s_t)``: noisy tasks are down-weighted, and the
``+ s_t`` term keeps the weights from collapsing to zero.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.registry import register
from mtfw.weighting.base import LossWeighting


@register("weighting", "uncertainty")
class Uncertainty(LossWeighting):
    """Learned homoscedastic-uncertainty weights exp(-s_t) (Kendall et al., CVPR 2018)."""

    def __init__(self, task_names: list[str], task_weights: list[float], init_log_var: float = 0.0):
        super().__init__(task_names, task_weights)
        self.log_var = nn.Parameter(torch.full((len(task_names),), float(init_log_var)))

    def weights(self, losses: Tensor) -> Tensor:
        return self.user_weights * torch.exp(-self.log_var)

    def objective(self, losses: Tensor, weights: Tensor) -> Tensor:
        return (weights * losses + self.user_weights * self.log_var).sum()
