"""The passes that build a disk cache in a scratch folder: (time cuts,) fit, encode.

Pass 1 assigns every row its split, fits the preprocessing on the train rows and counts the rows,
missing labels and label sums per split; pass 2 encodes each chunk with the fitted
preprocessing and appends each split's rows to its arrays. For ``split.by=time`` a pass before
them writes the times to a scratch file and finds the newest rows' cut (``time_cut``).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mtfw.data.column_values import not_numbers, timestamp_values
from mtfw.data.disk.npy_files import NpyAppender, expected_bytes
from mtfw.data.disk.plan import DiskPlan
from mtfw.data.disk.row_hash import value_keys
from mtfw.data.disk.row_split import NAMES, TRAIN, RowSplit
from mtfw.data.disk.streaming_fit import StreamingFit
from mtfw.data.disk.time_cut import kth_newest
from mtfw.data.label_spec import derive_label
from mtfw.data.preprocess import Preprocessor
from mtfw.errors import ConfigError, DataFileError

log = logging.getLogger("mtfw")


@dataclass
class Counts:
    """What pass 1 learns besides the preprocessing."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(NAMES, 0))
    missing: dict[str, dict[str, int]] = field(default_factory=dict)  # split -> label -> count
    label_sums: dict[str, list[float]] = field(default_factory=dict)  # train: label -> [sum, n]
    coerced: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, Any] = field(  # split -> sha256 of its row numbers
        default_factory=lambda: {s: hashlib.sha256() for s in NAMES}
    )


