"""Datasets, preprocessing and columnar batching."""

from mtfw.data import census, synthetic, tabular
from mtfw.data.columns import Columns
from mtfw.data.prepare import Prepared, prepare
from mtfw.data.table import Dataset, Table

__all__ = [
    "Columns", "Dataset", "Prepared", "Table", "census", "prepare", "synthetic", "tabular",
]  # fmt: skip
