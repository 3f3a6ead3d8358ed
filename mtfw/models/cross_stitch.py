"""Cross-stitch networks (Misra et al., "Cross-stitch Networks for Multi-task Learning", CVPR 2016).

One column (network) per task. After each layer, a cross-stitch unit replaces each column's
output by a learned linear combination of all columns' outputs: ``h'_t = sum_s alpha_ts h_s``.
The units start near identity (alpha_tt = ``self_weight``, the rest share ``1 - self_weight``), so
columns begin almost independent and learn how much to share. A column's first block is the
configured ``expert`` network; ``hidden`` adds MLP layers, each followed by a cross-stitch unit.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.models.encoder import Encoder
from mtfw.models.layout import InputLayout
from mtfw.registry import register
from mtfw.value_types import Count, Share


def identity_like(t: int, self_weight: float) -> Tensor:
    if t == 1:
        return torch.ones(1, 1)
    alpha = torch.full((t, t), (1 - self_weight) / (t - 1))
    return alpha.fill_diagonal_(self_weight)


@register("encoder", "cross_stitch")
class CrossStitch(Encoder):
    """One column per task, mixed after every layer by learned cross-stitch units."""

    def __init__(
        self,
        in_dim: int,
        task_names: list[str],
        layout: InputLayout | None = None,
        expert: dict | str | None = None,
        hidden: list[Count] = (32,),
        self_weight: Share = 0.9,
    ):
        super().__init__(in_dim, task_names, layout)
        t = len(self.task_names)
        blocks = [self.experts(expert, n=t)]
        for width in hidden:
            blocks.append(self.experts({"name": "mlp", "hidden": [width]}, t, blocks[-1].out_dim))
        self.blocks = nn.ModuleList(blocks)
        self.units = nn.ParameterList(
            nn.Parameter(identity_like(t, self_weight)) for _ in self.blocks
        )
        self.out_dim = blocks[-1].out_dim

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        h = x
        for block, alpha in zip(self.blocks, self.units, strict=True):
            h = torch.einsum("ts,bsh->bth", alpha, block(h))  # [B, T, h]: per-column inputs next
        return {t: h[:, i] for i, t in enumerate(self.task_names)}
