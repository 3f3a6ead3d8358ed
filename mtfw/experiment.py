"""Turn a composed config into the objects of a run: tasks, data, model, weighting, optimizer.

The one path for every dataset: the tasks say what they require and need; the data set, built
from ``data:``, says what it provides and prepares what was asked; the model is an input module
for that data, the encoder and the tasks' heads (or a classical recommender); the weighting and
optimizer go around it. ``check_config`` validates every component node and the fit of data,
tasks, encoder and history before any data is loaded, so a mistake costs milliseconds.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from mtfw import registry
from mtfw.baselines.fit import BaselineFitter
from mtfw.data import DataNeeds, PreparedData, merge_needs
from mtfw.data.dataset import describe
from mtfw.errors import ConfigError
from mtfw.metrics import higher_is_better
from mtfw.models import InputEmbedding, MultiTaskModel, PerTaskInputs
from mtfw.models.heads import HeadContext
from mtfw.models.items import ItemEmbedding
from mtfw.tasks import Task
from mtfw.trainer.config import TrainerConfig
from mtfw.trainer.experiment import Experiment
from mtfw.trainer.loop import GradientFitter
from mtfw.value_types import check_range, check_types

__all__ = ["Experiment", "build_experiment", "build_model", "build_tasks", "check_config"]


def build_tasks(cfg: DictConfig) -> dict[str, Task]:
    if not cfg.get("task"):
        raise ConfigError("no task selected: choose at least one, e.g. 'task=[income,marital]'")
    tasks = {
        name: registry.build("task", node, where=f"task.{name}", name=name)
        for name, node in cfg.task.items()
    }
    if not any(task.train for task in tasks.values()):
        raise ConfigError("every selected task has train: false; at least one must be trained")
    for name, task in tasks.items():  # checked here, before any data is loaded
        source = task.output_of
        if source is not None and (source not in tasks or tasks[source].output_of):
            raise ConfigError(
                f"task.{name}.output_of='{source}' is not a selected task with a head of its "
                f"own; selected: {', '.join(tasks)}"
            )
    return tasks


def monitor_direction(trainer: TrainerConfig, tasks: dict[str, Task]) -> bool:
    """Check that ``trainer.monitor`` is a key the evaluation produces; True if higher is better."""
    keys = {f"val/{t}/{m}" for t, task in tasks.items() for m in task.eval_keys()}
    keys |= {f"val/mean/{k.rsplit('/', 1)[1]}" for k in keys}
    if trainer.monitor not in keys:
        raise ConfigError(
            f"trainer.monitor='{trainer.monitor}' is not a validation key of these tasks; "
            f"choose one of: {', '.join(sorted(keys))}."
            f"{registry.closest(trainer.monitor, list(keys))}"
        )
    if trainer.mode != "auto":
        return trainer.mode == "max"
    return higher_is_better(trainer.monitor.rsplit("/", 1)[1])


def check_fit(cfg: DictConfig, tasks: dict[str, Task]) -> None:
    """What the tasks, the model's parts and a baseline require must be what the data provides:
    ``requires - provides``, one message naming what, the missing part and who provides it."""
    provides = registry.get("data", cfg.data.name).provides
    parts = [(f"task '{n}' ({t.registry_name})", t.requires) for n, t in tasks.items()]
    baseline = cfg.get("baseline")
    if baseline is not None:
        model = registry.get("baseline", baseline.name)
        parts.append((f"baseline={baseline.name}", model.requires))
        others = [n for n, t in tasks.items() if t.output != model.outputs_kind]
        if others:
            raise ConfigError(
                f"baseline={baseline.name} produces rankings only (every catalogue item scored "
                f"per user); drop task(s) {', '.join(others)} (use 'task=[ranking]')"
            )
    else:
        history = (cfg.get("history") or {}).get("name", "none")
        encoder = registry.get("encoder", cfg.encoder.name)
        parts.append((f"encoder={cfg.encoder.name}", encoder.requires))
        parts.append((f"history={history}", registry.get("history", history).requires))
    for what, requires in parts:
        missing = requires - provides
        if missing:
            data_sets = registry.names("data")
            able = [n for n in data_sets if missing <= registry.get("data", n).provides]
            raise ConfigError(
                f"{what} needs {describe(missing)}, which data={cfg.data.name} does not "
                f"provide (it is {describe(provides)}); data sets that provide it: "
                f"{', '.join(able) or 'none registered'}"
            )


REQUIRED = ("data", "encoder", "task", "weighting", "optim", "trainer", "embedding", "seed")


def check_run_settings(cfg: DictConfig) -> None:
    """The nodes every run needs, the seed and the embedding size; the optimizer's settings, by
    building it on a stand-in parameter (cheap, and before any data is loaded)."""
    missing = [key for key in REQUIRED if cfg.get(key) is None]
    if missing:
        raise ConfigError(
            f"the config has no {', '.join(missing)} (removed with '~{missing[0]}'?): every run "
            f"needs {', '.join(REQUIRED)}"
        )
    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool):
        raise ConfigError(f"seed={cfg.seed!r}: expected a whole number")
    check_types(dict(cfg.embedding), {"dim": int}, "embedding")
    check_range("embedding.dim", cfg.embedding.dim, low=1)
    registry.build("optim", cfg.optim, where="optim", params=[torch.zeros(1, requires_grad=True)])


def check_config(cfg: DictConfig) -> tuple[TrainerConfig, dict[str, Task], bool]:
    check_run_settings(cfg)
    for kind in ("data", "encoder", "weighting", "optim"):
        registry.check(kind, cfg[kind], where=kind)
    for kind in ("history", "baseline"):
        if cfg.get(kind) is not None:
            registry.check(kind, cfg[kind], where=kind)
    tasks = build_tasks(cfg)
    check_fit(cfg, tasks)
    merge_needs({n: t.needs() for n, t in tasks.items()})  # conflicting needs fail here
    trainer = TrainerConfig.from_config(cfg.trainer)
    return trainer, tasks, monitor_direction(trainer, tasks)


def prepare_data(cfg: DictConfig, tasks: dict[str, Task]) -> PreparedData:
    """Build the dataset and prepare what the tasks need; check the labels suit the tasks."""
    dataset = registry.build("data", cfg.data, where="data")
    needs: DataNeeds = merge_needs({n: t.needs() for n, t in tasks.items()})
    data = dataset.prepare(needs)
    for task in tasks.values():
        task.check_labels(data.splits["train"].labels)
    return data


def build_model(cfg: DictConfig, tasks: dict[str, Task], data: PreparedData) -> nn.Module:
    """The network (input module -> encoder -> heads), or the classical recommender."""
    torch.manual_seed(cfg.seed)  # model initialisation depends only on the seed
    if cfg.get("baseline") is not None:
        return registry.build("baseline", cfg.baseline, where="baseline", seed=cfg.seed,
                              task_names=list(tasks))  # fmt: skip
    context, dim = data.context, cfg.embedding.dim
    items = None
    if context.items is not None:  # interaction data: the item side, built first
        items = ItemEmbedding(context.items, context.item_inputs, dim)
    history = cfg.get("history") or {"name": "none"}

    def input_module() -> InputEmbedding:
        encoder = registry.build(
            "history", history, where="history", dim=dim, length=context.inputs.history_length
        )
        return InputEmbedding(context.inputs, dim, encoder)

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


def build_experiment(cfg: DictConfig) -> Experiment:
    trainer, tasks, higher = check_config(cfg)
    data = prepare_data(cfg, tasks)
    model = build_model(cfg, tasks, data)
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
    data.splits = {name: split.to(device) for name, split in data.splits.items()}
    params = [*model.parameters(), *weighting.parameters()]
    optimizer = registry.build("optim", cfg.optim, where="optim", params=params)
    return Experiment(
        cfg, trainer, tasks, data, model, weighting, optimizer, device, higher, GradientFitter()
    )
