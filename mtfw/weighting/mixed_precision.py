"""Gradient-space methods under autocast (``trainer.precision``): float32 combination, and
under ``16-mixed`` the combination of unscaled gradients.

The loss scaler multiplies every gradient of the backward pass by its scale (so fp16 activation
gradients do not underflow, ``mtfw/trainer/precision.py``). A method's per-task gradients are
divided by it before they are combined (MGDA's min-norm point, Nash-MTL's bargaining, GradNorm's
norms are not scale-free), and the combined direction is multiplied by it again, as the rest of
the backward pass is, so that the scaler's unscale treats every gradient alike. Under autocast
the representation ``z`` is fp16/bf16 while the combination runs in float32: the direction
written back into ``z`` (:func:`replacement`) takes ``z``'s dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import Tensor

from mtfw import distributed

Combine = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


class Scaled(Protocol):
    grad_scale: float  # 1.0: no loss scaler
    user_weights: Tensor


def unscaled(
    combine: Combine, grads: Tensor, losses: Tensor, method: Scaled
) -> tuple[Tensor, Tensor]:
    """``combine(grads / scale, losses)``, its direction times the scale. Gradients holding
    inf/NaN (an fp16 overflow: the step will be skipped) are not combined: the direction carries
    them to the scaler, the weights are the user's."""
    scale = method.grad_scale
    if scale == 1.0:
        return combine(grads, losses)
    grads = grads / scale
    overflow = (~torch.isfinite(grads).all()).float()
    if distributed.active():  # every rank takes the same branch (its collectives match)
        overflow = distributed.all_reduce(overflow)
    if overflow.item() > 0:
        return grads.sum(0) * scale, method.user_weights.clone()
    direction, weights = combine(grads, losses)
    return direction * scale, weights


def replacement(grad: Tensor) -> Callable[[Tensor], Tensor]:
    """A tensor hook that replaces the incoming gradient by ``grad``, in the incoming one's dtype
    (autocast: a float32 direction for an fp16/bf16 representation)."""
    return lambda incoming: grad.to(incoming.dtype)
