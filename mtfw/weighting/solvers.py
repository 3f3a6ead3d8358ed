"""Small exact solvers on ``T x T`` Gramians (float64 NumPy; T is the number of tasks).

- :func:`nonneg_qp`: ``argmin_{x >= 0} 1/2 x^T K x + q^T x`` by the Lawson-Hanson active-set
  method (Lawson & Hanson, *Solving Least Squares Problems*, 1974, ch. 23), written on ``K`` and
  ``q`` instead of a design matrix. Finite, exact up to rounding; used for UPGrad's dual-cone
  projections and for MGDA's min-norm point.
- :func:`min_norm_weights`: the min-norm point of the convex hull of the gradients (MGDA).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def as_array(gramian: Tensor) -> np.ndarray:
    """A Gramian as a symmetric float64 array (rounding can make a torch Gramian asymmetric)."""
    k = gramian.detach().to("cpu", torch.float64).numpy()
    return (k + k.T) / 2


def nonneg_qp(k: np.ndarray, q: np.ndarray, tol: float = 1e-13) -> np.ndarray:
    """``argmin_{x >= 0} 1/2 x^T k x + q^T x`` for a positive definite ``k``."""
    n = len(q)
    x, passive = np.zeros(n), np.zeros(n, dtype=bool)
    scale = max(float(np.abs(q).max()), 1e-300)
    for _ in range(3 * n + 3):
        w = -(k @ x + q)  # the negative gradient: the KKT conditions ask w <= 0 off the support
        free = ~passive & (w > tol * scale)
        if not free.any():
            break
        passive[np.argmax(np.where(free, w, -np.inf))] = True
        for _ in range(3 * n + 3):
            z = np.zeros(n)
            z[passive] = np.linalg.solve(k[np.ix_(passive, passive)], -q[passive])
            if (z[passive] > 0).all():
                break
            blocked = passive & (z <= 0)  # step from x toward z until a coordinate reaches 0
            step = np.min(x[blocked] / (x[blocked] - z[blocked]))
            x = x + step * (z - x)
            passive &= x > tol * max(float(x.max()), 1e-300)
            x[~passive] = 0.0
        x = z
    return x


def min_norm_weights(k: np.ndarray) -> np.ndarray:
    """``argmin_{a in simplex} a^T k a``: the min-norm point of the hull of the gradients.

    Two tasks have the closed form ``a_1 = clip((K22 - K12) / (K11 + K22 - 2 K12), 0, 1)``.
    More tasks: if ``x`` solves ``min_{x >= 0} 1/2 x^T k x - 1^T x`` then ``x / sum(x)`` is the
    min-norm point (the two problems share their KKT conditions up to the scale ``a^T k a``); a
    ridge of 1e-10 of the mean diagonal keeps ``k`` definite when 0 is in the hull."""
    n = len(k)
    if n == 1:
        return np.ones(1)
    if n == 2:
        denom = k[0, 0] + k[1, 1] - 2 * k[0, 1]
        a = 0.5 if denom <= 0 else float(np.clip((k[1, 1] - k[0, 1]) / denom, 0.0, 1.0))
        return np.array([a, 1.0 - a])
    scale = max(float(np.trace(k)) / n, 1e-300)
    x = nonneg_qp(k / scale + 1e-10 * np.eye(n), -np.ones(n))
    return x / x.sum()
