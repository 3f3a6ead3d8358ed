"""FAMO: Liu et al., "FAMO: Fast Adaptive Multitask Optimization", NeurIPS 2023.

FAMO descends ``sum_t z_t log(L_t - m_t)`` with ``z = softmax(xi)``, normalised so the update is a
convex combination of task gradients: the weight of task t's raw loss is
``w_t = z_t / (c (L_t - m_t))`` with ``c = sum_s z_s / (L_s - m_s)``. The logits ``xi`` learn to
equalise the tasks' log-loss decrease: with
``delta_t = log(L_t^before - m_t) - log(L_t^after - m_t)`` they take an Adam step (``lr``, weight
decay ``gamma``) along ``J_softmax^T delta``.

The paper re-evaluates the batch after the model step to get ``L^after`` (an extra forward pass
that the one-call loop does not make); here ``L^after`` is the next step's loss, on the next
batch. The logits and FAMO's own Adam state are buffers (the model optimizer never sees them),
so checkpoints keep them. A task whose loss is not above ``min_loss`` (e.g. no labelled sample
in the batch) sits out of the step and of the logit update.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import LossWeighting, per_task, require

EPS = 1e-8


@register("weighting", "famo")
class FAMO(LossWeighting):
    """Fast adaptive multitask optimization of log-loss decrease (Liu et al., NeurIPS 2023)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        lr: float = 0.025,
        gamma: float = 1e-3,
        min_loss: float | Mapping[str, float] = 0.0,
    ):
        super().__init__(task_names, task_weights)
        require(lr >= 0, f"weighting.lr of 'famo' must be >= 0, got {lr}")
        require(gamma >= 0, f"weighting.gamma of 'famo' must be >= 0, got {gamma}")
        self.lr, self.gamma = float(lr), float(gamma)
        n = len(task_names)
        self.register_buffer("min_loss", per_task(min_loss, task_names, "weighting.min_loss", 0.0))
        self.register_buffer("logits", torch.zeros(n))
        self.register_buffer("previous", torch.full((n,), float("nan")))  # last step's losses
        self.register_buffer("adam", torch.zeros(2, n))  # first and second moments
        self.register_buffer("adam_steps", torch.zeros((), dtype=torch.long))

    def update_logits(self, losses: Tensor) -> None:
        """One Adam step on the logits from the log-loss decrease since the previous step."""
        gap_before, gap_after = self.previous - self.min_loss, losses - self.min_loss
        active = (gap_before > 0) & (gap_after > 0)  # NaN (first step) compares False
        if not bool(active.any()):
            return
        decrease = gap_before.clamp(min=EPS).log() - gap_after.clamp(min=EPS).log()
        delta = torch.where(active, decrease, 0.0)
        z = torch.softmax(self.logits, dim=0)
        grad = z * (delta - (z * delta).sum()) + self.gamma * self.logits
        self.adam_steps += 1
        k = int(self.adam_steps)
        self.adam[0].mul_(0.9).add_(grad, alpha=0.1)
        self.adam[1].mul_(0.999).addcmul_(grad, grad, value=0.001)
        m, v = self.adam[0] / (1 - 0.9**k), self.adam[1] / (1 - 0.999**k)
        self.logits -= self.lr * m / (v.sqrt() + EPS)

    def weights(self, losses: Tensor) -> Tensor:
        losses = losses.detach()
        self.update_logits(losses)
        self.previous.copy_(losses)
        gap = losses - self.min_loss
        active = gap > 0
        z = torch.softmax(self.logits, dim=0)
        inverse = torch.where(active, z / gap.clamp(min=EPS), 0.0)
        total = inverse.sum()
        weights = inverse / total if bool(total > 0) else torch.zeros_like(z)
        return self.user_weights * weights
