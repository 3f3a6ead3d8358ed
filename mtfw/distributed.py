"""Distributed training under ``torchrun``: the process group, each rank's rows, the collectives.

One run, ``R`` processes (ranks). Every rank holds the whole (in-memory) data, draws the same
seeded permutation and takes its contiguous share of each global batch (sizes differ by at most
one row when ``R`` does not divide the batch). A step then equals a one-process step on the global
batch, for every weighting:

- :func:`global_losses`: each task's loss of the global batch (a mean over the samples carrying
  its label, counted over all ranks) as the value, with the gradient of this rank's share, so that
  :func:`average_gradients` of what a backward pass leaves is the gradient of the global objective
  (exact when the objective is any differentiable function of the global losses);
- gradient-space weightings all-reduce their per-task gradients (``weighting/gradient.py``);
- :func:`average_gradients`: one all-reduce of the remaining gradients, as DDP's reducer does.

Without a process group (one process) every function here is the identity. :data:`traffic`
counts the bytes each rank sends into collectives (the benchmark's communication volume).
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

log = logging.getLogger("mtfw")


@dataclass
class Traffic:
    """Bytes this rank has put into collectives, and how many collectives, since ``reset``."""

    bytes: int = 0
    calls: int = 0

    def add(self, t: Tensor) -> None:
        self.bytes += t.numel() * t.element_size()
        self.calls += 1

    def reset(self) -> None:
        self.bytes, self.calls = 0, 0


traffic = Traffic()


def launched() -> bool:
    """True in a process started by torchrun (or any launcher setting ``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def size() -> int:
    return dist.get_world_size() if active() else 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def is_main() -> bool:
    """The rank that writes the run record (rank 0; the only one without torchrun)."""
    return rank() == 0


def device() -> torch.device:
    """Where collectives' own tensors live: the rank's GPU under NCCL, else the CPU."""
    if active() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def start(backend: str, timeout_s: float) -> None:
    """Join the process group torchrun describes (``MASTER_ADDR``, ``RANK``, ...), once."""
    if dist.is_initialized():
        return
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    log.info("rank %d of %d joined the %s group", rank(), size(), backend)


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def part(n: int, ranks: int | None = None, of: int | None = None) -> slice:
    """This rank's contiguous rows of ``n``: ``n // R`` each, one more for the first ``n % R``."""
    ranks, of = size() if ranks is None else ranks, rank() if of is None else of
    base, extra = divmod(n, ranks)
    start = of * base + min(of, extra)
    return slice(start, start + base + (of < extra))


def all_reduce(t: Tensor, op: str = "sum") -> Tensor:
    """``t`` summed (or averaged: ``op="mean"``) over the ranks, in place; returned."""
    if active():
        traffic.add(t)
        dist.all_reduce(t)
        if op == "mean":
            t /= size()
    return t


def global_losses(losses: Tensor, counts: Tensor) -> Tensor:
    """The global batch's losses ``[T]`` (value) carrying this rank's gradient, scaled so that the
    mean over ranks of the gradients is the global one. ``counts`` ``[T]``: the samples behind each
    local mean (a task's labelled samples); a task no rank has samples of keeps loss 0."""
    if not active():
        return losses
    counts = counts.to(losses)
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


def shares(n: int) -> list[int]:
    """Every rank's ``n`` (e.g. its rows of the batch), in rank order."""
    if not active():
        return [n]
    mine = torch.zeros(size(), dtype=torch.long, device=device())
    mine[rank()] = n
    return all_reduce(mine).tolist()


def gather_rows(t: Tensor) -> Tensor:
    """``t`` ``[n_r, ...]`` of every rank concatenated along dim 0 in rank order (the global
    batch's rows as one process holds them); shares may differ in length."""
    if not active():
        return t
    lengths = shares(len(t))
    padded = t.new_zeros((max(lengths), *t.shape[1:]))
    padded[: len(t)] = t
    parts = [torch.empty_like(padded) for _ in range(size())]
    traffic.add(padded)
    dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, lengths, strict=True)])


def gather_objects(obj: object) -> list[object]:
    """Every rank's ``obj`` (picklable), in rank order, on every rank."""
    if not active():
        return [obj]
    out: list[object] = [None] * size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: object) -> object:
    """Rank 0's ``obj`` on every rank."""
    if not active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_module(module: torch.nn.Module) -> None:
    """Rank 0's parameters and buffers on every rank (the same start, as DDP makes it)."""
    if not active():
        return
    for t in [*module.parameters(), *module.buffers()]:
        dist.broadcast(t.data, src=0)
