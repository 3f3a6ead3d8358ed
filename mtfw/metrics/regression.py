"""Regression metrics."""

from __future__ import annotations

import math

from torch import Tensor

from mtfw.metrics.base import metric
from mtfw.metrics.exact import exact_mean


@metric("mse", higher_is_better=False)
def mse(pred: Tensor, target: Tensor) -> float:
    """Mean squared error."""
    return exact_mean((pred.double() - target.double()) ** 2)


@metric("rmse", higher_is_better=False)
def rmse(pred: Tensor, target: Tensor) -> float:
    """Root mean squared error."""
    return math.sqrt(mse(pred, target))


@metric("mae", higher_is_better=False)
def mae(pred: Tensor, target: Tensor) -> float:
    """Mean absolute error."""
    return exact_mean((pred.double() - target.double()).abs())
