"""Multi-layer perceptrons (task towers) and the activation functions configs may name."""

from __future__ import annotations

from torch import nn

from mtfw.registry import ConfigError
from mtfw.value_types import check_range

ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh, "elu": nn.ELU}


def activation(name: str) -> nn.Module:
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation '{name}'; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[name]()


def mlp(in_dim: int, hidden: list[int], act: str = "relu", dropout: float = 0.0) -> nn.Sequential:
    """Linear -> activation -> dropout for each hidden size."""
    check_range("dropout", dropout, low=0, high=1, high_open=True)
    for width in hidden:
        check_range("a hidden size", width, low=1)
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(in_dim, width), activation(act)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_dim = width
    return nn.Sequential(*layers)
