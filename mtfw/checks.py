"""What ``check_config`` verifies before any data is loaded, so a mistake costs milliseconds:
every component node against the registry, the run's own settings, the tasks (built here: they
are config), the fit of tasks, encoder, history and baseline to the data
(``requires - provides``), the tasks' merged needs, and the monitored validation key."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from mtfw import registry
from mtfw.candidates.settings import check_candidates
from mtfw.data import merge_needs
from mtfw.data.dataset import describe
from mtfw.errors import ConfigError
from mtfw.features.settings import check_vae_fits, vae_settings
from mtfw.metrics import AGGREGATES, higher_is_better
from mtfw.tasks import Task
from mtfw.trainer.config import TrainerConfig
from mtfw.value_types import check_range, check_types


def build_tasks(cfg: DictConfig) -> dict[str, Task]:
    if not cfg.get("task"):
        raise ConfigError("no task selected: choose at least one, e.g. 'task=[income,marital]'")
    taken = [name for name in cfg.task if name in AGGREGATES]
    if taken:
        raise ConfigError(
            f"a task may not be named '{taken[0]}': <split>/{taken[0]}/... keys aggregate over the "
            f"tasks ({', '.join(AGGREGATES)} are reserved); rename the task"
        )
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
    if any(task.train and "loss" in task.eval_keys() for task in tasks.values()):
        keys.add("val/weighted/loss")
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
    if baseline is not None:  # the data first: a baseline on a flat table needs other data
        parts.insert(0, (f"baseline={baseline.name}",
                         registry.get("baseline", baseline.name).requires))  # fmt: skip
    else:
        history = (cfg.get("history") or {}).get("name", "none")
        encoder = registry.get("encoder", cfg.encoder.name)
        parts.append((f"encoder={cfg.encoder.name}", encoder.requires))
        parts.append((f"history={history}", registry.get("history", history).requires))
    grouped = {n: t.grouped for n, t in tasks.items() if t.grouped}
    if grouped and cfg.data.get("user_id") is None:
        name, metrics = next(iter(grouped.items()))
        raise ConfigError(
            f"task '{name}' asks for {', '.join(metrics)} (AUC per user, weighted by each user's "
            f"samples), which needs the data to declare whose row each is, but data="
            f"{cfg.data.name} has no data.user_id. A flat table (name: tabular) declares its user "
            "column with data.user_id=<column>; otherwise drop the metric from "
            f"task.{name}.metrics"
        )
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
    if baseline is not None:
        model = registry.get("baseline", baseline.name)
        others = [n for n, t in tasks.items() if t.output != model.outputs_kind]
        if others:
            raise ConfigError(
                f"baseline={baseline.name} produces rankings only (every catalogue item scored "
                f"per user); drop task(s) {', '.join(others)} (use 'task=[ranking]')"
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
    if vae_settings(cfg) is not None:
        check_vae_fits(cfg, registry.get("data", cfg.data.name).provides)
    merge_needs({n: t.needs() for n, t in tasks.items()})  # conflicting needs fail here
    trainer = TrainerConfig.from_config(cfg.trainer)
    check_candidates(cfg, ranking_cutoffs(tasks))  # a GAN run to re-rank: found and matched
    return trainer, tasks, monitor_direction(trainer, tasks)


def ranking_cutoffs(tasks: dict[str, Task]) -> dict[str, list[int]]:
    """The tasks that rank the whole catalogue, with their cut-offs ``k``."""
    return {n: list(t.k) for n, t in tasks.items() if t.output == "item_scores"}
