"""Most popular: every user gets the items with the most training interactions."""

from __future__ import annotations

from torch import Tensor

from mtfw.recsys.baselines.base import Baseline
from mtfw.recsys.sets import RecEvalSet
from mtfw.registry import register


@register("baseline", "popularity")
class Popularity(Baseline):
    """Most popular items (training interaction counts); the same list for every user."""

    def score(self, data: RecEvalSet, rows: slice) -> Tensor:
        counts = self.matrix.sum(0)
        return counts.expand(rows.stop - rows.start, -1)
