"""Task types (the ``task`` registry kind)."""

from mtfw.tasks import pointwise
from mtfw.tasks.base import Task

__all__ = ["Task", "pointwise"]
