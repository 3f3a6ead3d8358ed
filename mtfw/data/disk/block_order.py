"""The order a disk-backed split is trained in: block-wise shuffling, seeded.

The rows are cut into blocks of ``block_rows`` consecutive rows; each epoch draws a permutation of
the blocks, reads them ``shuffle_blocks`` at a time (contiguous reads of the cache) and draws a
permutation of the rows of those blocks. Every draw comes from the epoch's generator, so a run
(and a resumed run) sees the same batches for the same seed and epoch; memory holds one buffer of
``block_rows * shuffle_blocks`` rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class BlockShuffle:
    block_rows: int
    shuffle_blocks: int

    def buffers(self, n: int, generator: torch.Generator) -> Iterator[tuple[list[slice], Tensor]]:
        """Per buffer: its blocks (row slices, in the drawn order) and the drawn order of its
        rows (positions in the blocks' rows laid end to end)."""
        blocks = -(-n // self.block_rows)
        order = torch.randperm(blocks, generator=generator).tolist()
        for start in range(0, blocks, self.shuffle_blocks):
            chosen = order[start : start + self.shuffle_blocks]
            slices = [slice(b * self.block_rows, min((b + 1) * self.block_rows, n)) for b in chosen]
            rows = sum(s.stop - s.start for s in slices)
            yield slices, torch.randperm(rows, generator=generator)
