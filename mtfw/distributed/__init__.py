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

from mtfw.distributed.collectives import (
    all_reduce,
    broadcast_module,
    broadcast_object,
    gather_objects,
    gather_rows,
    shares,
)
from mtfw.distributed.gradients import average_gradients, global_losses
from mtfw.distributed.group import (
    RankLost,
    active,
    device,
    is_main,
    launched,
    part,
    rank,
    size,
    start,
    stop,
    traffic,
)

__all__ = [
    "RankLost",
    "active",
    "all_reduce",
    "average_gradients",
    "broadcast_module",
    "broadcast_object",
    "device",
    "gather_objects",
    "gather_rows",
    "global_losses",
    "is_main",
    "launched",
    "part",
    "rank",
    "shares",
    "size",
    "start",
    "stop",
    "traffic",
]
