"""Optimizers (the ``optim`` registry kind): thin, signature-checked wrappers over torch.optim."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from mtfw.registry import register


@register("optim", "adam")
def adam(
    params: Iterable, lr: float = 1e-3, weight_decay: float = 0.0, betas: list[float] = (0.9, 0.999)
) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba, 2015)."""
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, betas=tuple(betas))


@register("optim", "adamw")
def adamw(
    params: Iterable,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    betas: list[float] = (0.9, 0.999),
) -> torch.optim.Optimizer:
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=tuple(betas))


@register("optim", "sgd")
def sgd(
    params: Iterable,
    lr: float = 0.01,
    momentum: float = 0.9,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    """Stochastic gradient descent with (optionally Nesterov) momentum."""
    return torch.optim.SGD(
        params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
    )
