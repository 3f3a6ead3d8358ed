"""Aligned-MTL: Senushkin et al., "Independent Component Alignment for Multi-Task Learning",
CVPR 2023.

The task gradients ``G`` are replaced by the nearest matrix whose rows are orthogonal and of equal
norm (their condition number becomes 1): with the eigendecomposition ``K = V diag(l) V^T`` of the
Gramian, ``G_hat = B G`` with ``B = sqrt(l_scale) V diag(l^-1/2) V^T`` on the non-null eigenvalues,
and the update is the sum of the aligned gradients, ``d = 1^T B G`` (weights ``B 1``). ``scale``
picks ``l_scale``: the smallest non-null eigenvalue (``min``, the paper's), their median
(``median``) or their mean (``rmse``, the squared RMS of the singular values).
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import choose
from mtfw.weighting.gradient import GradientWeighting

SCALES = ("min", "median", "rmse")


def aligned_mtl_weights(gramian: Tensor, scale: str = "min") -> Tensor:
    """Weights ``B 1`` of the aligned gradients' sum on the original ones."""
    k = gramian.detach().to(torch.float64)
    values, vectors = torch.linalg.eigh((k + k.T) / 2)
    keep = values > values.max() * len(k) * torch.finfo(gramian.dtype).eps
    if not bool(keep.any()):
        return torch.ones(len(k), dtype=torch.float64)
    values, vectors = values[keep], vectors[:, keep]
    target = {"min": values.min(), "median": values.median(), "rmse": values.mean()}[scale]
    balance = target.sqrt() * vectors @ torch.diag(values.rsqrt()) @ vectors.T
    return balance.sum(dim=1)


@register("weighting", "aligned_mtl")
class AlignedMTL(GradientWeighting):
    """Aligns task gradients to equal-norm orthogonal ones (Senushkin et al., CVPR 2023)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        scale: str = "min",
    ):
        super().__init__(task_names, task_weights, mode)
        self.scale = choose(scale, SCALES, "weighting.scale of 'aligned_mtl'")

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        return aligned_mtl_weights(gramian, self.scale)
