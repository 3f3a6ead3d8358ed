"""What building a disk cache reads and how: the files, the declared columns, the labels' specs,
the split, the chunking; and the spec the cache is keyed by."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from mtfw.data.disk.source import FileSource
from mtfw.data.id_vocab import per_column
from mtfw.data.preprocess import Preprocessor
from mtfw.data.split import SplitSpec
from mtfw.data.table import Table
from mtfw.errors import ConfigError
from mtfw.value_types import Count

STORAGES = ("memory", "disk", "auto")  # data.storage
FORMAT = 1  # of the cache's files: a change here makes every older cache a miss


@dataclass(frozen=True)
class DiskSettings:
    """``data.disk``: where the cache lives and how much memory reading takes."""

    cache_dir: str | None = None  # null: $MTFW_CACHE/columns (default ~/.cache/mtfw/columns)
    chunk_rows: Count = 262_144  # rows read, fitted and encoded at a time (preprocessing memory)
    block_rows: Count = 8_192  # rows read contiguously; training shuffles whole blocks ...
    shuffle_blocks: Count = 64  # ... this many at a time, then the rows among them
    auto_above_mb: Count = 1024  # data.storage=auto: disk when the files are larger than this

    def root(self) -> Path:
        if self.cache_dir:
            return Path(self.cache_dir).expanduser()
        base = os.environ.get("MTFW_CACHE") or Path.home() / ".cache" / "mtfw"
        return Path(base) / "columns"


@dataclass(frozen=True)
class DiskPlan:
    source: FileSource
    table: Table  # the declared columns; its frame is empty
    labels: dict[str, str | dict]  # name -> data.labels spec
    split: SplitSpec

    def read_columns(self) -> list[str]:
        """The raw columns the passes read: inputs, label sources, timestamp, user, group."""
        t = self.table
        sources = [c for name in t.labels for c in t.label_sources.get(name, [name])]
        extra = [t.timestamp, t.user_id, self.split.group]
        wanted = [*t.categorical, *t.numeric, *t.sequence, *sources, *extra]
        return [c for c in dict.fromkeys(wanted) if c is not None]

    def text_columns(self) -> list[str]:
        """Columns read as text from a CSV: ids and tokens keep their digits exactly."""
        t = self.table
        group = [self.split.group] if self.split.group else []
        return list(dict.fromkeys([*t.categorical, *t.sequence, *([t.user_id] if t.user_id
                                                                  else []), *group]))  # fmt: skip

    def preprocessor(self) -> Preprocessor:
        t = self.table
        return Preprocessor(
            t.categorical, t.numeric, t.log1p, t.sequence, t.missing_indicator, None,
            per_column(t.min_count, t.categorical, "min_count"),
            per_column(t.hash_buckets, t.categorical, "hash_buckets"),
        )  # fmt: skip

    def spec(self, checksum: str) -> dict:
        """Everything the cache's contents depend on (never the chunking or the shuffling)."""
        t = self.table
        return {
            "format": FORMAT, "checksum": checksum,
            "sources": [str(p) for p in self.source.paths.values()],
            "categorical": t.categorical, "numeric": t.numeric, "log1p": t.log1p,
            "sequence": t.sequence, "missing_indicator": t.missing_indicator,
            "min_count": t.min_count, "hash_buckets": t.hash_buckets, "labels": self.labels,
            "coerce": t.coerce, "timestamp": t.timestamp, "user_id": t.user_id,
            "split": {k: v for k, v in asdict(self.split).items() if k != "stratify"},
        }  # fmt: skip


def check_storage(storage: str) -> str:
    if storage not in STORAGES:
        raise ConfigError(f"data.storage={storage!r}: expected memory (the data in memory as "
                          "tensors), disk (a memory-mapped cache, for data larger than memory) "
                          "or auto (disk above data.disk.auto_above_mb)")  # fmt: skip
    return storage


def on_disk(storage: str, source: FileSource, disk: DiskSettings) -> bool:
    """``auto``: disk when the files are larger than ``disk.auto_above_mb`` megabytes."""
    if storage == "auto":
        return source.size_bytes() > disk.auto_above_mb * 2**20
    return storage == "disk"
