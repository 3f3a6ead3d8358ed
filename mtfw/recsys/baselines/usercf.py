"""User-based collaborative filtering (Resnick et al., CSCW 1994; Herlocker et al., SIGIR 1999):
an item's score is the summed cosine similarity of the ``neighbours`` most similar users who
interacted with it. Similarity compares binary interaction vectors."""

from __future__ import annotations

from torch import Tensor

from mtfw.recsys.baselines.base import Baseline, keep_top, known, normalise_rows
from mtfw.recsys.sets import RecEvalSet
from mtfw.registry import register


@register("baseline", "usercf")
class UserCF(Baseline):
    """User-based kNN: cosine similarity of interaction vectors, ``neighbours`` nearest users."""

    def __init__(self, seed: int = 0, neighbours: int = 50):
        super().__init__(seed)
        self.neighbours = neighbours

    def score(self, data: RecEvalSet, rows: slice) -> Tensor:
        query = normalise_rows(known(data, rows, self.n_items))
        similarity = query @ normalise_rows(self.matrix).T  # [B, users]
        similarity[range(similarity.shape[0]), data.users.uid[rows].cpu()] = 0.0  # not oneself
        return keep_top(similarity, self.neighbours) @ self.matrix
