"""PCGrad: Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020.

Each task gradient ``g_i`` is projected, against the other tasks in a random order, onto the normal
plane of every ``g_j`` it conflicts with (``g_i . g_j < 0``):
``g_i <- g_i - (g_i . g_j / |g_j|^2) g_j``; the update is the sum of the projected gradients.
Projections only need dot products, so the whole method runs on the Gramian: ``C[i]`` holds the
coefficients of the projected ``g_i`` on the original gradients and ``g_i^PC . g_j = C[i] K[:, j]``.
The random orders come from the weighting's own generator, which checkpoints save and restore.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.gradient import GradientWeighting
from mtfw.weighting.solvers import as_array


def pcgrad_weights(gramian: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Weights of the summed projected gradients on the original ones."""
    k = as_array(gramian)
    n = len(k)
    weights = np.zeros(n)
    for i in range(n):
        coef = np.zeros(n)
        coef[i] = 1.0
        for j in torch.randperm(n, generator=generator).tolist():
            if j == i:
                continue
            dot = coef @ k[:, j]  # g_i^PC . g_j
            if dot < 0 and k[j, j] > 0:
                coef[j] -= dot / k[j, j]
        weights += coef
    return torch.from_numpy(weights)


@register("weighting", "pcgrad")
class PCGrad(GradientWeighting):
    """Projects away conflicting gradient components (Yu et al., NeurIPS 2020)."""

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        return pcgrad_weights(gramian, self.generator)
