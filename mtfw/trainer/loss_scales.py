"""A warning before training when the tasks' losses are on different scales.

The tasks share an encoder and, with static weighting, one objective ``sum_t w_t L_t``: a task
whose loss starts 10x larger than another's (an unstandardised rating's MSE of ~10 beside a
click's log-loss of ~0.5) owns the shared gradients and the selected epoch, and the small task
can stay at chance. Checked once, on the run's first training batch (a resumed run is not warned
twice); the run goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor

from mtfw.tracking.provenance import warn

RATIO = 10.0  # initial losses further apart than this are worth a warning
FLOOR = 1e-2  # a loss this small counts as this small (a near-perfect start is no scale)


def loss_scale_warning(names: Sequence[str], losses: Tensor) -> str | None:
    """The warning for these first losses ``[T]`` (one per trained task), or None."""
    values = [max(float(v), FLOOR) for v in losses.detach().cpu().tolist()]
    if len(values) < 2 or max(values) <= RATIO * min(values):
        return None
    listed = ", ".join(f"{n} {v:.4g}" for n, v in zip(names, values, strict=True))
    return (
        f"the tasks' first training losses differ by {max(values) / min(values):.0f}x ({listed}): "
        "the largest dominates the shared encoder's gradients and val/weighted/loss, and the "
        "others may stay at chance. Try standardize: true on regression tasks (the default), "
        "transform: log1p or name: count for a heavy-tailed count, task.<name>.weight to "
        "rebalance, or a scale-invariant weighting (weighting=uncertainty, weighting=db_mtl, "
        "weighting=famo)"
    )


def warn_if_scales_differ(names: Sequence[str], losses: Tensor) -> bool:
    """Warn (train.log, console, stderr) when the first losses differ by more than 10x."""
    message = loss_scale_warning(names, losses)
    if message is not None:
        warn(message)
    return message is not None
