"""Interest breadth: how many distinct categories the user's next interactions span.

A per-user regression beside ``interest`` (which categories) and ``ranking`` (which items): a
user about to range over many genres wants a more diverse list than one who sticks to one, so
the predicted breadth can steer how diverse a recommended list should be. It reads what the data
already prepares for a category window (``next_categories``): in training the categories of the
interaction's item and the user's next ``window - 1`` items, in evaluation those of the held-out
items, the same protocol as ``interest``.

Added as the worked example of the task contract: this file and ``conf/task/interest_breadth.yaml``
are all it takes; the registry finds the file and the config enumeration tests train it.
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from mtfw.data.batch import Batch
from mtfw.data.needs import DataNeeds
from mtfw.registry import register
from mtfw.tasks.pointwise import RegressionTask
from mtfw.tasks.ranking import INTERACTIONS


@register("task", "interest_breadth")
class InterestBreadthTask(RegressionTask):
    """Distinct categories among the user's next interactions (regression; RMSE, MAE)."""

    requires: ClassVar[frozenset[str]] = INTERACTIONS
    default_metrics = ("rmse", "mae")

    def __init__(
        self,
        name: str,
        weight: float = 1.0,
        tower: list[int] = (32,),
        activation: str = "relu",
        dropout: float = 0.0,
        window: int = 5,
        metrics: list[str] | None = None,
        train: bool = True,
    ):
        super().__init__(
            name, "next_categories", weight, tower, activation, dropout, metrics, train=train
        )
        self.window = window

    def needs(self) -> DataNeeds:
        return DataNeeds(category_window=self.window)

    def target(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        return batch.labels["next_categories"].sum(1), None
