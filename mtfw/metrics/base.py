"""Metric registration: a metric is a function ``(pred, target) -> float`` with a direction."""

from __future__ import annotations

from collections.abc import Callable

from mtfw.registry import get, register

# Direction of metrics computed by the framework itself rather than registered functions.
LOSS_KEYS = {"loss": False}


def metric(name: str, higher_is_better: bool) -> Callable:
    def decorate(fn: Callable) -> Callable:
        fn.higher_is_better = higher_is_better
        return register("metric", name)(fn)

    return decorate


def higher_is_better(name: str) -> bool:
    """Whether larger values of the named metric are better (for model selection)."""
    if name in LOSS_KEYS:
        return LOSS_KEYS[name]
    return get("metric", name).higher_is_better
