"""Metrics, keyed ``<split>/<task>/<metric>`` in the run record."""

from mtfw.metrics import classification, regression
from mtfw.metrics.base import higher_is_better, is_per_category, metric

__all__ = ["classification", "higher_is_better", "is_per_category", "metric", "regression"]
