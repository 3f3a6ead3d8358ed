"""What makes a step on shares of the batch the one-process step on the whole batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from mtfw.distributed.collectives import all_reduce
from mtfw.distributed.group import active, size


def global_losses(losses: Tensor, counts: Tensor) -> Tensor:
    """The global batch's losses ``[T]`` (value) carrying this rank's gradient, scaled so that the
    mean over ranks of the gradients is the global one. ``counts`` ``[T]``: the samples behind each
    local mean (a task's labelled samples); a task no rank has samples of keeps loss 0."""
    if not active():
        return losses
    counts = counts.to(losses)
    losses = torch.where(counts > 0, losses, 0.0)  # an empty share's mean is NaN: it adds nothing
    sums = all_reduce(torch.stack([counts, losses.detach() * counts]))
    total = sums[0].clamp(min=1)
    local = losses * (counts * size() / total)
    return local + (sums[1] / total - local).detach()


def average_gradients(params: Iterable[Tensor], skip: Sequence[Tensor] = ()) -> None:
    """Replace each ``.grad`` by its mean over the ranks (one all-reduce; ``skip``: parameters
    whose gradient is global already). A gradient that no rank has stays None; one that some
    ranks lack counts as zero there, so every rank's optimizer sees the same parameters."""
    if not active():
        return
    skipped = {id(p) for p in skip}
    params = [p for p in params if p.requires_grad and id(p) not in skipped]
    if not params:
        return
    present = all_reduce(torch.tensor([p.grad is not None for p in params], dtype=torch.float32,
                                      device=params[0].device))  # fmt: skip
    params = [p for p, n in zip(params, present.tolist(), strict=True) if n > 0]
    if not params:
        return
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float()
                      for p in params])  # fmt: skip
    all_reduce(flat, "mean")
    for p, piece in zip(params, flat.split([p.numel() for p in params]), strict=True):
        p.grad = piece.view_as(p).to(p.dtype)
