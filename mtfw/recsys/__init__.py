"""Recommendation: interaction data, user/item models, ranking evaluation, classical baselines."""

from mtfw.recsys import baselines, history, movielens, tasks

__all__ = ["baselines", "history", "movielens", "tasks"]
