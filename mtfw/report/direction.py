"""Which way is better for a metric key such as ``test/income/auc`` or ``test/ranking/ndcg@10``.

The metrics module is the one place that knows (``mtfw.metrics.higher_is_better``); a report also
meets names nobody registered (other versions, plug-ins not installed), and reports those as an
assumption rather than guessing silently.
"""

from __future__ import annotations

from mtfw.errors import ConfigError


def metric_name(key: str) -> str:
    """``test/ranking/ndcg@10`` -> ``ndcg@10``: the part after the last slash."""
    return key.rsplit("/", 1)[-1]


def base_name(key: str) -> str:
    """``test/ranking/ndcg@10`` -> ``ndcg``: the metric without its cut-off."""
    return metric_name(key).split("@", 1)[0]


def higher_is_better(key: str) -> bool | None:
    """True or False for a metric whose direction is registered, None when nobody knows it."""
    from mtfw.metrics import higher_is_better as registered

    try:
        return registered(metric_name(key))
    except ConfigError:
        return None


def better(key: str) -> bool:
    """Direction used for ranking and gains: unknown metrics are taken as higher-is-better (the
    report says so; see ``unknown_directions``)."""
    direction = higher_is_better(key)
    return True if direction is None else direction


def unknown_directions(keys: list[str]) -> list[str]:
    return [k for k in keys if higher_is_better(k) is None]
