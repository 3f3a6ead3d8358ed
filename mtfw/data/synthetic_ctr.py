"""``data=synthetic_ctr``: Ali-CCP-schema click logs of any size, generated once and cached.

The rows (``mtfw.data.ctr_generator``) are a deterministic function of the settings; they are
written chunk by chunk (bounded memory) to one parquet file under the data cache
(``$MTFW_DATA`` or ``~/.cache/mtfw/data``, or ``data.cache``), in a folder named by the hash of
the settings, and read from there by the tabular loader, as ``data=ali_ccp`` reads its files.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from mtfw.data.ctr_generator import SPARSE, CTRGenerator, CTRSettings
from mtfw.data.locate import default_root
from mtfw.data.tabular import TabularFile
from mtfw.data.write_once import write_once
from mtfw.registry import ConfigError, register
from mtfw.value_types import Count, check_range

log = logging.getLogger("mtfw")
LABELS = {"click": "click", "purchase": "purchase",
          "purchase_clicks": {"column": "purchase", "where": "click"}}  # fmt: skip
MAX_VOCAB = 10_000_000


def check_vocab(vocab: dict) -> dict[str, int]:
    """Every sparse field's vocabulary size, a whole number in 1..10M (the fields not named keep
    no default here: the shipped config names all 23)."""
    unknown = sorted(set(vocab) - set(SPARSE))
    missing = [f for f in SPARSE if f not in vocab]
    if unknown or missing:
        raise ConfigError(
            "data.vocab: give a size for each of the 23 Ali-CCP sparse fields "
            f"({', '.join(SPARSE)}); "
            f"{'unknown: ' + ', '.join(unknown) if unknown else 'missing: ' + ', '.join(missing)}"
        )
    for field, size in vocab.items():
        if not isinstance(size, int) or isinstance(size, bool):
            raise ConfigError(f"data.vocab.{field}={size!r}: expected a whole number of ids")
        check_range(f"data.vocab.{field}", size, low=1, high=MAX_VOCAB)
    return {f: int(vocab[f]) for f in SPARSE}


@register("data", "synthetic_ctr")
class SyntheticCTR(TabularFile):
    """Synthetic click -> purchase logs with the Ali-CCP sample's schema and label rates."""

    def __init__(
        self,
        vocab: dict,
        rows: Count = 100_000,
        seed: int = 0,
        zipf: float = 1.05,
        click_rate: float = 0.06,
        purchase_rate_clicked: float = 0.25,
        chunk_rows: Count = 262_144,
        cache: str | None = None,
        split: dict | None = None,
        min_count: int | dict | None = None,
        hash_buckets: int | dict | None = None,
        storage: str = "memory",
        disk: dict | None = None,
    ):
        check_range("data.zipf", zipf, low=0)
        check_range("data.click_rate", click_rate, low=0, high=1, low_open=True, high_open=True)
        check_range("data.purchase_rate_clicked", purchase_rate_clicked, low=0, high=1,
                    low_open=True, high_open=True)  # fmt: skip
        self.settings = CTRSettings(
            int(rows), int(seed), check_vocab(dict(vocab)), float(zipf), float(click_rate),
            float(purchase_rate_clicked), int(chunk_rows),
        )  # fmt: skip
        self.cache = cache
        for name, value in (("min_count", min_count), ("hash_buckets", hash_buckets)):
            named = sorted(set(map(str, value)) - set(SPARSE)) if isinstance(value, Mapping) else []
            if named:  # known before any data is generated
                raise ConfigError(f"data.{name} names {', '.join(named)}, not a sparse field "
                                  f"of synthetic_ctr; its fields: {', '.join(SPARSE)}")  # fmt: skip
        super().__init__(
            labels=LABELS, path="synthetic_ctr.parquet", categorical=["[0-9]*"],
            numeric=["D*"], split=split, min_count=min_count, hash_buckets=hash_buckets,
            storage=storage, disk=disk,
        )  # fmt: skip

    def cache_file(self) -> Path:
        key = json.dumps(self.settings.key(), sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        root = Path(self.cache) if self.cache else default_root() / "synthetic_ctr"
        return (
            root
            / f"rows{self.settings.rows}-seed{self.settings.seed}-{digest}"
            / ("synthetic_ctr.parquet")
        )

    def generate(self) -> Path:
        """The cached parquet file, written first when absent, by one process while any other
        (a torchrun rank, a sweep trial) waits for it (``mtfw.data.write_once``)."""
        path = self.cache_file()
        if not write_once(path, self.write):
            log.info("synthetic_ctr: %s rows from the cache %s", f"{self.settings.rows:,}", path)
        return path

    def write(self, partial: Path) -> None:
        rows = f"{self.settings.rows:,}"
        log.info("synthetic_ctr: generating %s rows into %s", rows, self.cache_file())
        writer = None
        try:
            for frame in CTRGenerator(self.settings).chunks():
                batch = pa.Table.from_pandas(frame, preserve_index=False)
                writer = writer or pq.ParquetWriter(partial, batch.schema)
                writer.write_table(batch)
        finally:
            if writer is not None:
                writer.close()
        (partial.parent / "settings.json").write_text(json.dumps(self.settings.key(), indent=1))

    def data_paths(self) -> dict[str, Path]:
        return {"all": self.generate()}

    def describe(self, paths: dict[str, Path]) -> str:
        return f"synthetic_ctr(rows={self.settings.rows}, seed={self.settings.seed})"
