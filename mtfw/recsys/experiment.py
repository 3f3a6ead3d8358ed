"""Build a run on interaction data: tasks, split data, the user/item model around the encoder."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.experiment import Experiment, assemble
from mtfw.recsys.dataset import InteractionDataset
from mtfw.recsys.evaluate import evaluate_rec
from mtfw.recsys.model import ItemEmbedding, PerTaskUserEmbedding, RecModel, UserEmbedding
from mtfw.recsys.pair_tasks import PairTask
from mtfw.recsys.prepare import RecData
from mtfw.recsys.tasks import InteractionTask, InterestTask, RankingTask
from mtfw.tasks import Task
from mtfw.trainer.config import TrainerConfig


def check_tasks(tasks: dict[str, Task], data_name: str) -> None:
    for name, task in tasks.items():
        if not isinstance(task, InteractionTask):
            raise ConfigError(
                f"task '{name}' ({task.registry_name}) reads a column of a flat table; on "
                f"interaction data ({data_name}) choose task types ranking, interest, rating "
                "or like (e.g. 'task=[ranking,interest]')"
            )
    if sum(isinstance(t, RankingTask) for t in tasks.values()) > 1:
        raise ConfigError("at most one ranking task per run (it drives the negative sampling)")


def prepare_data(dataset: InteractionDataset, tasks: dict[str, Task]) -> RecData:
    """Load and split the data with what the tasks need (label columns, negatives, windows)."""
    ranking = next((t for t in tasks.values() if isinstance(t, RankingTask)), None)
    interest = next((t for t in tasks.values() if isinstance(t, InterestTask)), None)
    labels = sorted({t.label for t in tasks.values() if isinstance(t, PairTask)})
    data = dataset.prepare(
        labels,
        negatives=ranking.negatives if ranking else 0,
        sampler=ranking.sampler if ranking else "uniform",
        alpha=ranking.alpha if ranking else 0.75,
        interest_window=interest.window if interest else 1,
    )
    for task in tasks.values():  # what the evaluation of each task needs to know of the data
        task.catalogue_size = len(data.items) - 1
        task.categories = data.items.category_names
    return data


def build_model(
    cfg: DictConfig, dataset: InteractionDataset, data: RecData, tasks: dict[str, Task]
) -> RecModel:
    dim = cfg.embedding.dim
    pre = data.preprocessor
    items = ItemEmbedding(data.items, pre.items.vocab_sizes, dim)
    history = cfg.get("history") or {"name": "none"}

    def user_side() -> UserEmbedding:
        encoder = registry.build(
            "history", history, where="history", dim=dim, length=dataset.history_length
        )
        return UserEmbedding(pre.users.vocab_sizes, len(pre.users.numeric), dim, encoder)

    names = list(tasks)
    if registry.get("encoder", cfg.encoder.name).independent_inputs:
        users = PerTaskUserEmbedding([user_side() for _ in names])
    else:
        users = user_side()
    encoder = registry.build(
        "encoder",
        cfg.encoder,
        where="encoder",
        in_dim=users.out_dim,
        task_names=names,
        layout=users.layout,
    )
    if encoder.borrowed_heads():
        raise ConfigError(
            f"encoder={cfg.encoder.name} models a click -> conversion funnel of flat-table "
            "tasks; on interaction data use shared_bottom, mmoe, omoe, cgc, ple, cross_stitch "
            "or single_task"
        )
    train = data.splits["train"]
    heads = {
        name: task.rec_head(
            encoder.out_dim,
            dim,
            len(data.items),
            len(data.items.category_names),
            float(train.labels[task.label].mean()) if isinstance(task, PairTask) else 0.0,
        )
        for name, task in tasks.items()
    }
    return RecModel(users, items, encoder, heads)


def build_rec_experiment(
    cfg: DictConfig,
    dataset: InteractionDataset,
    trainer: TrainerConfig,
    tasks: dict[str, Task],
    higher: bool,
) -> Experiment:
    data = prepare_data(dataset, tasks)  # check_config has checked the tasks fit the data
    torch.manual_seed(cfg.seed)  # model initialisation depends only on the seed
    model = build_model(cfg, dataset, data, tasks)
    return assemble(cfg, trainer, tasks, data, model, higher, evaluate_rec)
