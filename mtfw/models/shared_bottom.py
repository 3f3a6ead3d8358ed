"""Shared-bottom (hard parameter sharing; Caruana, 1997): one network feeds every task's tower."""

from __future__ import annotations

from torch import Tensor

from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.registry import register


@register("encoder", "shared_bottom")
class SharedBottom(Encoder):
    """Hard parameter sharing: one bottom network, the same representation for every task."""

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        expert: dict | str | None = None,
    ):
        super().__init__(in_dim, task_names, layout)
        self.bottom = self.experts(expert or {"name": "mlp", "hidden": [128, 64]}, n=1)
        self.out_dim = self.bottom.out_dim

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        h = self.shared_output = self.bottom(x).squeeze(1)  # a view: [B, 1, h] -> [B, h]
        return {task: h for task in self.task_names}
