"""``.npy`` arrays written by appending rows (the shape known in advance) and read memory-mapped.

Rows are appended with plain file writes, never through a writable memory map: on a full disk a
write through a map kills the process with SIGBUS, a file write raises ``OSError`` (ENOSPC), which
the cache turns into a clear error.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from numpy.lib import format as npy


class NpyAppender:
    """An ``.npy`` file of ``shape`` (rows first) filled by :meth:`append` in row order."""

    def __init__(self, path: Path, dtype: np.dtype | str, shape: tuple[int, ...]):
        self.path, self.dtype, self.shape, self.written = path, np.dtype(dtype), shape, 0
        self.file = open(path, "wb")  # noqa: SIM115 (closed by close())
        header = {"descr": npy.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        npy.write_array_header_1_0(self.file, header)

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.shape[1:] != self.shape[1:] or self.written + len(rows) > self.shape[0]:
            raise ValueError(f"{self.path}: rows of shape {rows.shape} do not fit {self.shape} "
                             f"after {self.written} rows")  # fmt: skip
        self.file.write(rows.tobytes())
        self.written += len(rows)

    def close(self) -> None:
        self.file.close()
        if self.written != self.shape[0]:
            raise ValueError(f"{self.path}: {self.written} rows written of {self.shape[0]}")


def expected_bytes(dtype: np.dtype | str, shape: tuple[int, ...]) -> int:
    """The size of a complete ``.npy`` file of this dtype and shape (version 1.0 header)."""
    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": npy.dtype_to_descr(np.dtype(dtype)),
                                        "fortran_order": False, "shape": shape})  # fmt: skip
    return header.tell() + int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def open_mapped(path: Path) -> np.ndarray:
    """The array memory-mapped copy-on-write: reads come from the page cache, and the tensors
    made from it are writable views no process can write back to the file."""
    return np.load(path, mmap_mode="c")
