"""One split of a disk cache as a split like any other: ``len``, ``take``, ``batches``, ``to``.

Contiguous rows (evaluation's in-order slices, the blocks of a shuffle buffer) are read with
positioned file reads into the process's own memory, not through the maps, so the pages read stay
in the page cache and out of the process's resident set; ``take`` with row numbers and the label
columns use the maps. ``batches`` with a generator reads block-shuffled buffers
(``mtfw.data.disk.block_order``) and cuts them into batches, the rows left over from one buffer
opening the next, so every batch but the epoch's last is full. Batches for a CUDA device go
through pinned memory, non-blocking (``mtfw.data.transfer``). The label columns are views of the
maps (the page cache holds them, not the process).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from mtfw.data.batch import Batch, Inputs, index_batches, take_rows
from mtfw.data.disk.block_order import BlockShuffle
from mtfw.data.disk.npy_files import open_mapped
from mtfw.data.transfer import to_device


@dataclass
class MappedColumns:
    """``fields``: ``cat``, ``num`` (and ``seq``) arrays, and per label ``label:<name>`` (and
    ``mask:<name>``): row-aligned memory maps."""

    fields: dict[str, np.ndarray]
    shuffle: BlockShuffle
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @classmethod
    def open(cls, folder: Path, labels: dict[str, str], shuffle: BlockShuffle) -> MappedColumns:
        """``labels``: the label name each ``label<i>``/``mask<i>`` file holds -> by file stem."""
        fields = {name: open_mapped(folder / f"{name}.npy") for name in ("cat", "num", "seq")
                  if (folder / f"{name}.npy").is_file()}  # fmt: skip
        for stem, label in labels.items():
            fields[f"label:{label}"] = open_mapped(folder / f"label{stem}.npy")
            if (folder / f"mask{stem}.npy").is_file():
                fields[f"mask:{label}"] = open_mapped(folder / f"mask{stem}.npy")
        return cls(fields, shuffle)

    def with_groups(self, folder: Path, name: str) -> MappedColumns:
        """The same split with each row's user (``groups.npy``) as the label column ``name``."""
        return replace(
            self, fields={**self.fields, f"label:{name}": open_mapped(folder / "groups.npy")}
        )

    def __len__(self) -> int:
        return len(self.fields["cat"])

    @property
    def labels(self) -> dict[str, Tensor]:
        return {k[6:]: torch.from_numpy(v) for k, v in self.fields.items() if k[:6] == "label:"}

    @property
    def masks(self) -> dict[str, Tensor]:
        return {k[5:]: torch.from_numpy(v) for k, v in self.fields.items() if k[:5] == "mask:"}

    def label_columns(self) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        return self.labels, self.masks

    def to(self, device: torch.device) -> MappedColumns:
        return replace(self, device=torch.device(device))

    def read(self, key: str, rows: slice) -> np.ndarray:
        """Rows ``rows`` (a slice without step) of field ``key``, read from its file."""
        mapped = self.fields[key]
        start, stop, _ = rows.indices(len(mapped))
        stop = max(start, stop)
        per_row = int(np.prod(mapped.shape[1:], dtype=np.int64))
        skip = mapped.offset + start * per_row * mapped.dtype.itemsize
        flat = np.fromfile(mapped.filename, dtype=mapped.dtype, count=(stop - start) * per_row,
                           offset=skip)  # fmt: skip
        return flat.reshape(stop - start, *mapped.shape[1:])

    def take(self, index: Tensor | slice, generator: torch.Generator | None = None) -> Batch:
        if isinstance(index, slice) and index.step in (None, 1):
            return self.batch({k: torch.from_numpy(self.read(k, index)) for k in self.fields})
        rows = index if isinstance(index, slice) else index.numpy()
        return self.batch({k: torch.from_numpy(np.asarray(v[rows]))
                           for k, v in self.fields.items()})  # fmt: skip

    def batch(self, rows: dict[str, Tensor]) -> Batch:
        moved = {k: to_device(v, self.device) for k, v in rows.items()}
        seq = moved.get("seq")
        inputs = Inputs(moved["cat"].long(), moved["num"], None if seq is None else seq.long())
        labels = {k[6:]: v for k, v in moved.items() if k[:6] == "label:"}
        return Batch(inputs, labels, {k[5:]: v for k, v in moved.items() if k[:5] == "mask:"})

    def batches(self, batch_size: int, generator: torch.Generator | None = None) -> Iterator[Batch]:
        if generator is None:
            return index_batches(self, batch_size)
        return self.shuffled(batch_size, generator)

    def shuffled(self, batch_size: int, generator: torch.Generator) -> Iterator[Batch]:
        left: dict[str, Tensor] = {}  # rows of the last buffer not yet in a batch
        for blocks, order in self.shuffle.buffers(len(self), generator):
            buffer = {k: torch.from_numpy(np.concatenate([self.read(k, b) for b in blocks]))
                      for k in self.fields}  # fmt: skip
            if left:
                kept = len(left["cat"])
                buffer = {k: torch.cat([left[k], v]) for k, v in buffer.items()}
                order = torch.cat([torch.arange(kept), order + kept])
            full = len(order) - len(order) % batch_size
            for start in range(0, full, batch_size):
                index = order[start : start + batch_size]
                yield self.batch({k: take_rows(v, index) for k, v in buffer.items()})
            left = {k: take_rows(v, order[full:]) for k, v in buffer.items()} if full < len(
                order) else {}  # fmt: skip
        if left:
            yield self.batch(left)
