"""Tasks on the held-out interaction itself, scored for its (user, item) pair: rating, like."""

from __future__ import annotations

from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from mtfw.data.batch import Batch
from mtfw.data.needs import DataNeeds
from mtfw.models.heads import HeadContext, PairHead
from mtfw.registry import register
from mtfw.tasks.base import Task
from mtfw.tasks.ranking import INTERACTIONS


class PairTask(Task):
    """A label column of the interactions, predicted for the (user, item) pair: in training for
    each training interaction, in evaluation for each held-out one."""

    requires: ClassVar[frozenset[str]] = INTERACTIONS
    offset_by_mean = False  # start the score at the mean training label (rating regression)

    def __init__(
        self,
        name: str,
        label: str = "rating",
        weight: float = 1.0,
        tower: list[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
        metrics: list[str] | None = None,
        train: bool = True,
    ):
        super().__init__(name, label, weight, tower, activation, dropout, metrics, train=train)

    def needs(self) -> DataNeeds:
        return DataNeeds(labels={self.label: False})

    def head(self, context: HeadContext) -> PairHead:
        offset = context.data.label_means[self.label] if self.offset_by_mean else 0.0
        return PairHead(
            context.in_dim, self.tower, self.activation, self.dropout, context.item_dim,
            len(context.data.items), offset,
        )  # fmt: skip


@register("task", "rating")
class RatingTask(PairTask):
    """The rating of an interaction (regression; RMSE, MAE)."""

    offset_by_mean = True
    default_metrics = ("rmse", "mae")

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return (output - target) ** 2

    def predict(self, output: Tensor) -> Tensor:
        return output


@register("task", "like")
class LikeTask(PairTask):
    """Whether the user liked the item: ``label >= min`` (a rating of 4 or 5 by default); AUC."""

    default_metrics = ("auc", "logloss")

    def __init__(
        self,
        name: str,
        label: str = "rating",
        min: float = 4.0,
        weight: float = 1.0,
        tower: list[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
        metrics: list[str] | None = None,
        train: bool = True,
    ):
        super().__init__(name, label, weight, tower, activation, dropout, metrics, train=train)
        self.min = float(min)

    def target(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        return (batch.labels[self.label] >= self.min).float(), None

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")

    def predict(self, output: Tensor) -> Tensor:
        return output.sigmoid()
