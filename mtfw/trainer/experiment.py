"""The assembled objects of one run, and how a model is fitted and restored.

A :class:`Fitter` is the part of the run lifecycle that differs between models: a network is
fitted by the gradient loop (``trainer/loop.py``), a classical recommender by its own ``fit``
(``baselines/fit.py``). Everything around it — checks, building, selection on validation, the one
test evaluation, the summary — is the same for both (``mtfw.train.run``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import torch
from omegaconf import DictConfig
from torch import nn

from mtfw.data.prepared import PreparedData
from mtfw.errors import ConfigError
from mtfw.record import RunRecord
from mtfw.tasks import Task
from mtfw.trainer.config import TrainerConfig
from mtfw.trainer.evaluate import evaluate
from mtfw.trainer.precision import autocast
from mtfw.weighting import Weighting

if TYPE_CHECKING:
    from mtfw.candidates.gan_source import CandidateMix

# on_eval(epoch, row, last): after each validation; `last` when no further epoch will train.
OnEval = Callable[[int, dict, bool], None]


class Fitter(Protocol):
    def fit(self, exp: Experiment, record: RunRecord, resume: bool, on_eval: OnEval | None) -> dict:
        """Train and select on validation; the state has ``epoch``, ``best``, ``best_epoch``,
        ``train_seconds``, ``train_samples``."""
        ...

    def restore(self, exp: Experiment, run_dir: Path) -> None:
        """Load the selected model from the run directory."""
        ...


@dataclass
class Experiment:
    cfg: DictConfig
    trainer: TrainerConfig
    tasks: dict[str, Task]
    data: PreparedData
    model: nn.Module  # a MultiTaskModel, or a Baseline
    weighting: Weighting | None  # None: a model without gradient training
    optimizer: torch.optim.Optimizer | None
    device: torch.device
    higher_is_better: bool
    fitter: Fitter
    candidates: CandidateMix | None = None  # None: ranking tasks rank by the model alone

    def evaluate(self, split: str) -> dict[str, float]:
        """``{'<split>/<task>/<metric>': value}`` of every task on one split."""
        with autocast(self.device, self.trainer.precision):  # bf16/16-mixed: as in training
            row = evaluate(
                self.model, self.tasks, self.data.splits[split], split,
                self.trainer.eval_batch_size, self.data.context, self.candidates,
            )  # fmt: skip
        monitor = self.trainer.monitor
        if split == "val" and monitor not in row:  # a metric this model or data cannot measure
            measured = ", ".join(k for k in row if k.startswith("val/"))
            raise ConfigError(
                f"trainer.monitor={monitor} is not measured for this model and data (e.g. "
                f"ild_embedding needs a model with item vectors); measured: {measured}"
            )
        return row
