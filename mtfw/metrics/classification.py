"""Binary classification metrics on predicted probabilities."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from mtfw.metrics.base import metric
from mtfw.metrics.exact import exact_mean, exact_sum


@metric("auc", higher_is_better=True)
def auc(pred: Tensor, target: Tensor) -> float:
    """ROC AUC via the Mann-Whitney U statistic; tied scores share their average rank."""
    target = target.bool()
    n_pos = int(target.sum())
    n_neg = target.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan  # undefined with one class present
    scores, order = torch.sort(pred.double())
    _, inverse, counts = torch.unique_consecutive(scores, return_inverse=True, return_counts=True)
    # Average rank (1-based) of each group of tied scores.
    ends = counts.cumsum(0).double()
    avg_rank = ends - (counts.double() - 1) / 2
    ranks = avg_rank[inverse]
    pos_rank_sum = exact_sum(ranks[target[order]])
    return (pos_rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


@metric("logloss", higher_is_better=False)
def logloss(pred: Tensor, target: Tensor) -> float:
    """Mean binary cross-entropy of the probabilities (clipped at 1e-7)."""
    p = pred.double().clamp(1e-7, 1 - 1e-7)
    t = target.double()
    return -exact_mean(t * p.log() + (1 - t) * (1 - p).log())


@metric("accuracy", higher_is_better=True)
def accuracy(pred: Tensor, target: Tensor) -> float:
    """Share of samples whose probability falls on the label's side of 0.5."""
    return exact_mean((pred >= 0.5) == target.bool())


@metric("f1", higher_is_better=True)
def f1(pred: Tensor, target: Tensor) -> float:
    """F1 score of the positive class at threshold 0.5 (0 when nothing is predicted or present)."""
    predicted, actual = pred >= 0.5, target.bool()
    tp = float((predicted & actual).sum())
    denominator = float(predicted.sum() + actual.sum())
    return 2 * tp / denominator if denominator else 0.0
