"""Top-k ranking metrics over a whole catalogue, for a batch of users at once.

Scores are ranked best first; items a user already knows are excluded and so is the padding item
0. Ties are broken by item index (the lower index ranks first), so metrics are deterministic; a
model that scores everything equally gets the catalogue order. Per user, with ``hits`` the held-out
items among the top ``k`` and ``R`` the number of held-out items:
precision@k = hits / k; recall@k = hits / R; hit_rate@k = [hits > 0];
ndcg@k = sum_{i <= k} rel_i / log2(i + 1), divided by its ideal value,
sum_{i <= min(R, k)} 1 / log2(i + 1).
Coverage@k is the share of the catalogue that appears in at least one user's top k.
"""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.metrics.base import direction

# The ranking metrics, all higher-is-better (keys carry the cut-off: precision@10).
RANKING_METRICS = ("precision", "recall", "ndcg", "hit_rate", "coverage")
for _name in RANKING_METRICS:
    direction(_name, higher_is_better=True)


def top_k(scores: Tensor, exclude: Tensor, k: int) -> Tensor:
    """``[B, k]`` item indices, best first; ``exclude`` (``[B, I]`` bool) never appears unless a
    user has fewer than ``k`` other items. Column 0 (padding) is always excluded."""
    scores = scores.float().masked_fill(exclude, float("-inf"))
    scores[:, 0] = float("-inf")
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices
    return order[:, :k]


def user_metrics(top: Tensor, relevant: Tensor, ks: list[int]) -> dict[str, Tensor]:
    """Per-user ``precision@k``, ``recall@k``, ``ndcg@k``, ``hit_rate@k`` (``[B]`` each) from the
    ranked items ``top`` (``[B, K]``, K >= max(ks)) and the relevant items (``[B, I]`` bool).
    Users without relevant items must not be passed (their recall is undefined)."""
    hits = relevant.gather(1, top).double()
    n_relevant = relevant.sum(1).double()
    discount = 1.0 / torch.log2(torch.arange(2, top.shape[1] + 2, dtype=torch.double))
    ideal = discount.cumsum(0)
    out = {}
    for k in ks:
        found = hits[:, :k].sum(1)
        out[f"precision@{k}"] = found / k
        out[f"recall@{k}"] = found / n_relevant
        out[f"hit_rate@{k}"] = (found > 0).double()
        best = ideal[(n_relevant.clamp(max=k) - 1).long()]
        out[f"ndcg@{k}"] = (hits[:, :k] * discount[:k]).sum(1) / best
    return out


def coverage(top: Tensor, n_items: int, ks: list[int]) -> dict[str, float]:
    """Share of the ``n_items`` catalogue items in at least one user's top ``k``."""
    return {f"coverage@{k}": torch.unique(top[:, :k]).numel() / n_items for k in ks}
