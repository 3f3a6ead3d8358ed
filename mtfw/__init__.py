"""mtfw: config-driven multi-task learning for recommender systems."""

__version__ = "0.1.0"
