"""The one evaluation loop, for every dataset, model and task; the training loss of a batch; and
the gradient conflict between tasks.

For each evaluation batch (flat rows, or users ranked against the whole catalogue) the model
gives its evaluation outputs and each task *collects* what it needs (predictions and targets;
top-k lists and per-user hits); at the end each task *summarises* its parts into metrics, keyed
``<split>/<task>/<metric>`` with ``<split>/mean/<metric>`` over the tasks and
``<split>/weighted/loss``, the sum of ``task.<name>.weight`` x loss over the trained tasks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import combinations
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from mtfw import distributed
from mtfw.data.batch import Batch, Split, rank_batches
from mtfw.data.prepared import DataContext
from mtfw.metrics import is_per_category
from mtfw.tasks import Task
from mtfw.trainer.row_buffer import RowBuffer
from mtfw.weighting.gradient import cosine_matrix, task_gradients

if TYPE_CHECKING:
    from mtfw.candidates.gan_source import CandidateMix


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Dropout off for the block; the model's train/eval mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def batch_losses(model: nn.Module, tasks: dict[str, Task], batch: Batch) -> Tensor:
    """The training loss of each task on one batch, ``[T]`` in the order of ``tasks``: the mean
    over the samples that carry the task's label (PLE, Eq. 9) plus any auxiliary loss."""
    outputs = model.outputs(batch)
    extra = model.auxiliary_losses(outputs)  # e.g. AITM's calibrator; usually empty
    return torch.stack([task.loss(outputs[n], batch) + extra.get(n, 0.0)
                        for n, task in tasks.items()])  # fmt: skip


def label_counts(tasks: dict[str, Task], batch: Batch) -> Tensor:
    """``[T]``: the samples behind each task's mean loss on ``batch`` (those carrying its label)."""
    masks, rows = [task.target(batch)[1] for task in tasks.values()], len(batch)
    device = batch.inputs.cat.device  # no copy to the CPU: no wait for the GPU in every step
    return torch.stack([torch.tensor(float(rows), device=device) if m is None else m.sum().float()
                        for m in masks])  # fmt: skip


def gradient_conflict(
    model: nn.Module, tasks: dict[str, Task], split: Split, batch_size: int
) -> dict[str, float]:
    """:func:`gradient_cosines` on the first ``batch_size`` rows of ``split`` (once per epoch)."""
    if len(split) == 0:
        return {}
    return gradient_cosines(model, tasks, split.take(slice(0, batch_size)))


def gradient_cosines(model: nn.Module, tasks: dict[str, Task], batch: Batch) -> dict[str, float]:
    """Cosine similarity of every pair of task gradients on the shared parameters,
    ``grad_cos/<a>~<b>`` (negative: the tasks conflict), on ``batch`` with dropout off. Measured
    the same way whatever the weighting method; empty with fewer than two tasks or nothing
    shared. Leaves ``.grad`` and the random state untouched (no dropout mask is drawn)."""
    shared = [p for p in model.shared_parameters() if p.requires_grad]
    if len(tasks) < 2 or not shared:
        return {}
    with eval_mode(model), torch.enable_grad():
        losses = batch_losses(model, tasks, batch)
        grads = task_gradients(losses, shared)
    cosine = cosine_matrix(grads.double() @ grads.double().T)
    names = list(tasks)
    return {
        f"grad_cos/{names[i]}~{names[j]}": float(cosine[i, j])
        for i, j in combinations(range(len(names)), 2)
    }


def merge(parts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """One task's parts of every batch, concatenated (on the CPU)."""
    return {k: torch.cat([p[k].cpu() for p in parts]) for k in parts[0]} if parts else {}


@torch.no_grad()
def evaluate(
    model: nn.Module,
    tasks: dict[str, Task],
    split: Split,
    name: str,
    batch_size: int,
    context: DataContext,
    candidates: CandidateMix | None = None,
) -> dict[str, float]:
    """``{'<name>/<task>/<metric>': value}`` plus ``<name>/mean/<metric>`` over the tasks. With
    ``candidates``, a ranking task ranks the candidates of the run's source, and each reported
    source is keyed ``<name>/<task>.<source>/<metric>`` (left out of the means)."""
    reported = (
        {}
        if candidates is None
        else {f"{n}.{s}": tasks[n] for n in candidates.tasks for s in candidates.settings.report}
    )
    evaluated = {**tasks, **reported}
    buffers = {task: RowBuffer() for task in evaluated}  # not a list of parts: see row_buffer
    with eval_mode(model):
        for batch in rank_batches(split, batch_size):  # all batches in one process
            outputs = model.eval_outputs(batch)
            if candidates is not None:
                outputs = candidates.apply(outputs, batch.inputs, batch.labels.get("unranked"))
            for task_name, task in evaluated.items():
                buffers[task_name].append(task.collect(outputs[task_name], batch))
        vectors = model.item_vectors()
    collected = {n: b.parts() for n, b in buffers.items()}
    if distributed.active():  # every rank's parts in batch order: one process's collection
        mine = {n: [{k: v.cpu() for k, v in p.items()} for p in c] for n, c in collected.items()}
        ranks = distributed.gather_objects(mine)
        collected = {n: [p for r in ranks for p in r[n]] for n in tasks}  # type: ignore[index]
    context = replace(context, item_vectors=None if vectors is None else vectors.cpu())
    per_task = {n: task.summarise(merge(collected[n]), context) for n, task in evaluated.items()}
    own = {n: per_task[n] for n in tasks}
    extra = {f"{name}/{n}/{m}": v for n in reported for m, v in per_task[n].items()}
    return {**keyed_with_means(own, name), **weighted_loss(own, tasks, name), **extra}


def weighted_loss(
    per_task: dict[str, dict[str, float]], tasks: dict[str, Task], split: str
) -> dict[str, float]:
    """``<split>/weighted/loss``: the sum over the trained tasks of ``task.<name>.weight`` x the
    task's loss (the objective of static weighting; NaN losses left out, as in the mean). Empty
    when no trained task reports a loss (ranking tasks report ranking metrics only)."""
    terms = [task.weight * per_task[n]["loss"] for n, task in tasks.items()
             if task.train and "loss" in per_task[n]]  # fmt: skip
    if not terms:
        return {}
    finite = [v for v in terms if not math.isnan(v)]
    return {f"{split}/weighted/loss": math.fsum(finite) if finite else math.nan}


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
