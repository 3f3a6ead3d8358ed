"""Reload a finished interaction run as a scoring function: users -> scores of every item."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import torch
from omegaconf import DictConfig
from torch import Tensor

from mtfw import registry
from mtfw.errors import CheckpointError, ConfigError
from mtfw.experiment import build_tasks
from mtfw.recsys.batch import Sparse, UserInputs
from mtfw.recsys.experiment import build_model, check_tasks, prepare_data
from mtfw.recsys.prepare import RecData, RecPreprocessing
from mtfw.recsys.sets import RecEvalSet
from mtfw.recsys.tasks import RankingTask
from mtfw.trainer.evaluate import eval_mode

log = logging.getLogger("mtfw")


def _load(path: Path) -> dict:
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: recommend needs a finished run")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which, not a pickle trace
        raise CheckpointError(f"{path} is not a readable mtfw checkpoint: {err}") from err


Scorer = Callable[[UserInputs, Sparse, slice], Tensor]


def load_scorer(cfg: DictConfig, run_dir: Path) -> tuple[RecData, Scorer, int]:
    """(the run's data, ``score(users, known, rows) -> [B, I]`` for the users ``rows`` given
    every user's inputs and known items, the history length)."""
    dataset = registry.build("data", cfg.data, where="data")
    if not getattr(dataset, "interactions", False):
        raise ConfigError(
            f"{run_dir} was trained on data={cfg.data.name}, a flat table: "
            "recommend needs a run on interaction data"
        )
    tasks = build_tasks(cfg)
    check_tasks(tasks, cfg.data.name)
    ranking = [n for n, t in tasks.items() if isinstance(t, RankingTask)]
    if not ranking:
        raise ConfigError(
            f"{run_dir} has no ranking task ({', '.join(tasks)}): nothing ranks items"
        )
    data = prepare_data(dataset, tasks)
    saved = RecPreprocessing.load(run_dir / "preprocess.json").to_dict()
    if saved != data.preprocessor.to_dict():
        raise CheckpointError(
            f"the data no longer matches the run's saved preprocessing ({run_dir}/"
            "preprocess.json): the dataset changed since training"
        )
    if cfg.get("baseline") is not None:
        baseline = registry.build("baseline", cfg.baseline, where="baseline", seed=cfg.seed)
        baseline.load_state(_load(run_dir / "baseline.pt"))

        def score_baseline(users: UserInputs, known: Sparse, rows: slice) -> Tensor:
            empty = torch.zeros(0, dtype=torch.long)
            view = RecEvalSet(users, known, known, empty, empty, {}, data.items.categories[:0])
            return baseline.score(view, rows)

        return data, score_baseline, dataset.history_length
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, dataset, data, tasks)
    try:
        model.load_state_dict(_load(run_dir / "best.pt")["model"])
    except (KeyError, RuntimeError) as err:
        raise CheckpointError(f"{run_dir}/best.pt does not fit this run's model: {err}") from err
    head = model.heads[ranking[0]]

    @torch.no_grad()
    def score_model(users: UserInputs, known: Sparse, rows: slice) -> Tensor:
        with eval_mode(model):
            rep = model.represent_batch(users.take(rows))[ranking[0]]
            return head.score_all(rep, model.items.all())

    return data, score_model, dataset.history_length
