"""UPGrad: Quinton & Rey, "Jacobian Descent for Multi-Objective Optimization", 2024 (TorchJD).

Each task gradient ``g_i`` is projected onto the dual cone of all task gradients (the directions
that conflict with none of them), and the update is the mean of the projections. By the paper's
Proposition 1, projecting ``G^T u`` gives ``G^T v`` with ``v = argmin_{v >= u} v^T K v``; here
``u = e_i / T``, and ``v - u`` solves a non-negative QP (:func:`~mtfw.weighting.solvers.nonneg_qp`).
As in TorchJD, ``K`` is normalised by its trace and regularised by ``reg_eps * I`` so that the QP
is definite.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import require
from mtfw.weighting.gradient import GradientWeighting
from mtfw.weighting.solvers import as_array, nonneg_qp


def upgrad_weights(gramian: Tensor, reg_eps: float = 1e-4) -> Tensor:
    """Weights of the mean of the task gradients' projections onto their dual cone."""
    k = as_array(gramian)
    n, trace = len(k), np.trace(k)
    k = (k / trace if trace > 0 else k) + reg_eps * np.eye(n)
    weights = np.zeros(n)
    for i in range(n):
        u = np.eye(n)[i] / n
        weights += u + nonneg_qp(k, k @ u)  # v = u + s, s >= 0 minimising (u+s)^T K (u+s)
    return torch.from_numpy(weights)


@register("weighting", "upgrad")
class UPGrad(GradientWeighting):
    """Mean of task gradients projected onto their dual cone (Quinton & Rey, 2024)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        reg_eps: float = 1e-4,
    ):
        super().__init__(task_names, task_weights, mode)
        require(reg_eps > 0, f"weighting.reg_eps of 'upgrad' must be > 0, got {reg_eps}")
        self.reg_eps = float(reg_eps)

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        return upgrad_weights(gramian, self.reg_eps)
