"""The one-call weighting interface (DESIGN §5).

``weights = weighting.backward(losses, shared_params)`` fills ``.grad`` of every parameter and
returns the ``[T]`` weights it used. Loss-space methods derive from :class:`LossWeighting` and only
define ``weights``; gradient-space methods override ``backward`` and combine per-task gradients of
``shared_params``. A method keeps any state it needs (initial losses, histories) inside itself, and
learnable weighting parameters are ordinary module parameters the optimizer updates.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class Weighting(nn.Module):
    """Base of the ``weighting`` registry kind."""

    def __init__(self, task_names: Sequence[str], task_weights: Sequence[float]):
        super().__init__()
        self.task_names = list(task_names)
        # The user's task.<name>.weight values, in the order of ``task_names``.
        self.register_buffer("user_weights", torch.tensor(list(task_weights), dtype=torch.float32))

    def backward(self, losses: Tensor, shared_params: Sequence[Tensor]) -> Tensor:
        """Back-propagate the combined objective of ``losses`` ``[T]``; return the weights used."""
        raise NotImplementedError


class LossWeighting(Weighting):
    """Weights computed from the losses alone; the objective is their weighted sum."""

    def weights(self, losses: Tensor) -> Tensor:
        raise NotImplementedError

    def objective(self, losses: Tensor, weights: Tensor) -> Tensor:
        return (weights * losses).sum()

    def backward(self, losses: Tensor, shared_params: Sequence[Tensor]) -> Tensor:
        weights = self.weights(losses)
        self.objective(losses, weights).backward()
        return weights.detach()
