"""Reading a data file so that a broken one is a clear error, not a parser traceback."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from mtfw.errors import DataFileError

FORMATS = {".parquet": "parquet", ".gz": "gzip-compressed CSV", ".zip": "zipped CSV"}


@contextmanager
def reading(path: Path | str) -> Iterator[None]:
    """Turn any failure to parse ``path`` into a DataFileError naming the file and its format."""
    path = Path(path)
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataFileError(f"data file {path} is empty (no columns to read)") from None
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as err:
        expected = FORMATS.get(path.suffix, "CSV")
        raise DataFileError(
            f"cannot read data file {path} as {expected}: {type(err).__name__}: {err}. The file "
            "is truncated, corrupt or in another format; fetch it again or point the data config "
            "at a good copy"
        ) from None


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (optionally compressed) or parquet file, or a directory of parquet parts, as a
    frame."""
    with reading(path):
        if path.suffix == ".parquet" or path.is_dir():
            return pd.read_parquet(path)
        frame = pd.read_csv(path, low_memory=False)
    if frame.columns.size == 0 or len(frame) == 0:
        raise DataFileError(f"data file {path} has no rows")
    return frame
