"""Datasets (the ``data`` kind): flat tables and interaction data, prepared into splits that all
offer one batch protocol."""

from mtfw.data import census, movielens, synthetic, tabular
from mtfw.data.batch import Batch, Inputs, Split
from mtfw.data.columns import Columns
from mtfw.data.dataset import Dataset
from mtfw.data.flat import TableDataset
from mtfw.data.interactions import files as interaction_files
from mtfw.data.needs import DataNeeds, Negatives, merge_needs
from mtfw.data.prepared import DataContext, InputSpec, PreparedData
from mtfw.data.table import Table

__all__ = [
    "Batch", "Columns", "DataContext", "DataNeeds", "Dataset", "InputSpec", "Inputs",
    "Negatives", "PreparedData", "Split", "Table", "TableDataset", "census", "interaction_files",
    "merge_needs", "movielens", "synthetic", "tabular",
]  # fmt: skip
