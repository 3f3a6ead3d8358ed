"""Task types (the ``task`` registry kind): label columns of flat tables (binary, regression,
count), and item ranking, interest per category, rating and like on interaction data."""

from mtfw.tasks import count, interest, pair, pointwise, ranking
from mtfw.tasks.base import Task

__all__ = ["Task", "count", "interest", "pair", "pointwise", "ranking"]
