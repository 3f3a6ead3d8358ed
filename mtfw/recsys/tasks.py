"""Tasks on interaction data: item ranking and user interest per category (rating and like:
``pair_tasks.py``).

They differ in granularity. ``ranking``, ``rating`` and ``like`` are per (user, item) pair: their
heads score items against the user representation. ``interest`` is per user: its head reads the
representation alone. All four read the same per-user representation from the shared encoder, so
any subset trains jointly, each training row being one interaction: the user as of just before it.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from mtfw.errors import ConfigError
from mtfw.metrics.ranking import coverage, top_k, user_metrics
from mtfw.recsys.heads import InterestHead, PairHead
from mtfw.recsys.sets import RecEvalSet
from mtfw.registry import get, register
from mtfw.tasks.base import Task

RANKING_KEYS = ("precision", "recall", "ndcg", "hit_rate")


class InteractionTask(Task):
    """Base of the tasks that need an interaction dataset (``data=movielens100k``, ...)."""

    interaction = True

    def target(self, raw: Tensor) -> Tensor:
        return raw

    def loss(self, output: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
        return super().loss(output, self.target(target), mask)

    def rec_head(
        self, in_dim: int, dim: int, n_items: int, n_categories: int, label_mean: float
    ) -> nn.Module:
        raise NotImplementedError

    def collect(
        self,
        head: nn.Module,
        rep: Tensor,
        items: nn.Module,
        vectors: Tensor,
        data: RecEvalSet,
        rows: slice,
    ) -> dict[str, Tensor]:
        """Per-batch evaluation results of the users ``rows`` (concatenated by ``summarise``)."""
        raise NotImplementedError

    def summarise(self, parts: dict[str, Tensor], data: RecEvalSet) -> dict[str, float]:
        raise NotImplementedError


@register("task", "ranking")
class RankingTask(InteractionTask):
    """Item recommendation from implicit feedback: each interaction is a positive, ``negatives``
    items are drawn per positive each epoch (``sampler``: uniform | popularity, ** ``alpha``);
    ``loss``: bce (pointwise), bpr (pairwise) or softmax (sampled softmax). Evaluated by ranking
    the whole catalogue minus known items: precision, recall, ndcg, hit_rate, coverage @ ``k``."""

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
        if negatives < 1 or not k or min(k) < 1:
            raise ConfigError(f"task.{name}: negatives and every k must be at least 1")
        self.negatives, self.sampler, self.alpha, self.kind = negatives, sampler, alpha, loss
        self.k = sorted(int(v) for v in k)

    def eval_keys(self) -> list[str]:
        return [f"{m}@{k}" for m in (*RANKING_KEYS, "coverage") for k in self.k]

    def primary_metric(self) -> str:
        return f"ndcg@{10 if 10 in self.k else self.k[0]}"

    def rec_head(self, in_dim, dim, n_items, n_categories, label_mean):
        return PairHead(in_dim, self.tower, self.activation, self.dropout, dim, n_items, False)

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        if self.kind == "bpr":  # the positive is column 0
            return -F.logsigmoid(output[:, :1] - output[:, 1:]).mean(1)
        if self.kind == "softmax":
            return F.cross_entropy(output, target.argmax(1), reduction="none")
        return F.binary_cross_entropy_with_logits(output, target, reduction="none").mean(1)

    def collect(self, head, rep, items, vectors, data, rows):
        return self.collect_scores(head.score_all(rep, vectors), data, rows)

    def collect_scores(self, scores: Tensor, data: RecEvalSet, rows: slice) -> dict[str, Tensor]:
        n = scores.shape[1]
        top = top_k(scores, data.known.dense(rows, n), max(self.k))
        return {**user_metrics(top, data.relevant.dense(rows, n), self.k), "top": top}

    def summarise(self, parts, data):
        out = {k: float(v.mean()) for k, v in parts.items() if k != "top"}
        out.update(coverage(parts["top"], self.catalogue_size, self.k))
        return out

    catalogue_size = 1  # set by the experiment builder: items in the catalogue


@register("task", "interest")
class InterestTask(InteractionTask):
    """Which categories (genres) the user's next interactions fall in: multi-label, one logit per
    category; AUC and F1 per category (``auc_<category>``) and their mean over categories."""

    def __init__(
        self,
        name: str,
        weight: float = 1.0,
        tower: list[int] = (64,),
        activation: str = "relu",
        dropout: float = 0.0,
        window: int = 5,
        metrics: list[str] = ("auc", "f1"),
        train: bool = True,
    ):
        super().__init__(
            name, "interest", weight, tower, activation, dropout, list(metrics), train=train
        )
        self.window = window  # training rows: the categories of the next `window` items

    def rec_head(self, in_dim, dim, n_items, n_categories, label_mean):
        return InterestHead(in_dim, self.tower, self.activation, self.dropout, n_categories)

    def pointwise_loss(self, output: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none").mean(1)

    def collect(self, head, rep, items, vectors, data, rows):
        return {"logits": head(rep)}

    def summarise(self, parts, data):
        logits, target = parts["logits"], data.interest.cpu()
        out = {"loss": float(self.pointwise_loss(logits, target).mean())}
        prob = logits.sigmoid()
        for m in self.metrics:
            values = {}
            for g, category in enumerate(self.categories):
                value = get("metric", m)(prob[:, g], target[:, g])
                if value == value:  # NaN when the split holds one class only: not reported
                    values[category] = out[f"{m}_{category}"] = value
            out[m] = sum(values.values()) / len(values) if values else float("nan")
        return out

    categories: tuple[str, ...] = ()  # set by the experiment builder
