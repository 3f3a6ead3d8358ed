"""IMTL-G: Liu et al., "Towards Impartial Multi-task Learning", ICLR 2021 (the gradient part).

IMTL-G finds the combination ``d = sum_t a_t g_t`` with ``sum_t a_t = 1`` whose projections on
every unit task gradient ``u_t = g_t / |g_t|`` are equal, so no task is favoured. The paper's
closed form ``a_{2:T} = g_1 U^T (D U^T)^-1`` (``D``, ``U``: differences to the first task) is the
same as the Gramian form used here: ``d . u_t = (K a)_t / n_t`` is constant in t, so ``K a`` is
proportional to ``n = sqrt(diag K)`` and ``a = K^+ n / sum(K^+ n)``. When ``sum(K^+ n) = 0`` no
direction serves all tasks equally (e.g. opposite gradients) and the update is 0.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.gradient import GradientWeighting


def imtl_weights(gramian: Tensor) -> Tensor:
    """IMTL-G weights (summing to 1) from the Gramian of the task gradients."""
    k = gramian.detach().to(torch.float64)
    v = torch.linalg.pinv(k, hermitian=True) @ k.diagonal().clamp(min=0).sqrt()
    total = v.sum()
    return torch.zeros_like(v) if total.abs() <= 1e-12 * v.abs().sum() else v / total


@register("weighting", "imtl")
class IMTL(GradientWeighting):
    """Impartial MTL, gradient balancing IMTL-G (Liu et al., ICLR 2021)."""

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        return imtl_weights(gramian)
