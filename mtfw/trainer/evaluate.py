"""Evaluation of every task on one split, in large batches, without gradients."""

from __future__ import annotations

import math

import torch

from mtfw.data import Columns
from mtfw.models import MultiTaskModel
from mtfw.tasks import Task


@torch.no_grad()
def predict(model: MultiTaskModel, columns: Columns, batch_size: int) -> dict[str, torch.Tensor]:
    """Raw head outputs for a whole split, ``{task: [N]}`` on the CPU."""
    was_training = model.training
    model.eval()
    chunks: dict[str, list[torch.Tensor]] = {}
    for batch in columns.batches(batch_size):
        for task, out in model(batch.cat, batch.num).items():
            chunks.setdefault(task, []).append(out.float().cpu())
    model.train(was_training)
    return {task: torch.cat(parts) for task, parts in chunks.items()}


def evaluate(
    model: MultiTaskModel, tasks: dict[str, Task], columns: Columns, split: str, batch_size: int
) -> dict[str, float]:
    """``{'<split>/<task>/<metric>': value}`` plus ``<split>/mean/<metric>`` over the tasks."""
    outputs = predict(model, columns, batch_size)
    results: dict[str, float] = {}
    per_metric: dict[str, list[float]] = {}
    for name, task in tasks.items():
        target = columns.labels[task.label].cpu()
        mask = columns.masks.get(task.label)
        mask = None if mask is None else mask.cpu()
        for metric, value in task.evaluate(outputs[name], target, mask).items():
            results[f"{split}/{name}/{metric}"] = value
            per_metric.setdefault(metric, []).append(value)
    for metric, values in per_metric.items():
        finite = [v for v in values if not math.isnan(v)]
        results[f"{split}/mean/{metric}"] = sum(finite) / len(finite) if finite else math.nan
    return results


@torch.no_grad()
def gate_utilisation(model: MultiTaskModel, columns: Columns, batch_size: int) -> dict[str, float]:
    """Mean gate weight per task and expert over a split (``gate/<task>/<expert>``); empty for
    encoders without gates. Reports plot these as expert-utilisation heatmaps."""
    was_training = model.training
    model.eval()
    sums: dict[str, torch.Tensor] = {}
    for batch in columns.batches(batch_size):
        model.represent(batch.cat, batch.num)
        for task, gates in (model.encoder.last_gates or {}).items():
            sums[task] = sums.get(task, 0) + gates.double().sum(0).cpu()
    model.train(was_training)
    return {
        f"gate/{task}/{e}": float(v) / len(columns)
        for task, total in sums.items()
        for e, v in enumerate(total)
    }
