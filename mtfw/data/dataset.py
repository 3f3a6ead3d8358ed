"""The base of the ``data`` registry kind: what a dataset provides, and how it is prepared.

A dataset declares ``provides``, the capabilities tasks may require: ``columns`` for a flat table
(one row per sample, label columns), ``users``, ``items`` and ``interactions`` for interaction
data. The whole data/task fit check is ``task.requires - dataset.provides``, made before any data
is loaded. ``prepare(needs)`` loads, splits, fits preprocessing on train only, and returns
:class:`PreparedData` holding exactly what the tasks' merged :class:`DataNeeds` ask for.
"""

from __future__ import annotations

from typing import ClassVar

from mtfw.data.needs import DataNeeds
from mtfw.data.prepared import PreparedData
from mtfw.data.split import SplitSpec


class Dataset:
    provides: ClassVar[frozenset[str]] = frozenset()
    split_protocols: ClassVar[tuple[str, ...]] = ("random", "time")
    default_split: ClassVar[str] = "random"

    def __init__(self, split: dict | None = None):
        self.split = SplitSpec.from_config(split, self.split_protocols, self.default_split)

    def prepare(self, needs: DataNeeds) -> PreparedData:
        raise NotImplementedError


CAPABILITIES = {
    "columns": "a flat table (one row per sample, with label columns)",
    "users": "interaction data (users, items, interactions)",
    "items": "interaction data (users, items, interactions)",
    "interactions": "interaction data (users, items, interactions)",
}


def describe(capabilities: frozenset[str] | set[str]) -> str:
    """``{"users", "items"}`` -> 'interaction data (users, items, interactions)'."""
    return " and ".join(dict.fromkeys(CAPABILITIES.get(c, c) for c in sorted(capabilities)))
