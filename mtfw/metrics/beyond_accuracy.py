"""Beyond-accuracy metrics of top-k lists: how diverse, novel and evenly spread recommendations are.

Computed from the same full-catalogue top-k lists as precision and recall (``top``: ``[U, K]``
item indices, best first; row 0 of every item table is the padding item), per cut-off ``k``:

- ``ild@k``: intra-list diversity, the mean over users of the mean pairwise distance between the
  ``k`` items of a list (Ziegler et al., WWW 2005), distance ``1 - cosine`` of the items' category
  vectors (multi-hot genres; an item without categories is at distance 1 from every item);
  ``ild_embedding@k`` the same by the model's own item vectors where it has them;
- ``novelty@k``: the mean self-information ``-log2 p(i)`` of the recommended items (Zhou et al.,
  PNAS 2010), ``p(i)`` the share of training users who interacted with ``i``, Laplace-smoothed
  (``(n_i + 1) / (n_users + 1)``) so an item nobody trained on is finite;
- ``gini@k``: the Gini index of exposure, how unequally the catalogue's items appear over all
  users' lists (0: every item equally often; towards 1: a few items everywhere); lower is better;
- ``long_tail@k``: the share of list slots filled by long-tail items, the items outside the short
  head (the ``head_share`` most popular items in training, 20% by default; Abdollahpouri et al.).

Catalogue coverage (``coverage@k``) lives with the accuracy metrics in :mod:`mtfw.metrics.ranking`.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from mtfw.metrics.base import direction
from mtfw.metrics.exact import exact_mean

for _name in ("ild", "ild_embedding", "novelty", "long_tail"):
    direction(_name, higher_is_better=True)
direction("gini", higher_is_better=False)


def intra_list_diversity(top: Tensor, vectors: Tensor, ks: list[int], name: str = "ild") -> dict:
    """``{name@k}``: the mean pairwise cosine distance within each user's top ``k`` (``k >= 2``),
    averaged over users; ``vectors`` is ``[I + 1, D]``, one row per item."""
    unit = vectors.double()
    norms = unit.norm(dim=1, keepdim=True)
    unit = torch.where(norms > 0, unit / norms.clamp_min(1e-300), torch.zeros_like(unit))
    lists = unit[top[:, : max(ks)]]  # [U, K, D]
    # The sum of a list's pairwise cosines is |sum of its unit vectors|^2 minus their squared norms,
    # so prefix sums over list positions give every cut-off in one O(U K D) pass.
    prefix = lists.cumsum(1)
    self_similarity = (lists * lists).sum(2).cumsum(1)  # [U, K]
    out = {}
    for k in (k for k in ks if k >= 2):
        pairs = (prefix[:, k - 1] ** 2).sum(1) - self_similarity[:, k - 1]
        out[f"{name}@{k}"] = exact_mean(1.0 - pairs / (k * (k - 1)))
    return out


def novelty(top: Tensor, users_per_item: Tensor, n_users: int, ks: list[int]) -> dict:
    """``{novelty@k}``: the mean ``-log2((n_i + 1) / (n_users + 1))`` over the list slots and users;
    ``users_per_item`` is ``[I + 1]``, the training users who interacted with each item."""
    information = -torch.log2((users_per_item.double() + 1) / (n_users + 1))
    prefix = information[top[:, : max(ks)]].cumsum(1)
    return {f"novelty@{k}": exact_mean(prefix[:, k - 1] / k) for k in ks}


def exposure_gini(top: Tensor, n_items: int, ks: list[int]) -> dict:
    """``{gini@k}``: the Gini index of how often each of the ``n_items`` recommendable items
    (indices 1..n_items) appears in the users' top ``k``, items never recommended counted as 0."""
    out = {}
    for k in ks:
        exposure = torch.bincount(top[:, :k].flatten(), minlength=n_items + 1)[1:].double()
        out[f"gini@{k}"] = gini(exposure)
    return out


def gini(values: Tensor) -> float:
    """The Gini index of non-negative ``values``: ``sum_i (2i - n - 1) x_(i) / (n sum x)`` over the
    values sorted ascending (i = 1..n); 0 when all are equal or all are zero."""
    x, n = torch.sort(values.double()).values, values.numel()
    total = float(x.sum())
    if n == 0 or total == 0.0:
        return 0.0
    rank = torch.arange(1, n + 1, dtype=torch.double)
    return math.fsum(((2 * rank - n - 1) * x).tolist()) / (n * total)


def long_tail_share(
    top: Tensor, interactions_per_item: Tensor, ks: list[int], head_share: float = 0.2
) -> dict:
    """``{long_tail@k}``: the mean share of each user's top ``k`` outside the short head, the
    ``ceil(head_share * n_items)`` items with the most training interactions (ties: lower index)."""
    counts = interactions_per_item[1:].double()
    n_head = math.ceil(head_share * counts.numel())
    head = torch.sort(counts, descending=True, stable=True).indices[:n_head] + 1
    in_tail = torch.ones(counts.numel() + 1, dtype=torch.bool)
    in_tail[head] = False
    in_tail[0] = False  # the padding item is never recommended
    prefix = in_tail[top[:, : max(ks)]].double().cumsum(1)
    return {f"long_tail@{k}": exact_mean(prefix[:, k - 1] / k) for k in ks}
