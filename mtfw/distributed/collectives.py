"""Collectives over the ranks (each the identity in one process); their bytes go to ``traffic``."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from mtfw.distributed.group import active, collective, device, rank, size, traffic


def all_reduce(t: Tensor, op: str = "sum") -> Tensor:
    """``t`` summed (or averaged: ``op="mean"``) over the ranks, in place; returned."""
    if active():
        traffic.add(t)
        with collective("an all-reduce"):
            dist.all_reduce(t)
        if op == "mean":
            t /= size()
    return t


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
    with collective("an all-gather"):
        dist.all_gather(parts, padded.contiguous())
    return torch.cat([p[:n] for p, n in zip(parts, lengths, strict=True)])


def gather_objects(obj: object) -> list[object]:
    """Every rank's ``obj`` (picklable), in rank order, on every rank."""
    if not active():
        return [obj]
    out: list[object] = [None] * size()
    with collective("gathering the evaluation"):
        dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj: object) -> object:
    """Rank 0's ``obj`` on every rank."""
    if not active():
        return obj
    box = [obj]
    with collective("a broadcast from rank 0"):
        dist.broadcast_object_list(box, src=0)
    return box[0]


def broadcast_module(module: torch.nn.Module) -> None:
    """Rank 0's parameters and buffers on every rank (the same start, as DDP makes it)."""
    if not active():
        return
    with collective("a broadcast of the model from rank 0"):
        for t in [*module.parameters(), *module.buffers()]:
            dist.broadcast(t.data, src=0)
