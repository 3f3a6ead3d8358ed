"""Nash-MTL: Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022.

The update ``d = sum_t a_t g_t`` is the Nash bargaining solution: ``a > 0`` with
``(K a)_t = 1 / a_t`` for every task (each task's gain ``g_t . d`` times its weight is 1), so
``|d|^2 = a^T K a = T`` whatever the gradients' scale. As in the paper's code, the combined
gradient is then clipped to norm ``max_norm`` (0: no clipping; in representation mode this clips
the representation gradient).

The paper solves the equations by a sequence of convex programs (cvxpy). They are exactly the
stationarity conditions of the strictly convex ``f(a) = a^T K a / 2 - sum_t log a_t``, which
Newton's method with a positivity-keeping line search solves to machine precision in a few steps
(on ``K`` divided by its Frobenius norm ``s``, whose solution is ``sqrt(s)`` times ``K``'s); a ridge
of 1e-10 keeps a solution when gradients are linearly dependent. The code's
``update_weights_every`` is not offered: this framework computes per-task gradients at every step
anyway, so heads keep their own gradient (representation mode is the way to save time).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import require
from mtfw.weighting.gradient import GradientWeighting
from mtfw.weighting.solvers import as_array


def nash_weights(gramian: Tensor, max_iter: int = 100) -> Tensor:
    """The positive solution of ``K a = 1 / a`` (elementwise) for the Gramian ``K``."""
    k = as_array(gramian)
    n, norm = len(k), np.linalg.norm(k)
    if norm == 0:
        return torch.ones(n, dtype=torch.float64)
    k = k / norm + 1e-10 * np.eye(n)
    a = 1 / np.sqrt(np.diag(k))

    def f(a: np.ndarray) -> float:
        return 0.5 * a @ k @ a - np.log(a).sum()

    for _ in range(max_iter):
        grad = k @ a - 1 / a
        step = np.linalg.solve(k + np.diag(1 / a**2), grad)
        decrement = grad @ step  # the squared Newton decrement: f(a) - min f, to second order
        if decrement < 1e-20:
            break
        t, value = 1.0, f(a)
        while t > 1e-10 and (min(a - t * step) <= 0 or f(a - t * step) > value - t * decrement / 4):
            t /= 2
        a = a - t * step
    return torch.from_numpy(a / np.sqrt(norm))


@register("weighting", "nash_mtl")
class NashMTL(GradientWeighting):
    """Nash bargaining over task gradients (Navon et al., ICML 2022)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        max_norm: float = 1.0,
    ):
        super().__init__(task_names, task_weights, mode)
        require(max_norm >= 0, f"weighting.max_norm of 'nash_mtl' must be >= 0, got {max_norm}")
        self.max_norm = float(max_norm)

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        a = nash_weights(gramian)
        norm = float(a @ gramian.detach().to(a) @ a) ** 0.5
        return a * (self.max_norm / norm) if 0 < self.max_norm < norm else a
