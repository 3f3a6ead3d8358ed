"""Optimizers (the ``optim`` registry kind): thin, signature-checked wrappers over torch.optim.

Each takes ``sparse_embeddings``: read by the builder (``mtfw/trainer/sparse_embeddings.py``),
which then passes the optimizer every parameter but the embedding tables (SparseAdam's)."""

from __future__ import annotations

from collections.abc import Iterable

import torch

from mtfw.errors import ConfigError
from mtfw.registry import register
from mtfw.value_types import check_range


def check_settings(lr: float, weight_decay: float, betas: list[float] = (0.0, 0.0)) -> None:
    """Refuse settings torch would reject with a traceback, or silently misuse."""
    check_range("optim.lr", lr, low=0)  # 0: frozen weights, a legitimate check
    check_range("optim.weight_decay", weight_decay, low=0)
    if len(betas) != 2:
        raise ConfigError(f"optim.betas={list(betas)}: give two values, e.g. [0.9, 0.999]")
    for beta in betas:
        check_range("optim.betas", beta, low=0, high=1, high_open=True)


@register("optim", "adam")
def adam(
    params: Iterable,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    betas: list[float] = (0.9, 0.999),
    sparse_embeddings: bool = False,
) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba, 2015)."""
    check_settings(lr, weight_decay, betas)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, betas=tuple(betas))


@register("optim", "adamw")
def adamw(
    params: Iterable,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    betas: list[float] = (0.9, 0.999),
    sparse_embeddings: bool = False,
) -> torch.optim.Optimizer:
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""
    check_settings(lr, weight_decay, betas)
    return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=tuple(betas))


@register("optim", "sgd")
def sgd(
    params: Iterable,
    lr: float = 0.01,
    momentum: float = 0.9,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    sparse_embeddings: bool = False,
) -> torch.optim.Optimizer:
    """Stochastic gradient descent with (optionally Nesterov) momentum."""
    check_settings(lr, weight_decay)
    check_range("optim.momentum", momentum, low=0, high=1)
    return torch.optim.SGD(
        params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay
    )
