"""Moving data to the training device: pinned memory and non-blocking copies to a GPU.

A CPU tensor bound for a CUDA device is copied into page-locked (pinned) memory and sent with
``non_blocking=True``: the copy runs by DMA while the host goes on queueing work (the kernels
that read it are queued after it on the same stream, so they see the data). On the CPU, or for a
tensor already on its device, nothing is copied: the tensor itself is returned.
"""

from __future__ import annotations

import torch
from torch import Tensor


def to_device(t: Tensor, device: torch.device | str) -> Tensor:
    """``t`` on ``device``; a CPU tensor bound for CUDA goes through pinned memory, async."""
    device = torch.device(device)
    if device.type == "cuda" and t.device.type == "cpu":
        return t.pin_memory().to(device, non_blocking=True)
    return t.to(device)
