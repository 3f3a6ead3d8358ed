"""Single-task baseline: one independent network per task, trained side by side in one run.

Each task gets its own embedding tables and its own copy of the configured ``expert`` network, so
nothing is shared and no task's gradient reaches another's parameters. This is the baseline that
MTL gain is measured against (Tang et al., RecSys 2020, Eq. 11), trained by the same trainer with
the same data, towers and budget.
"""

from __future__ import annotations

from collections.abc import Iterator

from torch import Tensor, nn

from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.registry import register


@register("encoder", "single_task")
class SingleTask(Encoder):
    """No sharing: one embedding and one network per task (the MTL baseline)."""

    independent_inputs = True

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        expert: dict | str | None = None,
    ):
        super().__init__(in_dim, task_names, layout)
        self.networks = self.experts(
            expert or {"name": "mlp", "hidden": [128, 64]}, n=len(task_names)
        )
        self.out_dim = self.networks.out_dim

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        return iter(())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        h = self.networks(x)  # x: [B, T, d], one input per task -> [B, T, h]
        return {t: h[:, i] for i, t in enumerate(self.task_names)}
