"""Which way is better for a metric key such as ``test/income/auc`` or ``test/ranking/ndcg@10``.

The registry knows the metrics it computes; a report also meets names from other versions or
plug-ins, so known names are listed here as a fallback, and a name neither knows is reported as
an assumption rather than guessed silently.
"""

from __future__ import annotations

HIGHER = {"auc", "gauc", "accuracy", "f1", "precision", "recall", "ndcg", "hit_rate", "hr",
          "mrr", "map", "coverage", "r2", "diversity", "novelty"}  # fmt: skip
LOWER = {"loss", "logloss", "rmse", "mse", "mae", "error", "mape"}


def metric_name(key: str) -> str:
    """``test/ranking/ndcg@10`` -> ``ndcg@10``: the part after the last slash."""
    return key.rsplit("/", 1)[-1]


def base_name(key: str) -> str:
    """``test/ranking/ndcg@10`` -> ``ndcg``: the metric without its cut-off."""
    return metric_name(key).split("@", 1)[0]


def higher_is_better(key: str) -> bool | None:
    """True or False for a known metric, None when neither the registry nor the lists know it."""
    name = metric_name(key)
    try:
        from mtfw.metrics import higher_is_better as registered

        return bool(registered(name))
    except Exception:  # not registered (or an older registry without cut-offs): try the lists
        pass
    base = base_name(key).lower()
    if base in HIGHER:
        return True
    if base in LOWER or base.endswith(("loss", "error")):
        return False
    return None


def better(key: str) -> bool:
    """Direction used for ranking and gains: unknown metrics are taken as higher-is-better (the
    report says so; see ``unknown_directions``)."""
    direction = higher_is_better(key)
    return True if direction is None else direction


def unknown_directions(keys: list[str]) -> list[str]:
    return [k for k in keys if higher_is_better(k) is None]
