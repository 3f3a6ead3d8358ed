"""Experts over the field embeddings: a CNN (as in CCPM/FGCNN) and self-attention (AutoInt).

Both read the ``[B, fields, dim]`` matrix of the embedded features (numeric features become fields
too), so they serve the first layer of an encoder, where the input is the embedded features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.models.experts import per_expert, require_fields
from mtfw.models.layout import FieldView, InputLayout
from mtfw.models.mlp import activation as make_activation
from mtfw.registry import ConfigError, register
from mtfw.value_types import Count, Fraction


@register("expert", "cnn")
class CNNExperts(nn.Module):
    """1-D convolutions along the field axis, then max- and mean-pooling over fields."""

    def __init__(
        self,
        n: int,
        in_dim: int,
        layout: InputLayout | None,
        channels: list[Count] = (32,),
        kernel_size: Count = 3,
        activation: str = "relu",
        out_dim: Count = 64,
    ):
        super().__init__()
        self.view = FieldView(require_fields(layout, "cnn"))
        self.n, self.out_dim = n, out_dim
        self.nets = nn.ModuleList()
        for _ in range(n):
            layers: list[nn.Module] = []
            width = self.view.layout.dim
            for c in channels:
                layers += [nn.Conv1d(width, c, kernel_size, padding=kernel_size // 2)]
                layers += [make_activation(activation)]
                width = c
            self.nets.append(nn.Sequential(*layers))
        self.project = nn.ModuleList(nn.Linear(2 * width, out_dim) for _ in range(n))
        self.act = make_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        outs = []
        for e, (net, project) in enumerate(zip(self.nets, self.project, strict=True)):
            h = net(self.view(per_expert(x, e)).transpose(1, 2))  # [B, C, fields]
            pooled = torch.cat([h.amax(dim=2), h.mean(dim=2)], dim=1)
            outs.append(self.act(project(pooled)))
        return torch.stack(outs, dim=1)


@register("expert", "self_attention")
class SelfAttentionExperts(nn.Module):
    """AutoInt: multi-head self-attention over fields with residual connections, flattened."""

    def __init__(
        self,
        n: int,
        in_dim: int,
        layout: InputLayout | None,
        heads: Count = 2,
        layers: Count = 2,
        attention_dim: Count = 16,
        out_dim: Count = 64,
        dropout: Fraction = 0.0,
    ):
        super().__init__()
        if attention_dim % heads:
            raise ConfigError(f"self_attention: attention_dim={attention_dim} must be a multiple "
                              f"of heads={heads}")  # fmt: skip
        self.view = FieldView(require_fields(layout, "self_attention"))
        self.n, self.out_dim = n, out_dim
        dim, fields = self.view.layout.dim, self.view.n_fields
        self.inputs = nn.ModuleList(nn.Linear(dim, attention_dim) for _ in range(n))
        self.blocks = nn.ModuleList(
            nn.ModuleList(
                nn.MultiheadAttention(attention_dim, heads, dropout=dropout, batch_first=True)
                for _ in range(layers)
            )
            for _ in range(n)
        )
        self.project = nn.ModuleList(nn.Linear(fields * attention_dim, out_dim) for _ in range(n))

    def forward(self, x: Tensor) -> Tensor:
        outs = []
        for e in range(self.n):
            h = self.inputs[e](self.view(per_expert(x, e)))
            for attention in self.blocks[e]:
                h = torch.relu(h + attention(h, h, h, need_weights=False)[0])
            outs.append(torch.relu(self.project[e](h.flatten(1))))
        return torch.stack(outs, dim=1)
