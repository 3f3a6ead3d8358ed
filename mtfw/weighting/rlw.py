"""RLW: Lin et al., "Reasonable Effectiveness of Random Weighting: A Litmus Test for Multi-Task
Learning", TMLR 2022.

Random loss weighting: at every step the weights are ``softmax(z)`` for a fresh draw of ``z``
(``normal``: standard normal, the paper's default; ``uniform``: uniform on [0, 1]), or a draw from
the flat Dirichlet distribution (``dirichlet``: uniform on the simplex). They sum to 1, as in the
paper. Draws come from the weighting's own generator, which checkpoints save, so a resumed run
draws the same weights (and every rank of a distributed run the same ones).
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.registry import register
from mtfw.weighting.base import LossWeighting, choose

DISTRIBUTIONS = ("normal", "uniform", "dirichlet")


def random_weights(n: int, distribution: str, generator: torch.Generator | None = None) -> Tensor:
    """One draw of ``n`` positive weights summing to 1."""
    if distribution == "dirichlet":
        draw = -torch.rand(
            n, generator=generator
        ).log()  # Exp(1) draws, normalised: Dirichlet(1, ..., 1)
        return draw / draw.sum()
    draw = (torch.randn if distribution == "normal" else torch.rand)(n, generator=generator)
    return torch.softmax(draw, dim=0)


@register("weighting", "rlw")
class RLW(LossWeighting):
    """Random loss weights drawn every step (Lin et al., TMLR 2022)."""

    def __init__(
        self, task_names: list[str], task_weights: list[float], distribution: str = "normal"
    ):
        super().__init__(task_names, task_weights)
        self.distribution = choose(distribution, DISTRIBUTIONS, "weighting.distribution of 'rlw'")

    def weights(self, losses: Tensor) -> Tensor:
        draw = random_weights(len(self.task_names), self.distribution, self.generator)
        return self.user_weights * draw.to(self.user_weights.device)
