"""``data.storage=disk``: the same three splits and context as ``prepare_table``, from the disk
cache (built on first use) instead of in-memory tensors."""

from __future__ import annotations

import json
import logging

from mtfw.data.column_values import check_numeric
from mtfw.data.disk.block_order import BlockShuffle
from mtfw.data.disk.cache import open_or_build
from mtfw.data.disk.mapped_columns import MappedColumns
from mtfw.data.disk.plan import DiskPlan, DiskSettings
from mtfw.data.disk.row_split import NAMES, check_disk_split
from mtfw.data.needs import USER_GROUPS, DataNeeds
from mtfw.data.prepare import (
    check_leakage,
    check_needed_labels,
    drop_default_sources,
    missing_label_error,
    require_user_id,
)
from mtfw.data.prepared import DataContext, InputSpec, PreparedData
from mtfw.data.preprocess import Preprocessor
from mtfw.errors import ConfigError

log = logging.getLogger("mtfw")


def check_plan(plan: DiskPlan, needs: DataNeeds) -> None:
    """Everything that can be refused before a row is read."""
    table = plan.table
    check_needed_labels(table, needs.labels)
    check_leakage(table, list(needs.labels))
    check_numeric(table)  # data.coerce naming a column that is not numeric (the frame is empty)
    check_disk_split(plan.split, table.timestamp)
    if table.text is not None and table.text.names:
        raise ConfigError(
            f"data.text ({', '.join(table.text.names)}) with data.storage=disk: text encoders "
            "are fitted on every text at once; use data.storage=memory for text columns"
        )
    if needs.user_groups:
        require_user_id(table)


def prepare_on_disk(plan: DiskPlan, needs: DataNeeds, settings: DiskSettings) -> PreparedData:
    plan = DiskPlan(plan.source, drop_default_sources(plan.table, list(needs.labels)),
                    plan.labels, plan.split)  # fmt: skip
    check_plan(plan, needs)
    checksum = plan.source.checksum()
    folder, meta, built = open_or_build(plan, settings.root(), checksum)
    for split in NAMES:
        for label, allow_missing in needs.labels.items():
            lost = meta["missing"][split][label]
            if lost and not allow_missing:
                raise missing_label_error(label, split, lost)
    pre = Preprocessor.from_dict(json.loads((folder / "preprocess.json").read_text()))
    shuffle = BlockShuffle(settings.block_rows, settings.shuffle_blocks)
    stems = {str(i): name for i, name in enumerate(meta["labels"]) if name in needs.labels}
    splits = {}
    for split in NAMES:
        columns = MappedColumns.open(folder / split, stems, shuffle)
        splits[split] = columns.with_groups(folder / split, USER_GROUPS) if needs.user_groups \
            else columns  # fmt: skip
    sums = meta["label_sums"]
    means = {k: sums[k][0] / max(sums[k][1], 1) for k in needs.labels}
    info = {
        "data/source": plan.table.source, "data/checksum": checksum, **plan.split.info,
        **{f"data/n_{s}": meta["rows"][s] for s in NAMES},
        **{f"data/split_hash_{s}": meta["fingerprints"][s] for s in NAMES},
        **{f"data/{k}": v for k, v in plan.table.info.items()},
        **{f"data/coerced/{c}": n for c, n in meta["coerced"].items()},
        "data/storage": "disk", "data/cache": str(folder), "data/cache_bytes": meta["bytes"],
        "data/cache_built": built, "data/cache_build_seconds": meta["seconds"],
    }  # fmt: skip
    table = plan.table
    if table.min_count is not None or table.hash_buckets is not None:
        info.update({"data/min_count": table.min_count, "data/hash_buckets": table.hash_buckets,
                     "data/embedding_rows": sum(pre.vocab_sizes)})  # fmt: skip
    if table.missing_indicator:
        info["data/missing_indicators"] = [f"{c}_missing" for c in pre.indicators]
    names = [*pre.categorical, *pre.sequence, *pre.numeric_names]
    inputs = InputSpec(pre.vocab_sizes, len(pre.numeric_names), pre.sequence_vocab_sizes, 0, names)
    return PreparedData(splits, pre, info, DataContext(inputs, means))
