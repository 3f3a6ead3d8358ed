"""Which columns of a file a data config means: shell patterns matched against the columns, and a
column listed under one kind only."""

from __future__ import annotations

import fnmatch

from mtfw.errors import ConfigError
from mtfw.settings import closest

KINDS = ("ids", "categorical", "numeric", "sequence", "text")


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
