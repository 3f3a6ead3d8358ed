"""Evaluation on interaction data: every evaluated user against the whole catalogue, in user
batches (``[B, I]`` score matrices), never a Python loop over users or items."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from mtfw.recsys.model import RecModel
from mtfw.recsys.sets import RecEvalSet
from mtfw.recsys.tasks import InteractionTask
from mtfw.trainer.evaluate import eval_mode, keyed_with_means


def merge(parts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    return {k: torch.cat([p[k].cpu() for p in parts]) for k in parts[0]} if parts else {}


def summarise(
    tasks: dict[str, InteractionTask], collected: dict[str, list], data: RecEvalSet, split: str
) -> dict[str, float]:
    """``{'<split>/<task>/<metric>': value}`` plus ``<split>/mean/<metric>`` over the tasks."""
    per_task = {name: task.summarise(merge(collected[name]), data) for name, task in tasks.items()}
    return keyed_with_means(per_task, split)


@torch.no_grad()
def evaluate_rec(
    model: RecModel,
    tasks: dict[str, InteractionTask],
    data: RecEvalSet,
    split: str,
    batch_size: int,
) -> dict[str, float]:
    collected: dict[str, list] = {name: [] for name in tasks}
    with eval_mode(model):
        vectors = model.items.all()
        for start in range(0, len(data), batch_size):
            rows = slice(start, min(start + batch_size, len(data)))
            reps = model.represent_batch(data.users.take(rows))
            for name, task in tasks.items():
                part = task.collect(model.heads[name], reps[name], model.items, vectors, data, rows)
                collected[name].append(part)
    return summarise(tasks, collected, data, split)


def evaluate_scores(
    score: Callable[[RecEvalSet, slice], Tensor],
    tasks: dict[str, InteractionTask],
    data: RecEvalSet,
    split: str,
    batch_size: int,
) -> dict[str, float]:
    """The ranking metrics of a scoring function ``score(data, rows) -> [B, I]`` (a baseline)."""
    collected = {name: [] for name in tasks}
    for start in range(0, len(data), batch_size):
        rows = slice(start, min(start + batch_size, len(data)))
        scores = score(data, rows)
        for name, task in tasks.items():
            collected[name].append(task.collect_scores(scores, data, rows))
    return summarise(tasks, collected, data, split)