class CacheBuilder:
    def __init__(self, plan: DiskPlan, folder: Path):
        self.plan, self.folder = plan, folder
        self.row_split = RowSplit(plan.split, has_val_file="val" in plan.source.paths)

    def chunks(self) -> Iterator[tuple[np.ndarray, pd.DataFrame, dict, np.ndarray]]:
        """Every chunk's row numbers, raw columns, derived labels and split codes."""
        plan, t = self.plan, self.plan.table
        for fixed, offset, frame in plan.source.chunks(plan.read_columns(), plan.text_columns()):
            rows = np.arange(offset, offset + len(frame), dtype=np.int64)
            labels = {n: derive_label(frame, n, s)[0].to_numpy(np.float32)
                      for n, s in plan.labels.items()}  # fmt: skip
            times = timestamp_values(frame[t.timestamp]) if t.timestamp else None
            yield rows, frame, labels, self.row_split.codes(rows, frame, times, fixed)

    def time_cuts(self) -> None:
        """``split.by=time`` (no pre-split files, no folds): the cuts of the newest rows."""
        spec, t = self.plan.split, self.plan.table
        if spec.by != "time" or self.plan.source.fixed or spec.folds is not None:
            return
        scratch, n = self.folder / "times.f64", 0
        with open(scratch, "wb") as out:
            for _, _, frame in self.plan.source.chunks([t.timestamp], []):
                times = timestamp_values(frame[t.timestamp]).astype(np.float64)
                out.write(times.tobytes())
                n += times.size
        step = self.plan.source.chunk_rows

        def chunks() -> Iterator[np.ndarray]:
            mapped = np.memmap(scratch, dtype=np.float64, mode="r") if n else np.zeros(0)
            for start in range(0, n, step):
                yield np.asarray(mapped[start : start + step])

        n_val, n_test = round(n * spec.val), round(n * spec.test)
        self.row_split = RowSplit(spec, kth_newest(chunks, n_test),
                                  kth_newest(chunks, n_test + n_val))  # fmt: skip
        scratch.unlink()

    def fit(self) -> tuple[Preprocessor, Counts]:
        """Pass 1."""
        t, counts = self.plan.table, Counts()
        fit = StreamingFit(self.plan.preprocessor())
        for rows, frame, labels, codes in self.chunks():
            self.check_numbers(frame, rows, counts)
            fit.add(frame[codes == TRAIN])
            for s, name in enumerate(NAMES):
                mine = codes == s
                counts.rows[name] += int(mine.sum())
                counts.hashes[name].update(rows[mine].tobytes())
                for label, values in labels.items():
                    part = values[mine]
                    lost = int(np.isnan(part).sum())
                    by_label = counts.missing.setdefault(name, {})
                    by_label[label] = by_label.get(label, 0) + lost
                    if s == TRAIN:
                        total = counts.label_sums.setdefault(label, [0.0, 0])
                        total[0] += float(np.nansum(part, dtype=np.float64))
                        total[1] += part.size - lost
        if t.coerce and counts.coerced:
            for col, n in counts.coerced.items():
                log.warning("numeric column '%s': %d values are not numbers and are read as "
                            "missing (data.coerce)", col, n)  # fmt: skip
        return fit.fitted(), counts

    def check_numbers(self, frame: pd.DataFrame, rows: np.ndarray, counts: Counts) -> None:
        t = self.plan.table
        for col in t.numeric:
            bad = not_numbers(frame[col]).to_numpy()
            if not bad.any():
                continue
            first = int(np.flatnonzero(bad)[0])
            if col not in t.coerce:
                raise ConfigError(
                    f"numeric column '{col}' holds values that are not numbers, e.g. "
                    f"{frame[col].iloc[first]!r} in row {int(rows[first])}: list it as "
                    f"categorical, clean the data, or set data.coerce: [{col}] (or true) to read "
                    "them as missing values"
                )
            counts.coerced[col] = counts.coerced.get(col, 0) + int(bad.sum())

    def shapes(self, pre: Preprocessor, counts: Counts) -> dict[str, dict[str, tuple]]:
        """split -> file name -> (dtype, shape) of every array pass 2 writes."""
        t, out = self.plan.table, {}
        length = max((int(s.get("max_length", 20)) for s in pre.sequence.values()), default=0)
        for name in NAMES:
            n, files = counts.rows[name], {}
            files["cat.npy"] = ("int32", (n, len(pre.categorical)))
            files["num.npy"] = ("float32", (n, len(pre.numeric_names)))
            if pre.sequence:
                files["seq.npy"] = ("int32", (n, len(pre.sequence), length))
            if t.user_id is not None:
                files["groups.npy"] = ("int64", (n,))
            for i, label in enumerate(self.plan.labels):
                files[f"label{i}.npy"] = ("float32", (n,))
                if counts.missing[name][label]:
                    files[f"mask{i}.npy"] = ("bool", (n,))
            out[name] = files
        return out

    def encode(self, pre: Preprocessor, shapes: dict[str, dict[str, tuple]]) -> None:
        """Pass 2: every split's arrays, appended chunk by chunk."""
        need = sum(expected_bytes(*spec) for files in shapes.values() for spec in files.values())
        free = shutil.disk_usage(self.folder).free
        if need > free:
            raise DataFileError(
                f"the disk cache needs {need / 1e9:.2f} GB in {self.folder.parent}, which has "
                f"{free / 1e9:.2f} GB free: free space, or set data.disk.cache_dir to a larger disk"
            )
        writers = {}
        for name, files in shapes.items():
            (self.folder / name).mkdir()
            writers[name] = {f: NpyAppender(self.folder / name / f, *spec)
                             for f, spec in files.items()}  # fmt: skip
        t = self.plan.table
        for _, frame, labels, codes in self.chunks():
            for s, name in enumerate(NAMES):
                mine, out = codes == s, writers[name]
                sub = frame[mine]
                cat, num = pre.transform(sub)
                out["cat.npy"].append(cat.numpy())
                out["num.npy"].append(num.numpy())
                if "seq.npy" in out:
                    out["seq.npy"].append(pre.transform_sequences(sub).numpy())
                if "groups.npy" in out:
                    out["groups.npy"].append(value_keys(sub[t.user_id]).view(np.int64))
                for i, values in enumerate(labels.values()):
                    part = values[mine]
                    present = ~np.isnan(part)
                    out[f"label{i}.npy"].append(np.where(present, part, 0.0))
                    if f"mask{i}.npy" in out:
                        out[f"mask{i}.npy"].append(present)
        for files in writers.values():
            for writer in files.values():
                writer.close()
