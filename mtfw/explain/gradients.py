"""Integrated gradients on the field embeddings (Sundararajan, Taly & Yan, ICML 2017), through
Captum.

For each evaluation batch and task, the attributed function maps the embedded input to one
number per row of the task's evaluation output (``embedded.row_scalar``); the baseline is the
all-zero embedded input (a zero vector for every embedded field, the train mean for every
standardised numeric feature). A field's attribution in a row is the sum of its columns'
attributions; per task the table holds the mean over rows of its absolute value, divided by the
sum of these over every field of the model (so a task's fields share 1 and tasks compare)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mtfw.data.batch import Batch, Split
from mtfw.errors import ConfigError
from mtfw.explain.embedded import GivenInput, inputs_replaced, row_scalar, tiled
from mtfw.explain.fields import Field
from mtfw.explain.permutation import Importance
from mtfw.trainer.evaluate import eval_mode

INSTALL = "pip install 'mtfw[explain]'"
STEPS = 32  # points on the path from the baseline (Gauss-Legendre, Captum's default)
CHUNK = 4  # path points per forward pass


def require_captum() -> None:
    """A ConfigError with the pip command when Captum is not installed."""
    try:
        import captum.attr  # noqa: F401
    except ImportError:
        raise ConfigError(
            "mtfw explain: methods=integrated_gradients needs Captum, which is not installed "
            f"here. Install it with: {INSTALL} (or pip install captum), or leave the method "
            "out: methods=permutation"
        ) from None


def task_function(model: nn.Module, given: GivenInput, batch: Batch, task: str) -> Callable:
    """The embedded input ``[N, ...]`` -> task ``task``'s output per row of ``batch`` ``[N]``,
    with ``batch`` repeated as often as the input stacks it."""

    def forward(x: Tensor) -> Tensor:
        given.value = x
        stacked = tiled(batch, x.shape[0] // len(batch))
        return row_scalar(model.eval_outputs(stacked)[task], stacked.inputs, x.shape[0])

    return forward


def summed(forward: Callable) -> Callable:
    """``forward`` summed over the rows, ``[1]``. In evaluation mode the rows are independent,
    so the gradient of the sum is every row's own gradient: one backward pass per chunk of the
    path instead of Captum's one output per row (``torch.unbind``: a Python object per row)."""
    return lambda x: forward(x).sum()[None]


@dataclass
class Attribution:
    """Per task: the sum over rows of each field's |attribution| and of its square ``[F_all]``,
    the rows seen, and the largest completeness gap of a row, |sum of its attributions -
    (f(x) - f(0))|, relative to the mean |f(x) - f(0)| of its batch."""

    total: Tensor
    squares: Tensor
    rows: int = 0
    gap: float = 0.0


def field_sums(attribution: Tensor, fields: list[Field]) -> Tensor:
    """``[B, ...]`` column attributions -> ``[B, F]`` per field (per-task copies summed)."""
    flat = attribution.reshape(attribution.shape[0], -1, attribution.shape[-1]).sum(1)
    return torch.stack([flat[:, f.columns].sum(1) for f in fields], dim=1)


def integrated_gradients(
    model: nn.Module, tasks: list[str], split: Split, fields: list[Field], batch_size: int
) -> dict[str, Attribution]:
    """Attributions of ``fields`` (every field of the model: the normaliser needs them all) per
    task, over every row of ``split``, dropout off."""
    from captum.attr import IntegratedGradients

    found = {t: Attribution(torch.zeros(len(fields)), torch.zeros(len(fields))) for t in tasks}
    given, embed = GivenInput(), model.inputs
    with eval_mode(model), torch.enable_grad():
        for batch in split.batches(batch_size):
            with torch.no_grad():
                x = embed(batch.inputs, model.items)
            with inputs_replaced(model, given):
                for task in tasks:
                    forward = task_function(model, given, batch, task)
                    attribution = IntegratedGradients(summed(forward)).attribute(
                        x, baselines=torch.zeros_like(x), n_steps=STEPS,
                        internal_batch_size=len(x) * CHUNK,
                    ).detach()  # fmt: skip
                    with torch.no_grad():  # completeness: sum of attributions = f(x) - f(0)
                        change = forward(x) - forward(torch.zeros_like(x))
                    total = attribution.reshape(len(x), -1).sum(1)
                    per_field = field_sums(attribution, fields).abs().cpu().double()
                    record = found[task]
                    record.total += per_field.sum(0)
                    record.squares += (per_field**2).sum(0)
                    record.rows += len(x)
                    gap = float((total - change).abs().max() / change.abs().mean().clamp(min=1e-12))
                    record.gap = max(record.gap, gap)
    return found


def importances(
    found: dict[str, Attribution], fields: list[Field], selected: list[Field]
) -> list[Importance]:
    """Normalised per task: mean |attribution| of a field over the sum over every field of the
    model; its std the standard deviation over rows of the same normalised per-row value."""
    out = []
    wanted = {f.name for f in selected}
    for task, record in found.items():
        n = max(record.rows, 1)
        mean = record.total / n
        scale = float(mean.sum()) or 1.0
        std = (record.squares / n - mean**2).clamp(min=0).sqrt()
        for i, name in enumerate(f.name for f in fields):
            if name not in wanted:
                continue
            value, spread = float(mean[i]) / scale, float(std[i]) / scale
            out.append(Importance(task, name, "integrated_gradients", value, spread, "share"))
    return out
