"""Metric registration: a metric is a function ``(pred, target) -> float`` with a direction.

Which way is better for a metric is known here only: one table, filled by :func:`metric` for the
registered functions and by :func:`direction` for what the framework computes itself (the loss,
the ranking metrics). Model selection, the sweep's objectives and ``mtfw report`` all ask
:func:`higher_is_better`.
"""

from __future__ import annotations

from collections.abc import Callable

from mtfw.errors import ConfigError
from mtfw.registry import get, load_components, names, register

# `<split>/mean/<metric>` and `<split>/weighted/loss` aggregate over the tasks: no task may take
# these names, and tables read them as summaries of the tasks, never as tasks of their own.
AGGREGATES = ("mean", "weighted")
_HIGHER_IS_BETTER: dict[str, bool] = {}  # metric name (no cut-off, no category) -> direction
_GROUPED: set[str] = set()  # metrics called as fn(pred, target, groups): per-user ones (gauc)


def direction(name: str, higher_is_better: bool) -> None:
    """Record which way is better for a metric name (``loss``: lower; ``ndcg``: higher)."""
    known = _HIGHER_IS_BETTER.get(name)
    if known is not None and known != higher_is_better:
        raise ConfigError(f"metric '{name}' is registered with both directions")
    _HIGHER_IS_BETTER[name] = higher_is_better


def metric(name: str, higher_is_better: bool, grouped: bool = False) -> Callable:
    """Register a metric function under ``name`` with its direction; a ``grouped`` one is called
    as ``fn(pred, target, groups)`` with each sample's group (user) id."""

    def decorate(fn: Callable) -> Callable:
        direction(name, higher_is_better)
        if grouped:
            _GROUPED.add(name)
        fn.higher_is_better = higher_is_better
        return register("metric", name)(fn)

    return decorate


def needs_groups(name: str) -> bool:
    """Whether the registered metric ``name`` reads each sample's group (user) id."""
    load_components()
    return name in _GROUPED


def directions() -> dict[str, bool]:
    """Every metric name with a known direction (the built-in and plug-in components loaded)."""
    load_components()
    return dict(_HIGHER_IS_BETTER)


def is_per_category(name: str) -> bool:
    """``auc_Action``: a registered metric on one category (interest per genre), as opposed to
    the metric itself or a ranking cut-off (``hit_rate@10``). Tables and means leave these out."""
    base, underscore, _ = name.partition("_")
    return bool(underscore) and "@" not in name and base in names("metric")


def higher_is_better(name: str) -> bool:
    """Whether larger values of the named metric are better (for model selection). Ranking
    metrics carry a cut-off (``ndcg@10``); per-category values a suffix (``auc_Action``).
    Raises a ConfigError for a name whose direction nobody registered."""
    base = name.split("@", 1)[0]
    known = directions()
    if base in known:
        return known[base]
    if is_per_category(base):
        base = base.split("_", 1)[0]
    if base in known:
        return known[base]
    return get("metric", base).higher_is_better  # a plug-in registered without metric(...)


direction("loss", False)  # every task's training loss, and their mean
# Numbers a run records beside its metrics, which a sweep may optimise (objectives: n_parameters).
direction("n_parameters", False)
direction("train_seconds", False)
direction("samples_per_second", True)
