"""Metrics, keyed ``<split>/<task>/<metric>`` in the run record."""

from mtfw.metrics import beyond_accuracy, classification, grouped, ranking, regression
from mtfw.metrics.base import (
    AGGREGATES,
    direction,
    directions,
    higher_is_better,
    is_per_category,
    metric,
)

__all__ = [
    "AGGREGATES",
    "beyond_accuracy",
    "classification",
    "direction",
    "directions",
    "grouped",
    "higher_is_better",
    "is_per_category",
    "metric",
    "ranking",
    "regression",
]
