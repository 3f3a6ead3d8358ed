"""Count labels (visits, purchases, clicks per user): Poisson regression with a log link.

The head outputs the log-rate ``eta`` (its tower's output plus the log of the mean train count, so
training starts at the mean); the predicted mean is ``mu = exp(eta)``. The loss is
``F.poisson_nll_loss(eta, y, log_input=True)``, ``mu - y * eta``, plus the constant
``y log y - y`` that makes it half the unit Poisson deviance, ``y log(y / mu) - (y - mu)``: the
same gradients, and a loss that is 0 at a perfect fit and >= 0 always (comparable with other
tasks' losses). Metrics are on ``mu``, in the label's units: ``poisson_deviance``, ``rmse``,
``mae``. Labels must be >= 0; non-integer values are allowed (the deviance is defined for any
y >= 0, e.g. a count per day averaged over a week).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from mtfw.data.batch import Batch
from mtfw.errors import ConfigError
from mtfw.metrics.exact import exact_mean
from mtfw.models.heads import Head, HeadContext
from mtfw.models.label_scale import LabelScale, ScaledHead
from mtfw.registry import register
from mtfw.tasks.base import Task


@register("task", "count")
class CountTask(Task):
    """Count label y >= 0: log-link head, Poisson loss; metrics on the predicted mean."""

    default_metrics = ("poisson_deviance", "rmse", "mae")

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
    ):
        super().__init__(
            name, label, weight, tower, activation, dropout, metrics, mask_missing, train,
            output_of,
        )  # fmt: skip
        self.scale = LabelScale()  # shift: log of the mean train count; scale stays 1

    def head(self, context: HeadContext) -> Head:
        return ScaledHead(super().head(context), self.scale)

    def fit_labels(self, splits: dict[str, Batch]) -> None:
        for split, batch in splits.items():
            values = self.labelled_targets(batch)
            negative = values < 0
            if bool(negative.any()):
                raise ConfigError(
                    f"task '{self.name}' is a count task but label '{self.label}' has "
                    f"{int(negative.sum())} negative values in the {split} split (e.g. "
                    f"{values[negative][0].item():g}); counts must be >= 0 (non-integer values "
                    "are allowed). Use name: regression for a label that can be negative"
                )
        mean = exact_mean(self.labelled_targets(splits["train"]))
        self.scale.shift.fill_(math.log(mean) if mean > 0 else 0.0)

    def log_rate(self, output: Tensor) -> Tensor:
        return output + self.scale.shift.to(output.dtype)

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        """Half the unit Poisson deviance: Poisson NLL with log input plus ``y log y - y``."""
        nll = F.poisson_nll_loss(self.log_rate(output), target, log_input=True, full=False,
                                 reduction="none")  # fmt: skip
        return nll + torch.xlogy(target, target) - target

    def predict(self, output: Tensor) -> Tensor:
        return self.log_rate(output).exp()
