"""Sparse embedding gradients (``optim.sparse_embeddings``) averaged over the ranks.

A table's sparse gradient on a rank holds the rows its share of the batch looked up. The global
gradient is the mean over ranks of these, on the union of their rows: one process on the whole
batch gives the same rows (SparseAdam advances the moments of exactly the rows looked up, so the
union must be that of the *indices*, not of the non-zero values) and the same sums.

How: each rank coalesces its gradient, the ranks all-gather the row indices (8 bytes a row), and
every rank writes its values into a dense ``[U, D]`` block over the union's ``U`` rows (zeros
where it has none); these blocks join the dense gradients' one all-reduce
(:func:`mtfw.distributed.average_gradients`), so a step still makes one large all-reduce. The
result is the dense path's exact mean (the same float sums) and, being one all-reduce's output,
the same bits on every rank: every rank's SparseAdam takes the same step.

Why not the alternatives: a dense all-reduce of the whole table costs its ``V x D`` floats per
step (the tables that need sparse updates are the large ones); gloo's sparse all-reduce (which
works in torch 2.13) all-gathers every rank's indices *and values*, whose volume grows with the
number of ranks (an all-reduce's stays about ``2 U D`` floats), takes one call per table and has
no NCCL counterpart.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import Tensor

from mtfw.distributed.collectives import gather_rows
from mtfw.distributed.group import device


def touched_rows(params: Sequence[Tensor]) -> list[Tensor]:
    """For each table, the sorted union over the ranks of the rows its gradient holds (one
    all-gather for all tables; a rank whose ``.grad`` is None adds none)."""
    offsets = [0, *itertools.accumulate(len(p) for p in params)]
    mine = [p.grad.coalesce().indices()[0].to(device()) + offsets[i] if p.grad is not None
            else torch.zeros(0, dtype=torch.long, device=device())
            for i, p in enumerate(params)]  # fmt: skip
    union = torch.unique(gather_rows(torch.cat(mine)))  # sorted: the same on every rank
    bounds = torch.searchsorted(union, torch.tensor(offsets, device=union.device)).tolist()
    pairs = enumerate(itertools.pairwise(bounds))
    return [union[a:b] - offsets[i] for i, (a, b) in pairs]


def dense_rows(p: Tensor, rows: Tensor) -> Tensor:
    """``p``'s gradient on ``rows`` (sorted) as a dense ``[len(rows), D]`` block, zero where this
    rank's gradient has no entry."""
    block = torch.zeros((len(rows), *p.shape[1:]), dtype=torch.float32, device=p.device)
    if p.grad is not None:
        grad = p.grad.coalesce()
        at = torch.searchsorted(rows.to(p.device), grad.indices()[0])
        block.index_copy_(0, at, grad.values().float())
    return block


def sparse_grad(p: Tensor, rows: Tensor, block: Tensor) -> Tensor:
    """The averaged ``block`` as ``p``'s sparse gradient on ``rows`` (coalesced: sorted, unique)."""
    indices = rows.to(p.device)[None]
    values = block.view(len(rows), *p.shape[1:]).to(p.dtype)
    return torch.sparse_coo_tensor(
        indices, values, p.shape, is_coalesced=True, check_invariants=False
    )  # sorted and unique by construction
