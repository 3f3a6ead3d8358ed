"""Permutation importance: how much a task's own metric worsens when one input field is shuffled
across the split's rows (Breiman 2001; Fisher, Rudin & Dominici 2019).

The split's embedded input is computed once; for each (field, repeat) the field's columns are
permuted across all rows with a seeded generator and the split is evaluated by the trainer's own
evaluation loop, one pass for every task at once, so the metrics are those the run reports.
Shuffling a field's embedded columns is shuffling the field itself: each row's embedding is a
function of that row's value of the field alone."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mtfw.data.batch import Split
from mtfw.data.prepared import DataContext
from mtfw.explain.embedded import SplitRows, embed_split, inputs_replaced
from mtfw.explain.fields import Field
from mtfw.metrics import higher_is_better
from mtfw.tasks import Task
from mtfw.trainer.evaluate import evaluate


@dataclass(frozen=True)
class Importance:
    """One cell of the task x field table: ``value`` (mean over repeats or samples) and its
    spread ``std``; ``metric`` the quantity it is measured in."""

    task: str
    field: str
    method: str
    value: float
    std: float
    metric: str


def field_generator(seed: int, field: Field) -> torch.Generator:
    """The permutations of one field: from the seed and the field's place in the input layout
    only, so selecting fewer fields (``fields=``) leaves each field's numbers unchanged."""
    return torch.Generator().manual_seed(seed * 1_000_003 + field.position)


def worsening(task_metric: str, base: float, shuffled: float) -> float:
    """The metric's change towards worse (drop in AUC, rise in RMSE): positive = the field
    matters."""
    return base - shuffled if higher_is_better(task_metric) else shuffled - base


def permutation_importance(
    model: nn.Module,
    tasks: dict[str, Task],
    split: Split,
    context: DataContext,
    fields: list[Field],
    repeats: int,
    seed: int,
    batch_size: int,
) -> list[Importance]:
    """Per task and field the mean and sample standard deviation, over ``repeats`` shuffles, of
    the worsening of the task's primary metric (``task.primary_metric()``) on ``split``."""
    metrics = {name: task.primary_metric() for name, task in tasks.items()}
    base = evaluate(model, tasks, split, "split", batch_size, context)
    rows = embed_split(model, split, batch_size)
    out = []
    for field in fields:
        generator, changes = field_generator(seed, field), {name: [] for name in tasks}
        for _ in range(repeats):
            order = torch.randperm(len(rows), generator=generator).to(rows.device)
            shuffled = rows.clone()
            shuffled[..., field.columns] = rows[order][..., field.columns]
            with inputs_replaced(model, SplitRows(shuffled)):
                result = evaluate(model, tasks, split, "split", batch_size, context)
            for name, metric in metrics.items():
                key = f"split/{name}/{metric}"
                changes[name].append(worsening(metric, base[key], result[key]))
        for name, values in changes.items():
            finite = [v for v in values if not math.isnan(v)]
            mean = float(np.mean(finite)) if finite else math.nan
            std = float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0
            out.append(Importance(name, field.name, "permutation", mean, std, metrics[name]))
    return out
