"""Recommendation: interaction data, user/item models, ranking evaluation, classical baselines."""

from mtfw.recsys import baselines, history, interaction_files, movielens, pair_tasks, tasks

__all__ = ["baselines", "history", "interaction_files", "movielens", "pair_tasks", "tasks"]
