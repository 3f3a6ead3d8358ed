"""``trainer.precision``: ``32`` | ``bf16`` | ``16-mixed`` (autocast, and a loss scaler for fp16).

``bf16`` and ``16-mixed`` run every forward pass (training and evaluation) under
``torch.autocast`` on the run's device (CPU or CUDA) in bfloat16 or float16; parameters, losses
and optimizer state stay float32. ``16-mixed`` adds ``torch.amp.GradScaler``, made to work with
the gradient weightings:

- the losses the weighting receives keep their true values (loss-space methods, DWA's history,
  FAMO and the logged losses read them), but every gradient flowing back from them into the model
  is multiplied by the scale (:class:`ScaleGradient` at the root of the backward pass), so fp16
  activation gradients do not underflow;
- gradient-space methods divide their per-task gradients by the scale (in float32) before they
  combine them (MGDA, PCGrad, Nash-MTL, ... see a scale-free gradient), then write the combined
  direction back multiplied by it; gradients of the weighting's own parameters (uncertainty's
  log-variances, GradNorm's logits) never pass through the scaled graph and are multiplied by it
  here, so the scaler unscales every gradient alike before clipping and the optimizer step;
- a step whose gradients hold inf/NaN (an fp16 overflow) is skipped, as GradScaler does: no
  optimizer step, the scale backs off, and the weighting's state (buffers, its generator) is put
  back to what it was before that step, so the skipped step leaves no trace but the step count.

Under torchrun (``R`` ranks) a rank's gradient of its share is ``R`` times that share's part of
the global gradient (``distributed.global_losses``: the mean over ranks is the global one), so the
backward pass is scaled by ``scale / R`` and the averaged gradients multiplied by ``R`` before the
scaler unscales them: fp16 activation gradients have the headroom of one process (with the full
scale a run on R ranks overflowed, and skipped, steps that one process takes). The overflow check
reads the gradients after the ranks' all-reduce (an inf on one rank is inf in the sum), so a step
skipped on one rank is skipped on all (``tests/test_distributed_precision.py``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager

import torch
from torch import Tensor

from mtfw import distributed
from mtfw.errors import ConfigError
from mtfw.weighting import Weighting

DTYPES = {"32": None, "bf16": torch.bfloat16, "16-mixed": torch.float16}


def check_precision(name: str, device: torch.device) -> None:
    """Refuse a precision the run's device cannot train in (before any data loads)."""
    if name not in DTYPES:
        raise ConfigError(f"trainer.precision must be 32, bf16 or 16-mixed, not '{name}'")
    if name == "32":
        return
    if not torch.amp.is_autocast_available(device.type):
        raise ConfigError(
            f"trainer.precision={name}: torch has no autocast on device '{device}'; use "
            "trainer.precision=32, or a CPU or CUDA device"
        )
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError(
            f"trainer.precision=bf16 on {torch.cuda.get_device_name(device)}, which has no "
            "bfloat16 support (it needs compute capability 8.0, Ampere, or newer): use "
            "trainer.precision=16-mixed or 32"
        )


def autocast(device: torch.device, name: str) -> AbstractContextManager:
    """The forward passes' context: autocast in the precision's dtype (nothing for ``32``)."""
    dtype = DTYPES[name]
    return torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


class ScaleGradient(torch.autograd.Function):
    """The identity on the losses whose backward multiplies the incoming gradient by ``scale``."""

    @staticmethod
    def forward(ctx, losses: Tensor, scale: float) -> Tensor:
        ctx.scale = scale
        return losses.view_as(losses)

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:
        return grad * ctx.scale, None


class Precision:
    """A run's precision: the autocast context, and for ``16-mixed`` the scaler around each
    step (``backward`` then ``step``)."""

    def __init__(self, name: str, device: torch.device) -> None:
        self.name, self.device = name, device
        mixed = name == "16-mixed"
        self.scaler = torch.amp.GradScaler(device.type) if mixed else None
        self.skipped_steps = 0
        self._before: dict | None = None

    def autocast(self) -> AbstractContextManager:
        return autocast(self.device, self.name)

    def backward(
        self, weighting: Weighting, losses: Tensor, shared: Sequence[Tensor],
        representation: Tensor | Sequence[Tensor] | None,
    ) -> Tensor:  # fmt: skip
        """``weighting.backward`` with the scale in every model gradient; the weights used."""
        if self.scaler is None:
            return weighting.backward(losses, shared, representation=representation)
        scale = float(self.scaler.scale(torch.ones((), device=self.device)))  # initialises it
        scale /= distributed.size()  # a rank's share weighs R x in its gradient: the same fp16
        self._before = copy.deepcopy(weighting.state_dict())  # headroom as one process
        weighting.grad_scale = scale
        try:
            weights = weighting.backward(
                ScaleGradient.apply(losses, scale), shared, representation=representation
            )
        finally:
            weighting.grad_scale = 1.0
        for p in weighting.parameters():  # its own parameters: unscaled so far
            if p.grad is not None:
                p.grad.mul_(scale)
        return weights

    def step(
        self, optimizer: torch.optim.Optimizer, weighting: Weighting,
        clip: Iterable[Tensor], grad_clip: float | None,
    ) -> bool:  # fmt: skip
        """Clip (after unscaling) and step the optimizer; False when the step was skipped."""
        if self.scaler is None:
            if grad_clip:
                torch.nn.utils.clip_grad_norm_(clip, grad_clip)
            optimizer.step()
            return True
        if distributed.size() > 1:  # averaged over the ranks: the scale / R of backward
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.mul_(distributed.size())
        self.scaler.unscale_(optimizer)
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(clip, grad_clip)
        scale = self.scaler.get_scale()
        self.scaler.step(optimizer)
        self.scaler.update()
        if self.scaler.get_scale() >= scale:  # no inf/NaN: it stepped (the scale held or grew)
            return True
        weighting.load_state_dict(self._before)  # the skipped step leaves the state as it was
        self.skipped_steps += 1
        return False

    def state_dict(self) -> dict | None:
        if self.scaler is None:
            return None
        return {"scaler": self.scaler.state_dict(), "skipped_steps": self.skipped_steps}

    def load_state_dict(self, state: dict | None) -> None:
        if self.scaler is not None and state is not None:
            self.scaler.load_state_dict(state["scaler"])
            self.skipped_steps = state["skipped_steps"]
