"""DWA: Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention", CVPR 2019.

Dynamic Weight Average weights each task by how slowly its loss has been falling:
``w_t = T exp(r_t / temperature) / sum_s exp(r_s / temperature)``, where
``r_t = L_t(k-1) / L_t(k-2)`` is the ratio of the task's average loss over the last two
periods. The paper's period is an epoch; here it is ``period`` steps (recommender epochs are few
and long), so the method adapts within an epoch and needs no end-of-epoch call. The first two
periods use equal weights. The loss history lives in buffers, so checkpoints keep it.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import LossWeighting, require


@register("weighting", "dwa")
class DWA(LossWeighting):
    """Dynamic weight average of loss descent rates (Liu et al., CVPR 2019)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        temperature: float = 2.0,
        period: int = 100,
    ):
        super().__init__(task_names, task_weights)
        require(temperature > 0, f"weighting.temperature of 'dwa' must be > 0, got {temperature}")
        require(period >= 1, f"weighting.period of 'dwa' must be >= 1 step, got {period}")
        self.temperature, self.period = float(temperature), int(period)
        n = len(task_names)
        self.register_buffer("history", torch.zeros(2, n))  # mean losses of periods k-2, k-1
        self.register_buffer("periods", torch.zeros((), dtype=torch.long))  # completed periods
        self.register_buffer("running", torch.zeros(n))  # loss sum of the current period
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))  # steps in it

    def weights(self, losses: Tensor) -> Tensor:
        weights = torch.ones_like(self.user_weights)
        if int(self.periods) >= 2:
            rate = self.history[1] / self.history[0].clamp(min=torch.finfo(losses.dtype).tiny)
            weights = len(weights) * torch.softmax(rate / self.temperature, dim=0)
        self.running += losses.detach()
        self.steps += 1
        if int(self.steps) == self.period:
            self.history.copy_(torch.stack([self.history[1], self.running / self.period]))
            self.running.zero_()
            self.steps.zero_()
            self.periods += 1
        return self.user_weights * weights
