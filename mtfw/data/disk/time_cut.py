"""The newest rows by time, found in streaming passes: ``data.split.by=time`` on disk storage.

In memory, rows are ordered by ``(time, row)`` (a stable sort) and the newest ``round(n * test)``
are test, the ``round(n * val)`` before them val. On disk the same rows are found without sorting:
the k-th largest ``(time, row)`` pair is selected by a radix selection over order-preserving
64-bit keys of the times (four passes of 16 bits over the times, written to a scratch file by the
first pass), then a scan for the row among equal times. Missing times sort above every number,
as NumPy's sort puts NaN last. Memory: one 65,536-bin histogram.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

Chunks = Callable[[], Iterator[np.ndarray]]  # the times, in row order, a chunk at a time
_SIGN = np.uint64(1 << 63)


def order_keys(times: np.ndarray) -> np.ndarray:
    """uint64 keys ordered as the float64 times (NaN above +inf)."""
    bits = np.ascontiguousarray(times, dtype=np.float64).view(np.uint64)
    return np.where(bits & _SIGN, ~bits, bits | _SIGN)


@dataclass(frozen=True)
class Cut:
    """A ``(key, row)`` pair: the rows at or above it (lexicographically) are the newest."""

    key: int
    row: int

    def at_or_above(self, keys: np.ndarray, rows: np.ndarray) -> np.ndarray:
        key = np.uint64(self.key)
        return (keys > key) | ((keys == key) & (rows >= self.row))


def kth_newest(chunks: Chunks, k: int) -> Cut | None:
    """The k-th largest ``(key, row)`` (1-based); None for k = 0 (no row is that new)."""
    if k <= 0:
        return None
    prefix, mask, ties = np.uint64(0), np.uint64(0), 0
    for shift in (np.uint64(48), np.uint64(32), np.uint64(16), np.uint64(0)):
        hist = np.zeros(1 << 16, dtype=np.int64)
        for times in chunks():
            keys = order_keys(times)
            keys = keys[(keys & mask) == prefix]
            hist += np.bincount(((keys >> shift) & np.uint64(0xFFFF)).astype(np.int64),
                                minlength=1 << 16)  # fmt: skip
        above = np.cumsum(hist[::-1])  # rows in this bin or higher ones, from the top bin down
        top = int(np.searchsorted(above, k))  # the first bin (from the top) reaching k rows
        b = (1 << 16) - 1 - top
        k -= int(above[top - 1]) if top else 0
        ties = int(hist[b])
        prefix |= np.uint64(b) << shift
        mask |= np.uint64(0xFFFF) << shift
    # Among the ``ties`` rows of this key, the k-th largest row: the (ties - k + 1)-th in row order.
    wanted, seen, offset = ties - k + 1, 0, 0
    for times in chunks():
        hits = np.flatnonzero(order_keys(times) == prefix)
        if seen + hits.size >= wanted:
            return Cut(int(prefix), offset + int(hits[wanted - seen - 1]))
        seen, offset = seen + hits.size, offset + times.size
    raise AssertionError("the selected key has fewer rows than counted")  # never: same data
