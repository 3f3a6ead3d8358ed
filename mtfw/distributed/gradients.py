"""What makes a step on shares of the batch the one-process step on the whole batch."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from mtfw.distributed.collectives import all_reduce
from mtfw.distributed.group import active, size
from mtfw.distributed.sparse_gradients import dense_rows, sparse_grad, touched_rows


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
    ranks lack counts as zero there, so every rank's optimizer sees the same parameters. A sparse
    gradient (a table of ``optim.sparse_embeddings``, sparse on any rank) is averaged on the union
    of the rows the ranks looked up, inside the same all-reduce (``sparse_gradients``)."""
    if not active():
        return
    skipped = {id(p) for p in skip}
    params = [p for p in params if p.requires_grad and id(p) not in skipped]
    if not params:
        return
    flags = [[p.grad is not None for p in params],
             [p.grad is not None and p.grad.is_sparse for p in params]]  # fmt: skip
    present, sparse = all_reduce(torch.tensor(flags, dtype=torch.float32,
                                              device=params[0].device)).tolist()  # fmt: skip
    tables = [p for p, s in zip(params, sparse, strict=True) if s > 0]
    params = [p for p, n, s in zip(params, present, sparse, strict=True) if n > 0 and s == 0]
    rows = touched_rows(tables) if tables else []
    blocks = [dense_rows(p, r) for p, r in zip(tables, rows, strict=True)]
    if not params and not tables:
        return
    dense = [(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1).float()
             for p in params]  # fmt: skip
    flat = torch.cat([*dense, *[b.reshape(-1) for b in blocks]])
    all_reduce(flat, "mean")
    pieces = flat.split([p.numel() for p in params] + [b.numel() for b in blocks])
    for p, piece in zip(params, pieces, strict=False):
        p.grad = piece.view_as(p).to(p.dtype)
    for p, r, piece in zip(tables, rows, pieces[len(params) :], strict=True):
        p.grad = sparse_grad(p, r, piece)
