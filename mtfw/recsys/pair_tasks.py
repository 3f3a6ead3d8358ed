"""Tasks on the held-out interaction itself, scored for its (user, item) pair: rating, like."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from mtfw.recsys.heads import PairHead
from mtfw.recsys.tasks import InteractionTask
from mtfw.registry import register


class PairTask(InteractionTask):
    """A label of the held-out interaction itself, scored for the (user, item) pair."""

    def rec_head(self, in_dim, dim, n_items, n_categories, label_mean):
        offset = label_mean if self.offset_by_mean else 0.0
        return PairHead(
            in_dim, self.tower, self.activation, self.dropout, dim, n_items, True, offset
        )

    offset_by_mean = False

    def collect(self, head, rep, items, vectors, data, rows):
        lo, hi = torch.searchsorted(
            data.pair_row, torch.tensor([rows.start, rows.stop], device=data.pair_row.device)
        )
        local = data.pair_row[lo:hi] - rows.start
        return {"output": head(rep[local], items, data.pair_item[lo:hi, None])}

    def summarise(self, parts, data):
        return self.evaluate(parts["output"], self.target(data.pair_labels[self.label].cpu()))


@register("task", "rating")
class RatingTask(PairTask):
    """The rating of an interaction (regression; RMSE, MAE)."""

    offset_by_mean = True
    default_metrics = ("rmse", "mae")

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

    def target(self, raw: Tensor) -> Tensor:
        return (raw >= self.min).float()

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")

    def predict(self, output: Tensor) -> Tensor:
        return output.sigmoid()
