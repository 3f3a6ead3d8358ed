"""CAGrad: Liu et al., "Conflict-Averse Gradient Descent for Multi-task Learning", NeurIPS 2021.

The update maximises the worst task's improvement within a ball around the mean gradient ``g0``:
``max_d min_t g_t . d`` subject to ``|d - g0| <= c |g0|``. Its dual is a problem over the simplex,
``w* = argmin_w g_w . g0 + c |g0| |g_w|`` with ``g_w = sum_t w_t g_t``, and the update is
``d = g0 + (c |g0| / |g_w*|) g_w*``, divided by ``1 + c^2`` (``rescale: 1``, the paper's default),
by ``1 + c`` (``rescale: 2``) or not at all (``rescale: 0``). ``c = 0`` is the mean gradient.

The dual is solved exactly on the Gramian: on a face ``S`` of the simplex, stationarity gives
``w_S = (lambda u - v) / sqrt(D)`` with ``u = K_SS^-1 1``, ``v = K_SS^-1 b_S``, ``b = K 1 / T``,
``D = (1.v)^2 - (1.u)(b_S.v - s^2)``, ``lambda = (1.v + sqrt(D)) / 1.u`` and ``s = c |g0|``; the
first face (smallest first) whose ``w_S`` is non-negative and whose other coordinates satisfy the
KKT conditions is the optimum (the problem is convex). Fine for the few tasks of MTL (2^T faces).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import choose, require
from mtfw.weighting.gradient import GradientWeighting
from mtfw.weighting.solvers import as_array


def cagrad_dual(k: np.ndarray, s: float, tol: float = 1e-9) -> np.ndarray:
    """``argmin_{w in simplex} w.b + s sqrt(w^T k w)`` with ``b = k 1 / T``, for ``s > 0``."""
    n = len(k)
    b = k.mean(axis=1)
    for size in range(1, n + 1):
        for face in combinations(range(n), size):
            idx = list(face)
            u, v = np.linalg.solve(k[np.ix_(idx, idx)], np.stack([np.ones(size), b[idx]], 1)).T
            disc = v.sum() ** 2 - u.sum() * (b[idx] @ v - s * s)
            if disc <= 0:
                continue
            lam = (v.sum() + np.sqrt(disc)) / u.sum()
            w = np.zeros(n)
            w[idx] = (lam * u - v) / np.sqrt(disc)
            if w.min() < -tol:
                continue
            grad = b + s * (k @ w) / np.sqrt(max(w @ k @ w, 1e-300))
            if grad.min() >= lam - tol * max(1.0, abs(lam)):
                return np.clip(w, 0.0, None) / np.clip(w, 0.0, None).sum()
    raise ArithmeticError("CAGrad: no face of the simplex satisfies the KKT conditions")


def cagrad_weights(gramian: Tensor, c: float, rescale: int = 1) -> Tensor:
    """Weights of the CAGrad update on the task gradients whose Gramian is given."""
    k = as_array(gramian)
    n = len(k)
    weights = np.full(n, 1.0 / n)
    scale = np.trace(k) / n
    if c > 0 and scale > 0:
        k = k / scale + 1e-10 * np.eye(n)  # scale-free; the ridge keeps faces solvable
        s = c * np.sqrt(max(k.mean(), 0.0))  # c |g0|, |g0|^2 = 1^T K 1 / T^2
        w = cagrad_dual(k, s)
        g_w = np.sqrt(max(w @ k @ w, 0.0))
        if g_w > 1e-12:
            weights = weights + (s / g_w) * w
    return torch.from_numpy(weights / {0: 1.0, 1: 1 + c * c, 2: 1 + c}[rescale])


@register("weighting", "cagrad")
class CAGrad(GradientWeighting):
    """Conflict-averse gradient descent (Liu et al., NeurIPS 2021)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        c: float = 0.4,
        rescale: int = 1,
    ):
        super().__init__(task_names, task_weights, mode)
        require(c >= 0, f"weighting.c of 'cagrad' must be >= 0, got {c}")
        self.c, self.rescale = float(c), choose(rescale, (0, 1, 2), "weighting.rescale of 'cagrad'")

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        return cagrad_weights(gramian, self.c, self.rescale)
