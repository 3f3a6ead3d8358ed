"""PLE's dynamic loss weights: Tang et al., "Progressive Layered Extraction (PLE): A Novel
Multi-Task Learning (MTL) Model for Personalized Recommendations", RecSys 2020, Eq. 10.

``w_k(t) = w_k0 * gamma_k^t``: each task's weight starts at its ``task.<name>.weight`` and decays
(or grows) geometrically. The paper counts ``t`` in epochs; here ``t`` advances every ``period``
steps (set it to the steps per epoch for the paper's schedule). ``gamma`` is one number for all
tasks or ``{task: gamma}`` (unlisted tasks: 1, no decay). The step count is a buffer.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import LossWeighting, per_task, require


@register("weighting", "ple_decay")
class PLEDecay(LossWeighting):
    """Geometrically decaying task weights w_k0 * gamma_k^t (PLE, RecSys 2020, Eq. 10)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        gamma: float | Mapping[str, float] = 0.99,
        period: int = 100,
    ):
        super().__init__(task_names, task_weights)
        rates = per_task(gamma, task_names, "weighting.gamma of 'ple_decay'", default=1.0)
        require(bool((rates > 0).all()), f"weighting.gamma of 'ple_decay' must be > 0: {gamma}")
        require(period >= 1, f"weighting.period of 'ple_decay' must be >= 1 step, got {period}")
        self.period = int(period)
        self.register_buffer("gamma", rates)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def weights(self, losses: Tensor) -> Tensor:
        t = int(self.steps) // self.period
        self.steps += 1
        return self.user_weights * self.gamma**t
