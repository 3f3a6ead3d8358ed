"""Metrics over groups of samples: gAUC, the user-grouped AUC industrial CTR papers report.

``gauc`` = sum_u n_u AUC_u / sum_u n_u over the users u whose samples hold both classes, where
AUC_u is the ROC AUC of user u's samples (ties share their average rank, as in ``auc``) and n_u
the number of user u's samples. Users with one class only (every sample clicked, or none) have
no AUC and are skipped: they count neither in the sum nor in the weights (the GAUC of Zhou et
al., KDD 2018, DIN, with a user's samples as its weight). NaN when no user has both classes.
A grouped metric is called as ``fn(pred, target, groups)``; ``groups`` holds an integer id per
sample (the dataset's ``user_id`` column, coded by the data).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from torch import Tensor

from mtfw.metrics.base import metric


@metric("gauc", higher_is_better=True, grouped=True)
def gauc(pred: Tensor, target: Tensor, groups: Tensor) -> float:
    """AUC per user, weighted by each user's samples, over users with both classes (gAUC)."""
    score = pred.detach().double().cpu().numpy()
    label = target.detach().cpu().numpy() > 0.5
    group = groups.detach().cpu().numpy().astype(np.int64)
    if score.size == 0:
        return math.nan
    _, group = np.unique(group, return_inverse=True)  # ids 0..G-1
    ranks = pd.Series(score).groupby(group).rank(method="average").to_numpy()
    size = np.bincount(group)
    n_pos = np.bincount(group, weights=label.astype(np.float64))
    n_neg = size - n_pos
    pos_rank_sum = np.bincount(group, weights=np.where(label, ranks, 0.0))
    both = (n_pos > 0) & (n_neg > 0)
    if not both.any():
        return math.nan
    n_pos, n_neg = n_pos[both], n_neg[both]
    auc = (pos_rank_sum[both] - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    weights = size[both].astype(np.float64)
    return math.fsum((auc * weights).tolist()) / math.fsum(weights.tolist())
