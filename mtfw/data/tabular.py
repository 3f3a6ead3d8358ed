"""Bring your own data with zero Python: a CSV or parquet file, or pre-split files, in YAML.

Columns are named, or matched with shell-style patterns (``numerical_*``). A label is a column, or a
column restricted to the rows where another is non-zero (``{column: conversion, where: visit}``: the
conversion rate of visitors, NaN elsewhere), or a column thresholded into 0/1 (``{column: rating,
min: 4}``). A column has one kind: listing it under two of ids, categorical, numeric, sequence
and text (``{review: {encoder: tfidf}}``) is an error. ``coerce`` (true, or numeric columns) reads
values of numeric columns that are not numbers as missing; ``missing_indicator: true`` adds a 0/1
input per numeric column with missing values in train. ``min_count`` and ``hash_buckets`` shape the
categorical rows (``mtfw.data.id_vocab``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mtfw.data.column_match import KINDS, check_one_kind, match_columns
from mtfw.data.disk.plan import DiskPlan, DiskSettings, check_storage, on_disk
from mtfw.data.disk.prepare_disk import prepare_on_disk
from mtfw.data.disk.source import FileSource
from mtfw.data.flat import TableDataset
from mtfw.data.id_vocab import check_per_column
from mtfw.data.label_spec import derive_label, refuse_label_log1p
from mtfw.data.locate import locate
from mtfw.data.needs import DataNeeds
from mtfw.data.prepare import prepare_table
from mtfw.data.prepared import PreparedData
from mtfw.data.reading import read_table
from mtfw.data.table import Table
from mtfw.data.text.columns import TextColumns
from mtfw.registry import ConfigError, register
from mtfw.settings import plain, settings_from
from mtfw.value_types import check_range, check_ranges, check_types, declared_types


@register("data", "tabular")
class TabularFile(TableDataset):
    """A CSV/parquet file declared in config: categorical, numeric and label columns."""

    def __init__(
        self,
        labels: dict,
        path: str | None = None,
        filename: str | None = None,
        root: str | None = None,
        files: dict | None = None,
        categorical: list[str] = (),
        numeric: list[str] = (),
        log1p: list[str] = (),
        ids: list[str] = (),
        sequence: dict | None = None,
        timestamp: str | None = None,
        exclude: list[str] = (),
        split: dict | None = None,
        coerce: bool | list[str] = False,
        missing_indicator: bool = False,
        user_id: str | None = None,
        text: dict | None = None,
        min_count: int | dict | None = None,
        hash_buckets: int | dict | None = None,
        storage: str = "memory",
        disk: dict | None = None,
    ):
        super().__init__(split)
        self.storage = check_storage(storage)  # data.storage: memory | disk | auto
        self.disk = settings_from(DiskSettings, disk, "data.disk")
        check_ranges(plain(disk), declared_types(DiskSettings), "data.disk")
        self.min_count = check_per_column("min_count", min_count, low=1)  # mtfw.data.id_vocab
        self.hash_buckets = check_per_column("hash_buckets", hash_buckets, low=2)
        self.user_id = user_id  # whose row each is: the groups of gauc (need not be an input)
        self.exclude = list(exclude)  # never inputs: an id, a column known only after the outcome
        self.labels, self.path, self.filename, self.root = dict(labels), path, filename, root
        self.files = dict(files or {})
        self.categorical, self.numeric, self.log1p = list(categorical), list(numeric), list(log1p)
        # ids (user_id, item_id) are categorical features whose unseen values map to id 0
        self.ids, self.timestamp = list(ids), timestamp
        self.sequence = {c: dict(s or {}) for c, s in (sequence or {}).items()}
        self.coerce, self.missing_indicator = coerce, missing_indicator
        for column, spec in self.sequence.items():
            unknown = set(spec) - {"separator", "max_length"}
            if unknown:
                raise ConfigError(f"data.sequence.{column}: keys are separator and max_length, "
                                  f"got {sorted(spec)}")  # fmt: skip
            check_types(spec, {"separator": str, "max_length": int}, f"data.sequence.{column}")
            check_range(f"data.sequence.{column}.max_length", spec.get("max_length", 20), low=1)
        self.text = TextColumns(text)  # encoders and model files checked before any data loads
        check_one_kind(self._kinds(ids, categorical, numeric, self.sequence, self.text.names))
        refuse_label_log1p(self.log1p, self.labels)
        if not self.files and not (path or filename):
            raise ConfigError(
                "data: set data.path (or data.filename, or data.files.train/val/test)"
            )
        if self.files and not {"train", "test"} <= set(self.files) <= {"train", "val", "test"}:
            raise ConfigError(f"data.files needs train and test (and may have val): {self.files}")

    @staticmethod
    def _kinds(ids, categorical, numeric, sequence, text) -> dict[str, list[str]]:
        lists = (list(ids), list(categorical), list(numeric), list(sequence), list(text))
        return dict(zip(KINDS, lists, strict=True))

    def _find(self, path: str | None) -> Path:
        name = Path(path or self.filename).name
        return locate(
            name, path=path, root=self.root, packaged=None, url=None, sha256=None,
            allow_download=False, how_to_get="Set data.path (or data.root / $MTFW_DATA).",
        )  # fmt: skip

    def data_paths(self) -> dict[str, Path]:
        """Split name -> file for pre-split files, else ``{"all": file}`` (a CSV or parquet
        file, or a directory of parquet parts)."""
        return {s: self._find(p) for s, p in self.files.items()} or {"all": self._find(self.path)}

    def describe(self, paths: dict[str, Path]) -> str:
        return ", ".join(str(p) for p in paths.values())

    def prepare(self, needs: DataNeeds) -> PreparedData:
        """In memory (a frame, then tensors), or on disk (``data.storage``): same splits."""
        paths = self.data_paths()
        source = FileSource(paths, self.disk.chunk_rows)
        if not on_disk(self.storage, source, self.disk):
            return prepare_table(self.load(paths), self.split, needs)
        table = self.declare(pd.DataFrame(columns=source.columns()))
        table.source = self.describe(paths)
        labels = {name: plain(spec) if isinstance(spec, Mapping) else spec
                  for name, spec in self.labels.items()}  # fmt: skip
        return prepare_on_disk(DiskPlan(source, table, labels, self.split), needs, self.disk)

    def load(self, paths: dict[str, Path] | None = None) -> Table:
        paths = paths or self.data_paths()
        frames = {s: read_table(p) for s, p in paths.items()}
        frame = pd.concat(frames.values(), ignore_index=True)
        table = self.declare(frame)
        table.checksum = FileSource(paths, self.disk.chunk_rows).checksum()
        table.source = self.describe(paths)
        if self.files:
            sizes = np.cumsum([0, *(len(f) for f in frames.values())])
            table.fixed_splits = {s: np.arange(sizes[i], sizes[i + 1])
                                  for i, s in enumerate(frames)}  # fmt: skip
        return table

    def declare(self, frame: pd.DataFrame) -> Table:
        """The table of ``frame`` (the whole data, or no rows: the columns only) as the config
        declares it: the columns matched, the labels derived, every declaration checked."""
        columns = [str(c) for c in frame.columns]
        frame.columns = columns
        derived = {name: derive_label(frame, name, spec) for name, spec in self.labels.items()}
        for name, (values, _) in derived.items():  # after deriving all: a label may reuse a name
            frame[name] = values
        label_sources = {name: sources for name, (_, sources) in derived.items()}
        sequences = {
            column: spec
            for pattern, spec in self.sequence.items()
            for column in match_columns([pattern], columns, "sequence")
        }
        stamp = match_columns([self.timestamp], columns, "timestamp")[0] if self.timestamp else None
        user = match_columns([self.user_id], columns, "user_id")[0] if self.user_id else None
        ids = match_columns(self.ids, columns, "ids")
        categorical = match_columns(self.categorical, columns, "categorical")
        numeric = match_columns(self.numeric, columns, "numeric")
        unknown = [c for c in self.log1p if c not in numeric]
        if unknown:  # the preprocessing would silently skip them
            raise ConfigError(
                f"data.log1p names {', '.join(unknown)}, not among the numeric columns "
                f"({', '.join(numeric) or 'none'}): log1p applies to numeric input features only"
            )
        check_one_kind(self._kinds(ids, categorical, numeric, sequences, self.text.names))
        categorical = [*ids, *categorical]
        coerce = self.coerce if isinstance(self.coerce, list) else (numeric if self.coerce else [])
        coerce = match_columns(coerce, columns, "coerce")
        excluded = set(match_columns(self.exclude, columns, "exclude"))
        inputs = sorted(excluded & {*categorical, *numeric, *sequences, *self.text.names})
        if inputs:
            raise ConfigError(
                f"data.exclude names {', '.join(inputs)}, which the data config also lists as "
                "input(s): an excluded column is never an input; drop it from categorical/numeric"
            )
        return Table(
            frame=frame,
            categorical=categorical,
            numeric=numeric,
            labels=list(self.labels),
            label_sources=label_sources,
            log1p=self.log1p,
            sequence=sequences,
            timestamp=stamp,
            coerce=coerce,
            missing_indicator=self.missing_indicator,
            user_id=user,
            text=self.text,
            min_count=self.min_count,
            hash_buckets=self.hash_buckets,
        )
