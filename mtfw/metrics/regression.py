"""Regression and count metrics."""

from __future__ import annotations

import math

import torch
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


@metric("poisson_deviance", higher_is_better=False)
def poisson_deviance(pred: Tensor, target: Tensor) -> float:
    """Mean Poisson deviance of predicted means ``mu`` (pred, >= 0) for counts ``y`` >= 0:
    ``D = (2 / n) * sum_i [y_i * log(y_i / mu_i) - (y_i - mu_i)]``, with ``y log(y / mu) = 0``
    at ``y = 0`` (0 at a perfect fit; as scikit-learn's ``mean_poisson_deviance``). NaN where a
    prediction or a label is negative (the deviance is not defined there)."""
    mu, y = pred.double(), target.double()
    if bool((mu < 0).any()) or bool((y < 0).any()):
        return math.nan
    return exact_mean(2.0 * (torch.xlogy(y, y) - torch.xlogy(y, mu) - (y - mu)))
