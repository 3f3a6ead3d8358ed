"""Expert networks (the ``expert`` registry kind): a bank of ``n`` same-shaped networks.

Every encoder builds its experts (a shared bottom is a bank of one) from an ``expert:`` config node,
so ``encoder=mmoe encoder.expert=self_attention`` swaps the network inside any architecture. A bank
maps ``[B, d]`` (one input for all experts) or ``[B, n, d]`` (one input per expert, as PLE's
task-specific experts and single-task towers need) to ``[B, n, out_dim]``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from mtfw.models.layout import InputLayout
from mtfw.models.mlp import activation as make_activation
from mtfw.registry import ConfigError, register
from mtfw.value_types import Count, Fraction, check_range


@register("expert", "mlp")
class MLPExperts(nn.Module):
    """Multi-layer perceptrons, all experts computed together as batched matmuls."""

    def __init__(
        self,
        n: int,
        in_dim: int,
        layout: InputLayout | None,
        hidden: list[Count] = (64,),
        activation: str = "relu",
        dropout: Fraction = 0.0,
    ):
        super().__init__()
        hidden = list(hidden)
        check_range("encoder.expert.dropout", dropout, low=0, high=1, high_open=True)
        for width in hidden:
            check_range("encoder.expert.hidden", width, low=1)
        if n < 1 or not hidden:
            raise ConfigError(f"mlp experts need n >= 1 and a hidden size, got n={n}, {hidden}")
        self.n, self.out_dim = n, hidden[-1]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for width in hidden:
            bound = 1 / math.sqrt(in_dim)  # nn.Linear's default initialisation
            self.weights.append(nn.Parameter(torch.empty(n, in_dim, width).uniform_(-bound, bound)))
            self.biases.append(nn.Parameter(torch.empty(n, width).uniform_(-bound, bound)))
            in_dim = width
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None

    def forward(self, x: Tensor) -> Tensor:
        # The bias rides in the matmul (addmm/baddbmm), one kernel and one autograd node less per
        # layer than ``x @ w + b``. Plain iteration: slicing a ParameterList builds a new module.
        h = x
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if i == 0 and x.dim() == 2:  # one input for all experts: a single [d, n*h] matmul
                flat = w.permute(1, 0, 2).reshape(w.shape[1], -1)
                h = torch.addmm(b.reshape(-1), x, flat).view(len(x), self.n, -1)
            else:  # one input per expert
                h = layer(h, w, b)
            h = self.act(h)
            if self.dropout is not None:
                h = self.dropout(h)
        return h


def layer(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """``[B, n, i]`` through n experts' ``[i, o]`` weights and ``[o]`` biases: ``[B, n, o]``."""
    if w.shape[0] == 1:  # views, not x[:, 0] / w[0]: their backward copies into zeros
        flat = torch.addmm(b.view(-1), x.reshape(len(x), -1), w.view(w.shape[1], w.shape[2]))
        return flat.view(x.shape[0], 1, -1)
    return torch.baddbmm(b.unsqueeze(1), x.transpose(0, 1), w).transpose(0, 1)


def per_expert(x: Tensor, e: int) -> Tensor:
    """Expert ``e``'s input from a shared ``[B, d]`` or per-expert ``[B, n, d]`` input."""
    return x if x.dim() == 2 else x[:, e]


def require_fields(layout: InputLayout | None, name: str) -> InputLayout:
    if layout is None or layout.n_fields + layout.n_numeric == 0:
        raise ConfigError(
            f"the {name} expert reads field embeddings, which only the first layer of an encoder "
            "receives; use it where the input is the embedded features"
        )
    return layout
