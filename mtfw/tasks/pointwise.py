"""Per-sample tasks: binary classification (CTR, CVR, income) and regression (rating, spend)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from mtfw.errors import ConfigError
from mtfw.registry import register
from mtfw.tasks.base import Task


@register("task", "binary")
class BinaryTask(Task):
    """Binary label in {0, 1}: sigmoid output, binary cross-entropy loss."""

    default_metrics = ("auc", "logloss", "accuracy")

    def check_labels(self, train_labels: dict[str, Tensor]) -> None:
        values = torch.unique(train_labels[self.label])
        if not bool(((values == 0) | (values == 1)).all()):
            raise ConfigError(
                f"task '{self.name}' is binary but label '{self.label}' has values "
                f"{values[:10].tolist()}; binary labels must be 0 or 1"
            )

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")

    def predict(self, output: Tensor) -> Tensor:
        return output.sigmoid()


@register("task", "regression")
class RegressionTask(Task):
    """Real-valued label: identity output, mean squared error loss."""

    default_metrics = ("mse", "rmse", "mae")

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return (output - target) ** 2

    def predict(self, output: Tensor) -> Tensor:
        return output
