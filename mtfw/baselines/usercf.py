"""User-based collaborative filtering (Resnick et al., CSCW 1994; Herlocker et al., SIGIR 1999):
an item's score is the summed cosine similarity of the ``neighbours`` most similar users who
interacted with it. Similarity compares binary interaction vectors."""

from __future__ import annotations

from torch import Tensor

from mtfw.baselines.base import Baseline, keep_top, known, normalise_rows
from mtfw.data.batch import Inputs
from mtfw.registry import register


@register("baseline", "usercf")
class UserCF(Baseline):
    """User-based kNN: cosine similarity of interaction vectors, ``neighbours`` nearest users."""

    def __init__(self, seed: int = 0, task_names: list[str] = (), neighbours: int = 50):
        super().__init__(seed, task_names)
        self.neighbours = neighbours

    def score(self, inputs: Inputs) -> Tensor:
        query = normalise_rows(known(inputs))
        similarity = query @ normalise_rows(self.matrix).T  # [B, users]
        similarity[range(similarity.shape[0]), inputs.uid.cpu()] = 0.0  # not oneself
        return keep_top(similarity, self.neighbours) @ self.matrix
