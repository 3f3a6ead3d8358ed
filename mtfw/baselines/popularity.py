"""Most popular: every user gets the items with the most training interactions."""

from __future__ import annotations

from torch import Tensor

from mtfw.baselines.base import Baseline
from mtfw.data.batch import Inputs
from mtfw.registry import register


@register("baseline", "popularity")
class Popularity(Baseline):
    """Most popular items (training interaction counts); the same list for every user."""

    def score(self, inputs: Inputs) -> Tensor:
        counts = self.matrix.sum(0)
        return counts.expand(len(inputs), -1)
