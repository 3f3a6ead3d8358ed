"""The beyond-accuracy metrics of a set of top-k lists, from what the data and model provide."""

from __future__ import annotations

from torch import Tensor

from mtfw.data.prepared import DataContext
from mtfw.metrics.beyond_accuracy import (
    exposure_gini,
    intra_list_diversity,
    long_tail_share,
    novelty,
)


def list_metrics(top: Tensor, data: DataContext, ks: list[int]) -> dict[str, float]:
    """Novelty, exposure Gini and long-tail share (from the training popularity), ILD by the
    items' categories when the catalogue has any, and by the model's item vectors when it has
    them. ``top``: ``[U, K]`` item indices, best first."""
    out = exposure_gini(top, data.catalogue_size, ks)
    if data.popularity is not None:
        popularity = data.popularity
        out |= novelty(top, popularity.users, popularity.n_users, ks)
        out |= long_tail_share(top, popularity.interactions, ks)
    if data.items is not None and data.items.categories.shape[1] > 0:
        out |= intra_list_diversity(top, data.items.categories, ks)
    if data.item_vectors is not None:
        out |= intra_list_diversity(top, data.item_vectors, ks, name="ild_embedding")
    return out
