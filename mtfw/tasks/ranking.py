"""Item ranking from implicit feedback: every interaction is a positive, scored against sampled
negatives in training and against the whole catalogue in evaluation.

Tasks on interaction data differ in granularity. ``ranking``, ``rating`` and ``like`` are per
(user, item) pair: their heads score items against the user representation. ``interest`` is per
user: its head reads the representation alone. All of them read the same per-user representation
from the shared encoder, so any subset trains jointly, each training row being one interaction:
the user as of just before it.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from mtfw.data.batch import Batch
from mtfw.data.interactions.negatives import SAMPLERS
from mtfw.data.needs import DataNeeds, Negatives
from mtfw.data.prepared import DataContext
from mtfw.errors import ConfigError
from mtfw.metrics.exact import exact_mean
from mtfw.metrics.list_metrics import list_metrics
from mtfw.metrics.ranking import coverage, top_k, user_metrics
from mtfw.models.heads import HeadContext, ItemScoreHead
from mtfw.registry import register
from mtfw.tasks.base import Task

RANKING_KEYS = ("precision", "recall", "ndcg", "hit_rate")
# Of the whole set of lists (see mtfw/metrics/beyond_accuracy.py); absent where the data has no
# item categories (ild) or the model no item vectors (ild_embedding).
LIST_KEYS = ("coverage", "ild", "ild_embedding", "novelty", "gini", "long_tail")
INTERACTIONS = frozenset({"users", "items", "interactions"})


@register("task", "ranking")
class RankingTask(Task):
    """Item recommendation from implicit feedback: each interaction is a positive, ``negatives``
    items are drawn per positive each epoch (``sampler``: uniform | popularity, ** ``alpha``);
    ``loss``: bce (pointwise), bpr (pairwise) or softmax (sampled softmax). Evaluated by ranking
    the whole catalogue minus known items: precision, recall, ndcg, hit_rate @ ``k``, and the
    beyond-accuracy metrics of the lists: coverage, ild, ild_embedding, novelty, gini, long_tail."""

    requires: ClassVar[frozenset[str]] = INTERACTIONS
    output: ClassVar[str] = "item_scores"

    def __init__(
        self,
        name: str,
        weight: float = 1.0,
        tower: list[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
        negatives: int = 4,
        sampler: str = "uniform",
        alpha: float = 0.75,
        loss: str = "bce",
        k: list[int] = (5, 10, 20),
        train: bool = True,
    ):
        super().__init__(name, "ranking", weight, tower, activation, dropout, [], train=train)
        if loss not in ("bce", "bpr", "softmax"):
            raise ConfigError(f"task.{name}.loss must be bce, bpr or softmax, not '{loss}'")
        if sampler not in SAMPLERS:  # checked here, before any data is loaded
            raise ConfigError(
                f"task.{name}.sampler must be {' or '.join(SAMPLERS)}, not '{sampler}'"
            )
        if negatives < 1 or not k or min(k) < 1:
            raise ConfigError(f"task.{name}: negatives and every k must be at least 1")
        self.negatives = Negatives(negatives, sampler, alpha)
        self.kind = loss
        self.k = sorted(int(v) for v in k)

    def needs(self) -> DataNeeds:
        return DataNeeds(negatives=self.negatives)

    def eval_keys(self) -> list[str]:
        return [f"{m}@{k}" for m in (*RANKING_KEYS, *LIST_KEYS) for k in self.k]

    def primary_metric(self) -> str:
        return f"ndcg@{10 if 10 in self.k else self.k[0]}"

    def head(self, context: HeadContext) -> ItemScoreHead:
        n_items = len(context.data.items)
        return ItemScoreHead(
            context.in_dim, self.tower, self.activation, self.dropout, context.item_dim, n_items
        )

    def target(self, batch: Batch) -> tuple[Tensor, Tensor | None]:
        """The candidates' labels: the interacted item (column 0) is the one positive."""
        candidates = batch.inputs.candidates
        target = torch.zeros(candidates.shape, device=candidates.device)
        target[:, 0] = 1.0
        return target, None

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        if self.kind == "bpr":  # the positive is column 0
            return -F.logsigmoid(output[:, :1] - output[:, 1:]).mean(1)
        if self.kind == "softmax":
            return F.cross_entropy(output, target.argmax(1), reduction="none")
        return F.binary_cross_entropy_with_logits(output, target, reduction="none").mean(1)

    def collect(self, output: Tensor, batch: Batch) -> dict[str, Tensor]:
        """Per user: the top items of ``output`` (scores of the whole catalogue, known items
        excluded) and the ranking metrics of that list against the held-out items."""
        excluded = batch.inputs.known
        if "unranked" in batch.labels:  # cold-start items: the held-out items alone are ranked
            excluded = excluded | batch.labels["unranked"]
        top = top_k(output, excluded, max(self.k))
        return {**user_metrics(top, batch.labels["next_items"], self.k), "top": top}

    def summarise(self, parts: dict[str, Tensor], data: DataContext) -> dict[str, float]:
        out = {k: exact_mean(v) for k, v in parts.items() if k != "top"}
        top = parts["top"]
        out.update(coverage(top, data.catalogue_size, self.k))
        out.update(list_metrics(top, data, self.k))
        return out
