"""GradVac: Wang et al., "Gradient Vaccine: Investigating and Improving Multi-task Optimization in
Massively Multilingual Models", ICLR 2021.

PCGrad only acts on negative cosine similarity; GradVac keeps, per ordered pair of tasks, a
target similarity ``phi_hat_ij`` (an exponential moving average of the observed ``phi_ij`` with
rate ``beta``) and, whenever ``phi_ij < phi_hat_ij``, adds to ``g_i`` the multiple of ``g_j`` that
brings their cosine to the target,
``g_i += |g_i| (phi_hat sqrt(1-phi^2) - phi sqrt(1-phi_hat^2)) / (|g_j| sqrt(1-phi_hat^2)) g_j``.
The update is the sum of the modified gradients. It runs on the Gramian as PCGrad does, over the
whole shared parameter vector (the paper also groups by layer), visiting the other tasks in a
random order. The targets are a buffer, so checkpoints keep them. ``beta`` defaults to 0.5, the
default of LibMTL and TorchJD.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import require
from mtfw.weighting.gradient import GradientWeighting
from mtfw.weighting.solvers import as_array

EPS = 1e-8


def gradvac_weights(
    gramian: Tensor, targets: Tensor, beta: float, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """``(weights, updated targets)`` from the Gramian and the targets ``[T, T]``."""
    k, phi_hat = as_array(gramian), targets.detach().to("cpu", torch.float64).numpy().copy()
    n = len(k)
    coef = np.eye(n)
    for i in range(n):
        others = [j for j in range(n) if j != i]
        for j in [others[p] for p in torch.randperm(n - 1, generator=generator).tolist()]:
            dots = coef[i] @ k  # g_i' . g_m for every m
            norm_i, norm_j = np.sqrt(max(coef[i] @ dots, 0.0)), np.sqrt(max(k[j, j], 0.0))
            phi, target = dots[j] / (norm_i * norm_j + EPS), phi_hat[i, j]
            if phi < target:
                root_phi = np.sqrt(max(1 - phi**2, 0.0))
                root_target = np.sqrt(max(1 - target**2, 0.0))
                coef[i, j] += (
                    norm_i * (target * root_phi - phi * root_target) / (norm_j * root_target + EPS)
                )
            phi_hat[i, j] = (1 - beta) * target + beta * phi
    return torch.from_numpy(coef.sum(axis=0)), torch.from_numpy(phi_hat)


@register("weighting", "gradvac")
class GradVac(GradientWeighting):
    """Steers pairwise gradient similarity toward its moving average (Wang et al., ICLR 2021)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        beta: float = 0.5,
    ):
        super().__init__(task_names, task_weights, mode)
        require(0 <= beta <= 1, f"weighting.beta of 'gradvac' must be in [0, 1], got {beta}")
        self.beta = float(beta)
        self.register_buffer("targets", torch.zeros(len(task_names), len(task_names)))

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        rows = torch.tensor(self.active_tasks, device=self.targets.device)
        pair = (rows[:, None], rows[None, :])
        weights, targets = gradvac_weights(gramian, self.targets[pair], self.beta, self.generator)
        self.targets[pair] = targets.to(self.targets)
        return weights
