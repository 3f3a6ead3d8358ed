"""Which columns of a file a data config means: shell patterns matched against the columns, a
column listed under one kind only, and the storage the data is prepared in."""

from __future__ import annotations

import fnmatch

from mtfw.data.disk.plan import DiskSettings
from mtfw.data.disk.source import FileSource
from mtfw.errors import ConfigError
from mtfw.settings import closest

KINDS = ("ids", "categorical", "numeric", "sequence", "text")
STORAGES = ("memory", "disk", "auto")


def match_columns(patterns: list[str], columns: list[str], what: str) -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        hits = [c for c in columns if fnmatch.fnmatchcase(c, pattern)]
        if not hits:
            raise ConfigError(
                f"data.{what}: no column matches '{pattern}'.{closest(pattern, columns)} "
                f"Columns: {', '.join(columns[:40])}{' ...' if len(columns) > 40 else ''}"
            )
        found += [c for c in hits if c not in found]
    return found


def check_one_kind(kinds: dict[str, list[str]]) -> None:
    """Refuse a column listed under two kinds (``categorical`` and ``numeric``): which one it is
    decides how it is read, so mtfw never picks one silently."""
    seen: dict[str, str] = {}
    for kind, columns in kinds.items():
        for column in columns:
            if column in seen and seen[column] != kind:
                raise ConfigError(
                    f"data: column '{column}' is listed under both {seen[column]} and {kind}; a "
                    f"column has one kind ({', '.join(KINDS)}): keep it under one of them"
                )
            seen.setdefault(column, kind)


def check_storage(storage: str) -> str:
    if storage not in STORAGES:
        raise ConfigError(f"data.storage={storage!r}: expected memory (the data in memory as "
                          "tensors), disk (a memory-mapped cache, for data larger than memory) "
                          f"or auto (disk above data.disk.auto_above_mb)")  # fmt: skip
    return storage


def on_disk(storage: str, source: FileSource, disk: DiskSettings) -> bool:
    """``auto``: disk when the files are larger than ``disk.auto_above_mb`` megabytes."""
    if storage == "auto":
        return source.size_bytes() > disk.auto_above_mb * 2**20
    return storage == "disk"
