"""A flat table -> three splits of columnar tensors, with the leakage guard and label checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import torch

from mtfw.data.column_values import check_numeric, timestamp_values
from mtfw.data.columns import Columns
from mtfw.data.id_vocab import per_column
from mtfw.data.needs import USER_GROUPS, DataNeeds
from mtfw.data.prepared import DataContext, InputSpec, PreparedData
from mtfw.data.preprocess import Preprocessor
from mtfw.data.split import SplitSpec, fingerprint
from mtfw.data.table import Table
from mtfw.errors import ConfigError
from mtfw.settings import closest


def selected_sources(table: Table, labels: list[str]) -> list[str]:
    """The label columns the run's tasks read and every raw column those labels come from."""
    return list(dict.fromkeys(c for label in labels
                              for c in [label, *table.label_sources.get(label, [])]))  # fmt: skip


def drop_default_sources(table: Table, labels: list[str]) -> Table:
    """A dataset's default inputs (every column) less the selected labels' sources; the sources
    of labels no task reads stay inputs (census group 1 keeps ``education``)."""
    if not table.default_inputs:
        return table
    sources = set(selected_sources(table, labels))
    return dataclasses.replace(
        table,
        categorical=[c for c in table.categorical if c not in sources],
        numeric=[c for c in table.numeric if c not in sources],
        sequence={c: s for c, s in table.sequence.items() if c not in sources},
    )


def check_leakage(table: Table, labels: list[str]) -> None:
    """No label column a task reads, nor a column such a label is derived from, may be an input
    (the sources of labels no selected task reads may: they are only data)."""
    features = set(table.categorical) | set(table.numeric) | set(table.sequence)
    features |= set(table.text.names if table.text else [])
    for label in labels:
        for col in selected_sources(table, [label]):
            if col in features:
                raise ConfigError(
                    f"leakage: column '{col}' is the label (or the source of the label) "
                    f"'{label}' and cannot also be an input feature"
                )


def _labels(frame: pd.DataFrame, split: str, needed: dict[str, bool]) -> tuple[dict, dict]:
    labels, masks = {}, {}
    for label, allow_missing in needed.items():
        values = pd.to_numeric(frame[label], errors="coerce").to_numpy(dtype=np.float32)
        present = np.isfinite(values)
        if not present.all() and not allow_missing:
            raise missing_label_error(label, split, int((~present).sum()))
        labels[label] = torch.from_numpy(np.where(present, values, 0.0).astype(np.float32))
        if not present.all():  # no mask means every sample carries the label
            masks[label] = torch.from_numpy(present)
    return labels, masks


def require_user_id(table: Table) -> None:
    """gauc groups samples by user: refused when the table declares no user id column."""
    if table.user_id is None:
        raise ConfigError(
            "a task asks for gauc (AUC per user), but this dataset declares no user id: set "
            "data.user_id to the column saying whose row each is (a tabular file's user column)"
        )


def check_needed_labels(table: Table, needed: dict[str, bool]) -> None:
    for label in needed:
        if label not in table.labels:
            raise ConfigError(
                f"a task needs label column '{label}', but this dataset has labels "
                f"{', '.join(table.labels)}.{closest(label, table.labels)}"
            )


def missing_label_error(label: str, split: str, missing: int) -> ConfigError:
    return ConfigError(
        f"label '{label}' has {missing} missing (NaN/infinite or non-numeric) values in the "
        f"{split} split. Clean the data, or set mask_missing: true on the task to train and "
        "evaluate on the labelled samples only"
    )


def add_user_groups(table: Table, parts: dict[str, np.ndarray], splits: dict) -> None:
    """Each sample's user as an integer code (codes shared by the splits), for the metrics over
    each user's samples (gauc)."""
    require_user_id(table)
    codes = pd.factorize(table.frame[table.user_id])[0].astype(np.int64)
    for name, rows in parts.items():
        splits[name].labels[USER_GROUPS] = torch.from_numpy(codes[rows])


def prepare_table(table: Table, split: SplitSpec, needs: DataNeeds) -> PreparedData:
    """Split (seeded), fit preprocessing on train only, and tensorise every split, with the label
    columns the tasks need (``needs.labels``: column -> whether missing values are allowed)."""
    needed = needs.labels
    check_needed_labels(table, needed)
    table = drop_default_sources(table, list(needed))
    check_leakage(table, list(needed))
    coerced = check_numeric(table)
    times = None if table.timestamp is None else timestamp_values(table.frame[table.timestamp])
    parts = split.indices(len(table.frame), table.fixed_splits, times, table.frame)
    frames = {name: table.frame.iloc[idx] for name, idx in parts.items()}
    min_count = per_column(table.min_count, table.categorical, "min_count")
    buckets = per_column(table.hash_buckets, table.categorical, "hash_buckets")
    pre = Preprocessor(table.categorical, table.numeric, table.log1p, table.sequence,
                       table.missing_indicator, table.text, min_count, buckets)  # fmt: skip
    pre.fit(frames["train"], table.frame)  # train only, but a frozen text encoder (fits nothing)
    splits = {}
    for name, frame in frames.items():
        cat, num = pre.transform(frame)
        labels, masks = _labels(frame, name, needed)
        splits[name] = Columns(cat, num, labels, masks, pre.transform_sequences(frame),
                               pre.text.transform(frame))  # fmt: skip
    info = {
        "data/source": table.source,
        "data/checksum": table.checksum,
        **split.info,
        **{f"data/n_{name}": len(idx) for name, idx in parts.items()},
        **{f"data/split_hash_{name}": fingerprint(idx) for name, idx in parts.items()},
        **{f"data/{k}": v for k, v in table.info.items()},
        **{f"data/coerced/{col}": n for col, n in coerced.items()},
        **pre.text.info(),
    }
    if table.min_count is not None or table.hash_buckets is not None:
        info.update({"data/min_count": table.min_count, "data/hash_buckets": table.hash_buckets,
                     "data/embedding_rows": sum(pre.vocab_sizes)})  # fmt: skip
    if table.missing_indicator:
        info["data/missing_indicators"] = [f"{c}_missing" for c in pre.indicators]
    train = splits["train"]
    means = {k: float(v[train.masks[k]].mean() if k in train.masks else v.mean())
             for k, v in train.labels.items()}  # fmt: skip
    if needs.user_groups:
        add_user_groups(table, parts, splits)
    names = [*pre.categorical, *pre.sequence, *pre.text.names, *pre.numeric_names]
    inputs = InputSpec(pre.vocab_sizes, len(pre.numeric_names), pre.sequence_vocab_sizes, 0, names,
                       pre.text.fields)  # fmt: skip
    return PreparedData(splits, pre, info, DataContext(inputs, means))
