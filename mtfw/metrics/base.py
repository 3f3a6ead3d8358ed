"""Metric registration: a metric is a function ``(pred, target) -> float`` with a direction."""

from __future__ import annotations

from collections.abc import Callable

from mtfw.registry import get, names, register

# Direction of metrics computed by the framework itself rather than registered functions.
LOSS_KEYS = {"loss": False}


def metric(name: str, higher_is_better: bool) -> Callable:
    def decorate(fn: Callable) -> Callable:
        fn.higher_is_better = higher_is_better
        return register("metric", name)(fn)

    return decorate


def is_per_category(name: str) -> bool:
    """``auc_Action``: a registered metric on one category (interest per genre), as opposed to
    the metric itself or a ranking cut-off (``hit_rate@10``). Tables and means leave these out."""
    base, underscore, _ = name.partition("_")
    return bool(underscore) and "@" not in name and base in names("metric")


def higher_is_better(name: str) -> bool:
    """Whether larger values of the named metric are better (for model selection). Ranking
    metrics carry a cut-off (``ndcg@10``); per-category values a suffix (``auc_Action``)."""
    from mtfw.metrics.ranking import RANKING_METRICS

    base = name.split("@", 1)[0]
    if base in LOSS_KEYS:
        return LOSS_KEYS[base]
    if base in RANKING_METRICS:
        return RANKING_METRICS[base]
    if is_per_category(base):
        base = base.split("_", 1)[0]
    return get("metric", base).higher_is_better
