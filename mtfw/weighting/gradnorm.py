"""GradNorm: Chen et al., "GradNorm: Gradient Normalization for Adaptive Loss Balancing in Deep
Multitask Networks", ICML 2018.

Learnable weights ``w`` (here ``T softmax(s)``, which keeps them positive and summing to ``T``, the
paper's renormalisation) scale the losses; the objective is ``sum_t w_t L_t``. The weights get the
gradient of ``sum_t |G_t - mean(G) r_t^alpha|``, where ``G_t = w_t |grad L_t|`` is the norm of the
weighted task gradient and ``r_t = (L_t / L_t(0)) / mean_s(L_s / L_s(0))`` the relative inverse
training rate (targets held constant, as in the paper): tasks that train slowly gain weight.

The paper measures ``G_t`` on the last shared layer to save time; here on the shared
representation (``mode: representation``, the default, one backward pass through the encoder) or
on all shared parameters (``mode: parameters``). ``L_t(0)`` is the first loss seen of each task
(a buffer, so checkpoints keep it); a task without labelled samples in a batch sits out.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from mtfw.registry import register
from mtfw.weighting.base import require
from mtfw.weighting.gradient import GradientWeighting


@register("weighting", "gradnorm")
class GradNorm(GradientWeighting):
    """Learned weights that equalise gradient norms by training rate (Chen et al., ICML 2018)."""

    def __init__(
        self,
        task_names: list[str],
        task_weights: list[float],
        mode: str = "representation",
        alpha: float = 1.5,
    ):
        super().__init__(task_names, task_weights, mode)
        require(alpha >= 0, f"weighting.alpha of 'gradnorm' must be >= 0, got {alpha}")
        self.alpha = float(alpha)
        self.logits = nn.Parameter(torch.zeros(len(task_names)))
        self.register_buffer("initial_losses", torch.full((len(task_names),), float("nan")))

    def loss_weights(self) -> Tensor:
        return len(self.task_names) * torch.softmax(self.logits, dim=0)

    def task_objectives(self, losses: Tensor) -> Tensor:
        return losses * (self.user_weights * self.loss_weights()).detach()

    def combine(self, grads: Tensor, losses: Tensor) -> tuple[Tensor, Tensor]:
        weights = self.loss_weights()
        norms = grads.norm(dim=1) / weights.detach().to(grads)  # |grad user_t L_t| = G_t / w_t
        active = (norms > 0) & (losses > 0)
        unset = torch.isnan(self.initial_losses) & active
        self.initial_losses[unset] = losses[unset].to(self.initial_losses)
        if bool(active.any()):
            g = (weights * norms.to(weights))[active]
            ratio = (losses / self.initial_losses.to(losses))[active]
            target = (g.mean() * (ratio / ratio.mean()) ** self.alpha).detach()
            (grad,) = torch.autograd.grad((g - target).abs().sum(), self.logits)
            self.logits.grad = grad if self.logits.grad is None else self.logits.grad + grad
        return grads.sum(dim=0), (weights.detach() * self.user_weights).to(grads)
