"""DB-MTL: Lin et al., "Dual-Balancing for Multi-Task Learning", 2023 (arXiv:2308.12029).

Two balances: the loss scale, by training on ``log L_t`` (whose gradient ``grad L_t / L_t`` does not
depend on the loss's unit; towers get it too), and the gradient magnitude, by rescaling every
task's gradient to the largest norm among them. The task gradients are smoothed first: a moving
average ``m_t <- g_t + (beta / k^beta_sigma) (m_t - g_t)`` at step k, and the update is
``sum_t (max_s |m_s| / |m_t|) m_t``. The averages span steps, so only ``mode: parameters`` is
offered; they are a buffer ``[T, N]`` that checkpoints keep. The weight reported for a task is
its rescaling factor ``max_s |m_s| / |m_t|``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import require
from mtfw.weighting.gradient import GradientWeighting

EPS = 1e-8


@register("weighting", "db_mtl")
class DBMTL(GradientWeighting):
    """Log-loss scale balancing + gradient magnitude balancing (Lin et al., 2023)."""

    representation_mode = False

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        beta: float = 0.9,
        beta_sigma: float = 0.5,
    ):
        super().__init__(task_names, task_weights, mode)
        require(0 <= beta < 1, f"weighting.beta of 'db_mtl' must be in [0, 1), got {beta}")
        require(beta_sigma >= 0, f"weighting.beta_sigma of 'db_mtl' must be >= 0: {beta_sigma}")
        self.beta, self.beta_sigma = float(beta), float(beta_sigma)
        self.register_buffer("average", torch.zeros(len(task_names), 0))  # sized at first step
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args, **kwargs) -> None:
        saved = state_dict.get(prefix + "average")
        if saved is not None:  # the averages' size is only known after the first step
            self.average = torch.zeros_like(saved, device=self.average.device)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def task_objectives(self, losses: Tensor) -> Tensor:
        return (losses + EPS).log()

    def combine(self, grads: Tensor, losses: Tensor) -> tuple[Tensor, Tensor]:
        if self.average.shape != grads.shape:
            self.average = torch.zeros_like(grads)
        self.steps += 1
        rate = self.beta / int(self.steps) ** self.beta_sigma
        self.average.copy_(grads + rate * (self.average - grads))
        norms = self.average.norm(dim=1)
        scale = torch.where(norms > 0, norms.max() / norms.clamp(min=EPS), 0.0)
        weights = scale * self.user_weights
        return weights @ self.average, weights
