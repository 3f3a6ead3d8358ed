"""Content-based filtering (Pazzani & Billsus, The Adaptive Web 2007): the user's profile is the
mean feature vector of the items they interacted with (implicit feedback: an interaction is a
like), and an item's score is the cosine similarity of its features to that profile. Features are
the item categories (genres) and the item's numeric features."""

from __future__ import annotations

import torch
from torch import Tensor

from mtfw.baselines.base import Baseline, known, normalise_rows
from mtfw.data.batch import Inputs
from mtfw.registry import register


@register("baseline", "content")
class ContentBased(Baseline):
    """User profile = mean features of the user's items; cosine to every candidate item."""

    def fit(self, data, validate=None) -> None:
        super().fit(data, validate)
        self.features = torch.cat(
            [data.context.items.categories, data.context.items.num.float()], dim=1
        ).cpu()

    def state(self) -> dict[str, Tensor]:
        return {"matrix": self.matrix, "features": self.features}

    def score(self, inputs: Inputs) -> Tensor:
        items = known(inputs)
        profile = items @ self.features / items.sum(1, keepdim=True).clamp(min=1)
        return normalise_rows(profile) @ normalise_rows(self.features).T
