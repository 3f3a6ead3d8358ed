"""When training has diverged: a task loss that is NaN/inf, or a million times its first value.

NaN is not the only way a run fails (``optim.lr=1e6`` gave a validation loss of 4e25 and status
"completed"): a loss ``EXPLODED`` times its value on the run's first step (at least 0.01, so a
near-zero first loss does not make every later one "exploded") stops the run with the last good
checkpoint kept. The first step is also where the tasks' loss scales are compared.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from mtfw.errors import TrainingDiverged
from mtfw.trainer.loss_scales import warn_if_scales_differ

EXPLODED = 1e6  # a loss this many times its first value (at least 0.01) has diverged


def divergence_limit(state: dict, tasks: list[str], losses: Tensor) -> Tensor:
    """``[T]`` losses beyond which a task has diverged, from the run's first losses (kept in
    ``state``, so a resumed run keeps its limit); warns on the first step if scales differ."""
    if "first_losses" not in state:  # the run's first step: losses on one scale?
        warn_if_scales_differ(tasks, losses)
    state.setdefault("first_losses", losses.detach().clamp(min=1e-2).tolist())
    return torch.tensor(state["first_losses"], device=losses.device) * EXPLODED


def check_diverged(
    losses: Tensor, limit: Tensor, tasks: list[str], epoch: int, state: dict
) -> None:
    """Raise ``TrainingDiverged`` naming the tasks whose loss is not finite or beyond ``limit``."""
    if (losses.abs() <= limit).all():  # NaN compares False: one test for NaN, inf and too big
        return
    values = losses.tolist()
    bad = [n for n, v, top in zip(tasks, values, limit.tolist(), strict=True)
           if not math.isfinite(v) or v > top]  # fmt: skip
    kept = f"checkpoint.pt of epoch {state['epoch']}" if state["epoch"] else "none yet"
    raise TrainingDiverged(
        f"loss of task(s) {', '.join(bad)} is {values} in epoch {epoch + 1}, step "
        f"{state['step']} (first losses {state['first_losses']}). Kept: the last good "
        f"checkpoint ({kept}) and the metrics so far. Lower optim.lr or set trainer.grad_clip"
    )
