"""User interest per category: which categories (genres) the user's next interactions fall in."""

from __future__ import annotations

from typing import ClassVar

import torch.nn.functional as F
from torch import Tensor

from mtfw.data.batch import Batch
from mtfw.data.needs import DataNeeds
from mtfw.data.prepared import DataContext
from mtfw.metrics.exact import exact_mean
from mtfw.models.heads import HeadContext, TowerHead
from mtfw.registry import get, register
from mtfw.tasks.base import Task
from mtfw.tasks.ranking import INTERACTIONS


@register("task", "interest")
class InterestTask(Task):
    """Which categories (genres) the user's next interactions fall in: multi-label, one logit per
    category; AUC and F1 per category (``auc_<category>``) and their mean over categories."""

    requires: ClassVar[frozenset[str]] = INTERACTIONS

    def __init__(
        self,
        name: str,
        weight: float = 1.0,
        tower: list[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
        window: int = 5,
        metrics: list[str] = ("auc", "f1"),
        train: bool = True,
    ):
        super().__init__(
            name, "interest", weight, tower, activation, dropout, list(metrics), train=train
        )
        self.window = window  # training rows: the categories of the next `window` items

    def needs(self) -> DataNeeds:
        return DataNeeds(category_window=self.window)

    def head(self, context: HeadContext) -> TowerHead:
        n_categories = len(context.data.category_names)
        return TowerHead(context.in_dim, self.tower, self.activation, self.dropout, n_categories)

    def target(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        return batch.labels["next_categories"], None

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none").mean(1)

    def summarise(self, parts: dict[str, Tensor], data: DataContext) -> dict[str, float]:
        logits, target = parts["output"], parts["target"]
        out = {"loss": exact_mean(self.pointwise_loss(logits, target))}
        prob = logits.sigmoid()
        for m in self.metrics:
            values = {}
            for g, category in enumerate(data.category_names):
                value = get("metric", m)(prob[:, g], target[:, g])
                if value == value:  # NaN when the split holds one class only: not reported
                    values[category] = out[f"{m}_{category}"] = value
            out[m] = sum(values.values()) / len(values) if values else float("nan")
        return out
