"""The files of a flat table, read a chunk at a time: CSV (optionally compressed), a parquet
file, or a directory of parquet parts (in name order); one file, or pre-split ``files``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from mtfw.data.locate import sha256sum
from mtfw.data.reading import reading
from mtfw.errors import DataFileError

Chunk = tuple[str | None, int, pd.DataFrame]  # the file's split, the first row's number, rows


def parts(path: Path) -> list[Path]:
    """The files of ``path``: itself, or a directory's parquet parts in name order."""
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    if not found:
        raise DataFileError(f"data directory {path} holds no .parquet file (a directory of "
                            "parquet parts is read in name order)")  # fmt: skip
    return found


def is_parquet(path: Path) -> bool:
    return path.is_dir() or path.suffix == ".parquet"


@dataclass(frozen=True)
class FileSource:
    """``paths``: split name -> file for pre-split files, or ``{"all": file}``."""

    paths: dict[str, Path]
    chunk_rows: int

    @property
    def fixed(self) -> bool:
        return "all" not in self.paths

    def columns(self) -> list[str]:
        """The column names of the first file, read without its rows."""
        path = next(iter(self.paths.values()))
        with reading(path):
            if is_parquet(path):
                return [str(c) for c in pq.read_schema(parts(path)[0]).names]
            return [str(c) for c in pd.read_csv(path, nrows=0).columns]

    def checksum(self) -> str:
        """The memory storage's checksum of the same files (sha256 of the files' sha256s)."""
        digests = "".join(sha256sum(p) for path in self.paths.values() for p in parts(path))
        return hashlib.sha256(digests.encode()).hexdigest()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for path in self.paths.values() for p in parts(path))

    def chunks(self, columns: list[str], as_text: list[str]) -> Iterator[Chunk]:
        """``(the file's split or None, the chunk's first row number, the chunk)`` in row order
        over all files; ``as_text``: columns read as text from a CSV (ids keep their digits,
        whatever type each chunk's values would suggest)."""
        offset = 0
        for split, path in self.paths.items():
            for frame in self._read(path, columns, as_text):
                yield (None if split == "all" else split), offset, frame
                offset += len(frame)

    def _read(self, path: Path, columns: list[str], as_text: list[str]) -> Iterator[pd.DataFrame]:
        with reading(path):
            if is_parquet(path):  # a row group at a time: a dataset scanner reads far ahead,
                for part in parts(path):  # and iter_batches kept ~47 bytes a row read (pyarrow 26)
                    reader = pq.ParquetFile(part)
                    for group in range(reader.num_row_groups):
                        table = reader.read_row_group(group, columns=columns)
                        for batch in table.to_batches(max_chunksize=self.chunk_rows):
                            yield batch.to_pandas()
                return
            dtypes = {c: "string" for c in as_text}
            with pd.read_csv(path, usecols=columns, dtype=dtypes, chunksize=self.chunk_rows) as it:
                yield from it
