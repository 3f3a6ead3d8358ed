"""Shared-bottom (hard parameter sharing; Caruana, 1997): one network feeds every task's tower."""

from __future__ import annotations

from torch import Tensor

from mtfw.models.encoder import Encoder
from mtfw.models.mlp import mlp
from mtfw.registry import register


@register("encoder", "shared_bottom")
class SharedBottom(Encoder):
    """Hard parameter sharing: one MLP bottom, the same representation for every task."""

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        hidden: list[int] = (128, 64),
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__(in_dim, task_names)
        self.bottom = mlp(in_dim, list(hidden), activation, dropout)
        self.out_dim = list(hidden)[-1] if hidden else in_dim

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        h = self.shared_output = self.bottom(x)
        return {task: h for task in self.task_names}
