"""MGDA: Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization", NeurIPS 2018.

The update is the min-norm element of the convex hull of the task gradients,
``d = sum_t a_t g_t`` with ``a = argmin_{a in simplex} |sum_t a_t g_t|^2``: a descent direction for
every task (or 0 at a Pareto-stationary point). ``mode: representation`` is the paper's MGDA-UB:
the same problem on the gradients of the shared representation, an upper bound that needs one
backward pass through the encoder instead of one per task.

``normalize`` rescales each gradient before solving, as in the paper's code: ``l2`` by its norm,
``loss`` by the task's loss, ``loss+`` by both; the direction is then the min-norm element of the
normalised gradients, and the weights reported are those of the raw ones (``a_t / n_t``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import choose
from mtfw.weighting.gradient import GradientWeighting
from mtfw.weighting.solvers import as_array, min_norm_weights

NORMALIZERS = ("none", "l2", "loss", "loss+")


def mgda_weights(gramian: Tensor) -> Tensor:
    """Weights of the min-norm convex combination of the gradients whose Gramian is given."""
    return torch.from_numpy(min_norm_weights(as_array(gramian)))


def normalizers(gramian: Tensor, losses: Tensor, normalize: str) -> Tensor:
    """The per-task scale ``n_t`` each gradient is divided by."""
    norms = gramian.diagonal().clamp(min=0).sqrt()
    losses = losses.to(norms)
    scale = {"none": torch.ones_like(norms), "l2": norms, "loss": losses, "loss+": losses * norms}
    return scale[normalize].clamp(min=torch.finfo(norms.dtype).tiny)


@register("weighting", "mgda")
class MGDA(GradientWeighting):
    """Min-norm combination of task gradients, MGDA-UB by mode (Sener & Koltun, NeurIPS 2018)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        normalize: str = "none",
    ):
        super().__init__(task_names, task_weights, mode)
        self.normalize = choose(normalize, NORMALIZERS, "weighting.normalize of 'mgda'")

    def gramian_weights(self, gramian: Tensor, losses: Tensor) -> Tensor:
        n = normalizers(gramian, losses, self.normalize)
        return mgda_weights(gramian / (n[:, None] * n[None, :])).to(n) / n
