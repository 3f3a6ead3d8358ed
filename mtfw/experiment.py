"""Turn a composed config into the objects of a run: tasks, data, model, weighting, optimizer.

``check_config`` validates every component node against the registry before any data is loaded,
so a misspelt key costs milliseconds, not a data load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import torch
from omegaconf import DictConfig, OmegaConf

from mtfw import registry
from mtfw.data import Prepared, prepare
from mtfw.errors import ConfigError
from mtfw.metrics import higher_is_better
from mtfw.models import FeatureEmbedding, MultiTaskModel, PerTaskEmbedding
from mtfw.tasks import Task
from mtfw.trainer.config import TrainerConfig
from mtfw.trainer.evaluate import evaluate
from mtfw.weighting import Weighting


@dataclass
class Experiment:
    cfg: DictConfig
    trainer: TrainerConfig
    tasks: dict[str, Task]
    data: Prepared  # or RecData (interaction datasets): splits, preprocessor, info
    model: MultiTaskModel  # or RecModel: both have outputs(batch) and represent_batch(batch)
    weighting: Weighting
    optimizer: torch.optim.Optimizer
    device: torch.device
    higher_is_better: bool
    evaluator: Callable = evaluate  # (model, tasks, split data, split name, batch size) -> dict

    def evaluate(self, split: str) -> dict[str, float]:
        """``{'<split>/<task>/<metric>': value}`` of every task on one split."""
        data = self.data.splits[split]
        return self.evaluator(self.model, self.tasks, data, split, self.trainer.eval_batch_size)


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


def check_data_fits_tasks(cfg: DictConfig, tasks: dict[str, Task]) -> None:
    """Interaction tasks need interaction data and flat-table tasks a flat table."""
    interactions = getattr(registry.get("data", cfg.data.name), "interactions", False)
    if interactions:
        from mtfw.recsys.experiment import check_tasks

        check_tasks(tasks, cfg.data.name)
        return
    needs = [n for n, t in tasks.items() if getattr(t, "interaction", False)]
    if needs:
        raise ConfigError(
            f"task(s) {', '.join(needs)} need interaction data (users, items, interactions), "
            f"but data={cfg.data.name} is a flat table: use data=movielens100k or "
            "data=interactions"
        )
    if (cfg.get("history") or {}).get("name", "none") != "none":
        raise ConfigError(f"history={cfg.history.name} needs interaction data, not {cfg.data.name}")


def check_config(cfg: DictConfig) -> tuple[TrainerConfig, dict[str, Task], bool]:
    for kind in ("data", "encoder", "weighting", "optim"):
        registry.check(kind, cfg[kind], where=kind)
    if cfg.get("history") is not None:
        registry.check("history", cfg.history, where="history")
    if cfg.get("baseline") is not None:
        registry.check("baseline", cfg.baseline, where="baseline")
    tasks = build_tasks(cfg)
    check_data_fits_tasks(cfg, tasks)
    trainer = TrainerConfig.from_config(cfg.trainer)
    return trainer, tasks, monitor_direction(trainer, tasks)


def fingerprint(cfg: DictConfig) -> str:
    """Hash of the experiment config (not of run-control keys), stored in checkpoints."""
    plain = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k != "resume"}
    return hashlib.sha256(OmegaConf.to_yaml(OmegaConf.create(plain)).encode()).hexdigest()[:16]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"trainer.device={name} but CUDA is not available here; use auto or cpu")
    return torch.device(name)


def build_experiment(cfg: DictConfig) -> Experiment:
    trainer, tasks, higher = check_config(cfg)
    dataset = registry.build("data", cfg.data, where="data")
    if getattr(dataset, "interactions", False):
        from mtfw.recsys.experiment import build_rec_experiment

        return build_rec_experiment(cfg, dataset, trainer, tasks, higher)
    labels = {task.label: task.mask_missing for task in tasks.values()}
    data = prepare(dataset, labels)
    for task in tasks.values():
        task.check_labels(data.splits["train"].labels[task.label])
    torch.manual_seed(cfg.seed)  # model initialisation depends only on the seed
    pre = data.preprocessor
    aliases = {n: t.output_of for n, t in tasks.items() if t.output_of}
    names = [n for n in tasks if n not in aliases]  # the tasks the encoder represents
    encoder_cls = registry.get("encoder", cfg.encoder.name)
    if encoder_cls.independent_inputs:  # e.g. single_task: nothing shared, not even embeddings
        embedding = PerTaskEmbedding(
            len(names), pre.vocab_sizes, len(pre.numeric), cfg.embedding.dim,
            pre.sequence_vocab_sizes,
        )  # fmt: skip
    else:
        embedding = FeatureEmbedding(
            pre.vocab_sizes, len(pre.numeric), cfg.embedding.dim, pre.sequence_vocab_sizes
        )
    encoder = registry.build(
        "encoder", cfg.encoder, where="encoder", in_dim=embedding.out_dim, task_names=names,
        layout=embedding.layout,
    )  # fmt: skip
    borrowed = encoder.borrowed_heads()
    heads = {
        n: t.head(encoder.out_dim)
        for n, t in tasks.items()
        if n not in borrowed and n not in aliases
    }
    model = MultiTaskModel(embedding, encoder, heads, aliases)
    return assemble(cfg, trainer, tasks, data, model, higher, evaluate)


def assemble(
    cfg: DictConfig, trainer: TrainerConfig, tasks: dict[str, Task], data, model, higher: bool,
    evaluator: Callable,
) -> Experiment:  # fmt: skip
    """Weighting (over the trained tasks), device placement and optimizer around a model."""
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
        cfg, trainer, tasks, data, model, weighting, optimizer, device, higher, evaluator
    )
