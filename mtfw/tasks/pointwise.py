"""Per-sample tasks: binary classification (CTR, CVR, income) and regression (rating, spend)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from mtfw.data.batch import Batch
from mtfw.errors import ConfigError
from mtfw.models.heads import Head, HeadContext
from mtfw.models.label_scale import TRANSFORMS, LabelScale, ScaledHead
from mtfw.registry import register
from mtfw.tasks.base import Task
from mtfw.value_types import check_range
from mtfw.weighting.base import choose

LOSSES = ("mse", "huber")


@register("task", "binary")
class BinaryTask(Task):
    """Binary label in {0, 1}: sigmoid output, binary cross-entropy loss."""

    default_metrics = ("auc", "logloss", "accuracy")

    def check_labels(self, train_labels: dict[str, Tensor]) -> None:
        labels = train_labels[self.label]
        bad = (labels != 0) & (labels != 1)  # a byte a row: no sort of the whole column
        if bool(bad.any()):
            values = torch.unique(torch.cat([labels[bad], labels[~bad][:1]]))
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
    """Real-valued label standardised on train (optionally after log1p); MSE or Huber loss.

    Metrics (mse, rmse, mae) are in the label's own units; the loss in standard units."""

    default_metrics = ("mse", "rmse", "mae")

    def __init__(
        self,
        name: str,
        label: str,
        weight: float = 1.0,
        tower: list[int] = (32,),
        activation: str = "relu",
        dropout: float = 0.0,
        metrics: list[str] | None = None,
        mask_missing: bool = False,
        train: bool = True,
        output_of: str | None = None,
        standardize: bool = True,
        transform: str = "none",
        loss: str = "mse",
        huber_delta: float = 1.0,
    ):
        super().__init__(
            name, label, weight, tower, activation, dropout, metrics, mask_missing, train,
            output_of,
        )  # fmt: skip
        self.standardize = standardize
        self.transform = choose(transform, TRANSFORMS, f"task.{name}.transform")
        self.kind = choose(loss, LOSSES, f"task.{name}.loss")
        check_range(f"task.{name}.huber_delta", huber_delta, low=0, low_open=True)
        self.huber_delta = float(huber_delta)
        self.scale = LabelScale(self.transform)

    def head(self, context: HeadContext) -> Head:
        return ScaledHead(super().head(context), self.scale)

    def fit_labels(self, splits: dict[str, Batch]) -> None:
        if self.transform == "log1p":  # log1p(y) needs y > -1 on every split
            for split, batch in splits.items():
                values = self.labelled_targets(batch)
                bad = values <= -1
                if bool(bad.any()):
                    raise ConfigError(
                        f"task.{self.name}.transform=log1p needs label values above -1, but "
                        f"label '{self.label}' has {int(bad.sum())} values <= -1 in the {split} "
                        f"split (e.g. {values[bad][0].item():g}); use transform: none"
                    )
        self.scale.fit(self.labelled_targets(splits["train"]), self.standardize)

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        """In the head's units: the output against the standardised (transformed) label."""
        z = self.scale.encode(target)
        if self.kind == "huber":
            return F.huber_loss(output, z, reduction="none", delta=self.huber_delta)
        return (output - z) ** 2

    def predict(self, output: Tensor) -> Tensor:
        return self.scale.decode(output)
