"""Turn a composed config into the objects of a run: tasks, data, model, weighting, optimizer.

The one path for every dataset: the tasks say what they require and need; the data set, built
from ``data:``, says what it provides and prepares what was asked; the model is an input module
for that data, the encoder and the tasks' heads (or a classical recommender); the weighting and
optimizer go around it. ``check_config`` (``mtfw/checks.py``) runs first, before data loads.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from mtfw import registry
from mtfw.baselines.fit import BaselineFitter
from mtfw.candidates.gan_source import build_candidates
from mtfw.candidates.settings import candidate_settings
from mtfw.checks import build_tasks, check_config, ranking_cutoffs
from mtfw.data import DataNeeds, PreparedData, merge_needs
from mtfw.data.batch import Batch, Inputs
from mtfw.errors import ConfigError
from mtfw.features import vae_settings
from mtfw.features.vae import fit_latent_features
from mtfw.models import InputEmbedding, MultiTaskModel, PerTaskInputs
from mtfw.models.heads import HeadContext
from mtfw.models.items import ItemEmbedding
from mtfw.tasks import Task
from mtfw.trainer.compilation import check_compile, compile_model
from mtfw.trainer.experiment import Experiment
from mtfw.trainer.loop import GradientFitter
from mtfw.trainer.precision import check_precision
from mtfw.trainer.sparse_embeddings import build_optimizer, check_sparse_embeddings

__all__ = ["Experiment", "build_experiment", "build_model", "build_tasks", "check_config"]


def label_views(data: PreparedData) -> dict[str, Batch]:
    """The labels (and masks) of every split that holds them as columns, as batches without
    inputs: flat tables' splits and the training interactions."""
    empty = Inputs(torch.zeros(0, 0, dtype=torch.long), torch.zeros(0, 0))
    columns = {name: split.label_columns() for name, split in data.splits.items()}
    return {name: Batch(empty, *found) for name, found in columns.items() if found is not None}


def check_labelled(task: Task, views: dict[str, Batch]) -> None:
    """A task with no labelled sample in a split can be neither trained nor measured there."""
    for split, view in views.items():
        if task.label in view.labels and task.labelled_targets(view).numel() == 0:
            raise ConfigError(
                f"task '{task.name}' has no labelled sample in the {split} split: label "
                f"'{task.label}' is missing in all {len(view.labels[task.label]):,} rows there. "
                "Check the label's column and its where:/mask_missing, or data.split's shares"
            )


def prepare_data(cfg: DictConfig, tasks: dict[str, Task]) -> PreparedData:
    """Build the dataset and prepare what the tasks need; check the labels suit the tasks and
    fit the tasks' label statistics on train (saved with the model's weights)."""
    dataset = registry.build("data", cfg.data, where="data")
    needs: DataNeeds = merge_needs({n: t.needs() for n, t in tasks.items()})
    history = cfg.get("history")
    if history is not None and cfg.get("baseline") is None:  # packed training, if it asks
        asked = registry.get("history", history.name).data_needs(history)
        needs = needs.merged(asked, (", ".join(tasks), f"history={history.name}"))
    data = dataset.prepare(needs)
    views = label_views(data)
    for task in tasks.values():
        task.check_labels(data.splits["train"].labels)
        task.fit_labels(views)
        check_labelled(task, views)
    for task in tasks.values():  # evaluated on another task's output: read in that task's units
        source = tasks.get(task.output_of) if task.output_of else None
        if source is not None and source.scale is not None:
            task.scale = source.scale
    return data


def build_model(
    cfg: DictConfig, tasks: dict[str, Task], data: PreparedData, restoring: bool = False
) -> nn.Module:
    """The network (input module -> encoder -> heads), or the classical recommender; the VAE
    latent features (``features.vae``) are fitted first, on the training split (``restoring``:
    not fitted, the saved model's weights will fill them)."""
    if cfg.get("baseline") is not None:
        torch.manual_seed(cfg.seed)  # model initialisation depends only on the seed
        return registry.build("baseline", cfg.baseline, where="baseline", seed=cfg.seed,
                              task_names=list(tasks))  # fmt: skip
    latent = fit_latent_features(vae_settings(cfg), data, fit=not restoring)  # {side: encoder}
    torch.manual_seed(cfg.seed)
    context, dim = data.context, cfg.embedding.dim
    items = None
    if context.items is not None:  # interaction data: the item side, built first
        items = ItemEmbedding(context.items, context.item_inputs, dim, latent.get("item"))
    history = cfg.get("history") or {"name": "none"}

    def input_module() -> InputEmbedding:
        encoder = registry.build(
            "history", history, where="history", dim=dim, length=context.inputs.history_length
        )
        return InputEmbedding(context.inputs, dim, encoder, latent.get("user"))

    aliases = {n: t.output_of for n, t in tasks.items() if t.output_of}
    names = [n for n in tasks if n not in aliases]  # the tasks the encoder represents
    if registry.get("encoder", cfg.encoder.name).independent_inputs:  # nothing shared
        inputs = PerTaskInputs([input_module() for _ in names])
    else:
        inputs = input_module()
    encoder = registry.build(
        "encoder", cfg.encoder, where="encoder", in_dim=inputs.out_dim, task_names=names,
        layout=inputs.layout,
    )  # fmt: skip
    skip = encoder.borrowed_heads() | set(aliases)
    head_context = HeadContext(encoder.out_dim, dim, context)
    heads = {n: t.head(head_context) for n, t in tasks.items() if n not in skip}
    return MultiTaskModel(inputs, encoder, heads, aliases, items)


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"trainer.device={name} but CUDA is not available here; use auto or cpu")
    return torch.device(name)


def build_experiment(cfg: DictConfig, restoring: bool = False) -> Experiment:
    """``restoring``: the run's saved weights will be loaded (no learned features are fitted)."""
    trainer, tasks, higher = check_config(cfg)
    compiling = trainer.compile and not restoring and cfg.get("baseline") is None
    if compiling:  # a missing C++ compiler, or torchrun: refused before any data loads
        check_compile(trainer, resolve_device(trainer.device))
    if cfg.get("baseline") is None:  # bf16 on a GPU without it: refused before data loads
        check_precision(trainer.precision, resolve_device(trainer.device))
    check_sparse_embeddings(cfg, trainer)  # refused combinations, before any data loads
    data = prepare_data(cfg, tasks)
    model = build_model(cfg, tasks, data, restoring)
    if cfg.get("baseline") is not None:  # fitted by its own algorithm, on the CPU
        return Experiment(cfg, trainer, tasks, data, model, None, None, torch.device("cpu"),
                          higher, BaselineFitter())  # fmt: skip
    trained = {n: t for n, t in tasks.items() if t.train}
    weighting = registry.build(
        "weighting", cfg.weighting, where="weighting",
        task_names=list(trained), task_weights=[t.weight for t in trained.values()],
    )  # fmt: skip
    device = resolve_device(trainer.device)
    model.to(device), weighting.to(device)
    if compiling:
        compile_model(model)  # in place: parameter names and state dicts stay the plain model's
    data.splits = {name: split.to(device) for name, split in data.splits.items()}
    optimizer = build_optimizer(cfg, model, weighting.parameters())
    candidates = build_candidates(cfg, candidate_settings(cfg), data, list(ranking_cutoffs(tasks)))
    return Experiment(
        cfg, trainer, tasks, data, model, weighting, optimizer, device, higher, GradientFitter(),
        None if candidates is None else candidates.to(device),
    )  # fmt: skip
