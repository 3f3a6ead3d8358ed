"""The base class of flat datasets (census, synthetic, tabular files): one row per sample."""

from __future__ import annotations

from typing import ClassVar

from mtfw.data.dataset import Dataset
from mtfw.data.needs import DataNeeds
from mtfw.data.prepare import prepare_table
from mtfw.data.prepared import PreparedData
from mtfw.data.table import Table


class TableDataset(Dataset):
    """``load()`` returns a :class:`Table`; preparing it splits the rows and tensorises them."""

    provides: ClassVar[frozenset[str]] = frozenset({"columns"})

    def load(self) -> Table:
        raise NotImplementedError

    def prepare(self, needs: DataNeeds) -> PreparedData:
        return prepare_table(self.load(), self.split, needs)
