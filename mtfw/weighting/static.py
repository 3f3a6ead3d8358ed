"""Static weights: the objective is ``sum_t w_t * L_t`` with the user's ``task.<name>.weight``.

With the default weights of 1 this is equal weighting, the baseline every method is compared with.
"""

from __future__ import annotations

from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import LossWeighting


@register("weighting", "static")
class Static(LossWeighting):
    """Fixed task weights from config (task.<name>.weight; equal by default)."""

    def weights(self, losses: Tensor) -> Tensor:
        return self.user_weights
