"""Evaluation of every task on one split, in large batches, without gradients; the training loss
of a batch; and the gradient conflict between tasks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import combinations

import torch

from mtfw.data import Columns
from mtfw.metrics import is_per_category
from mtfw.models import MultiTaskModel
from mtfw.tasks import Task
from mtfw.weighting.gradient import cosine_matrix, task_gradients


@contextmanager
def eval_mode(model: MultiTaskModel) -> Iterator[None]:
    """Dropout off for the block; the model's train/eval mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def batch_losses(model: MultiTaskModel, tasks: dict[str, Task], batch: Columns) -> torch.Tensor:
    """The training loss of each task on one batch, ``[T]`` in the order of ``tasks``: the mean
    over the samples that carry the task's label (PLE, Eq. 9) plus any auxiliary loss."""
    outputs = model.outputs(batch)
    extra = model.auxiliary_losses(outputs)  # e.g. AITM's calibrator; usually empty
    return torch.stack([
        task.loss(outputs[n], batch.labels[task.label], batch.masks.get(task.label))
        + extra.get(n, 0.0)
        for n, task in tasks.items()
    ])  # fmt: skip


def gradient_conflict(
    model: MultiTaskModel, tasks: dict[str, Task], columns: Columns, batch_size: int
) -> dict[str, float]:
    """Cosine similarity of every pair of task gradients on the shared parameters,
    ``grad_cos/<a>~<b>`` (negative: the tasks conflict), on the first ``batch_size`` samples of
    ``columns`` with dropout off. Measured the same way whatever the weighting method; empty with
    fewer than two tasks or nothing shared. Leaves ``.grad`` and the random state untouched."""
    shared = [p for p in model.shared_parameters() if p.requires_grad]
    if len(tasks) < 2 or not shared or len(columns) == 0:
        return {}
    with eval_mode(model), torch.enable_grad():
        losses = batch_losses(model, tasks, columns.take(slice(0, batch_size)))
        grads = task_gradients(losses, shared)
    cosine = cosine_matrix(grads.double() @ grads.double().T)
    names = list(tasks)
    return {
        f"grad_cos/{names[i]}~{names[j]}": float(cosine[i, j])
        for i, j in combinations(range(len(names)), 2)
    }


@torch.no_grad()
def predict(model: MultiTaskModel, columns: Columns, batch_size: int) -> dict[str, torch.Tensor]:
    """Raw head outputs for a whole split, ``{task: [N]}`` on the CPU."""
    chunks: dict[str, list[torch.Tensor]] = {}
    with eval_mode(model):
        for batch in columns.batches(batch_size):
            for task, out in model.outputs(batch).items():
                chunks.setdefault(task, []).append(out.float().cpu())
    return {task: torch.cat(parts) for task, parts in chunks.items()}


def evaluate(
    model: MultiTaskModel, tasks: dict[str, Task], columns: Columns, split: str, batch_size: int
) -> dict[str, float]:
    """``{'<split>/<task>/<metric>': value}`` plus ``<split>/mean/<metric>`` over the tasks."""
    outputs = predict(model, columns, batch_size)
    per_task = {}
    for name, task in tasks.items():
        target = columns.labels[task.label].cpu()
        mask = columns.masks.get(task.label)
        mask = None if mask is None else mask.cpu()
        per_task[name] = task.evaluate(outputs[name], target, mask)
    return keyed_with_means(per_task, split)


def keyed_with_means(per_task: dict[str, dict[str, float]], split: str) -> dict[str, float]:
    """``{task: {metric: v}}`` -> ``<split>/<task>/<metric>`` keys plus ``<split>/mean/<metric>``,
    the mean over the tasks reporting that metric (NaN values and per-category ones left out)."""
    results: dict[str, float] = {}
    per_metric: dict[str, list[float]] = {}
    for name, metrics in per_task.items():
        for metric, value in metrics.items():
            results[f"{split}/{name}/{metric}"] = value
            if not is_per_category(metric):
                per_metric.setdefault(metric, []).append(value)
    for metric, values in per_metric.items():
        finite = [v for v in values if not math.isnan(v)]
        results[f"{split}/mean/{metric}"] = sum(finite) / len(finite) if finite else math.nan
    return results


@torch.no_grad()
def gate_utilisation(model: MultiTaskModel, columns: Columns, batch_size: int) -> dict[str, float]:
    """Mean gate weight per task and expert over a split (``gate/<task>/<expert>``); empty for
    encoders without gates. Reports plot these as expert-utilisation heatmaps."""
    sums: dict[str, torch.Tensor] = {}
    with eval_mode(model):
        for batch in columns.batches(batch_size):
            model.represent_batch(batch)
            for task, gates in (model.encoder.last_gates or {}).items():
                sums[task] = sums.get(task, 0) + gates.double().sum(0).cpu()
    return {
        f"gate/{task}/{e}": float(v) / len(columns)
        for task, total in sums.items()
        for e, v in enumerate(total)
    }
