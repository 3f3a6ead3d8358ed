"""GradDrop: Chen et al., "Just Pick a Sign: Optimizing Deep Multitask Models with Gradient Sign
Dropout", NeurIPS 2020.

At every coordinate, the sign purity ``P = (1 + sum_t g_t / sum_t |g_t|) / 2`` is the probability
of keeping the positive gradients there: with ``U ~ Uniform(0, 1)`` per coordinate, task t keeps
its gradient where ``P > U`` and ``g_t > 0`` or ``P < U`` and ``g_t < 0``, and the update is the sum
of the kept gradients (``leak`` in [0, 1] lets that share of every gradient through regardless).

In representation mode, as in the paper, the purity is computed per unit of the shared
representation from the batch-summed signal ``sum_b sign(z_b) g_tb`` and the drop decision is shared
by the whole batch; in parameter mode, per shared parameter. The weight reported for a task is the
share of its gradient's squared norm that was kept. ``U`` comes from the weighting's own generator.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import require
from mtfw.weighting.gradient import GradientWeighting


def graddrop_masks(signal: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Boolean keep-masks ``[T, N]`` from per-task signals ``[T, N]``, one draw per column."""
    ones = signal.new_ones(len(signal))  # sums over tasks as matmuls: much faster than sum(0)
    total = (ones @ signal.abs()).clamp(min=torch.finfo(signal.dtype).tiny)
    purity = 0.5 * (1 + (ones @ signal) / total)
    draw = torch.rand(purity.shape, dtype=signal.dtype, generator=generator).to(signal.device)
    # positive gradients where P > U, negative ones elsewhere (zeros contribute nothing either way)
    return (signal > 0) == (purity > draw)


@register("weighting", "graddrop")
class GradDrop(GradientWeighting):
    """Drops gradient components by sign consistency (Chen et al., NeurIPS 2020)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "parameters",
        leak: float = 0.0,
    ):
        super().__init__(task_names, task_weights, mode)
        require(0 <= leak <= 1, f"weighting.leak of 'graddrop' must be in [0, 1], got {leak}")
        self.leak = float(leak)

    def dropped(self, grads: Tensor) -> Tensor:
        """The task gradients ``[T, N]`` with the dropped components zeroed (or leaked)."""
        if not self.current_representation:  # parameter mode: one decision per coordinate
            return grads * self.kept(graddrop_masks(grads, self.generator).to(grads))
        parts, start = [], 0
        for z in self.current_representation:  # [B, ...]: one decision per unit, batch-wide
            g = grads[:, start : start + z.numel()].view(len(grads), z.shape[0], -1)
            signal = (g * z.sign().view(1, z.shape[0], -1)).sum(1)  # [T, units]
            keep = self.kept(graddrop_masks(signal, self.generator).to(g))[:, None, :]
            parts.append((g * keep).view(len(grads), -1))
            start += z.numel()
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)

    def kept(self, masks: Tensor) -> Tensor:
        return masks if self.leak == 0 else self.leak + (1 - self.leak) * masks

    def combine(self, grads: Tensor, losses: Tensor) -> tuple[Tensor, Tensor]:
        dropped = self.dropped(grads)
        share = dropped.square().sum(1) / grads.square().sum(1).clamp(min=1e-30)
        return grads.new_ones(len(grads)) @ dropped, share * self.user_weights
