"""``encoder: pretrained``: a frozen sentence-transformers model; its vectors of a column's
distinct texts are computed once per (model weights, column content, max_length), batched with a
progress bar, and cached on disk under ``<data dir>/_text_cache/`` (a corrupt file is recomputed
with a warning). The model side projects them (a linear map, or a small MLP with ``hidden``)."""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mtfw.data.locate import default_root
from mtfw.data.text.field import TextEncoder, TextField
from mtfw.data.text.model_files import (
    identity_digest,
    position_limit,
    require_extra,
    resolve,
    weight_checksums,
)  # fmt: skip
from mtfw.data.text.tokenize import clean
from mtfw.data.write_once import partial_name
from mtfw.errors import ConfigError
from mtfw.registry import register
from mtfw.tracking.provenance import warn
from mtfw.value_types import Count

log = logging.getLogger("mtfw")


def content_checksum(texts: list[str]) -> str:
    return hashlib.sha256("\0".join(texts).encode()).hexdigest()


@register("text", "pretrained")
class Pretrained(TextEncoder):
    """A frozen sentence-transformers encoder (cached vectors), projected into the field size."""

    def __init__(self, model: str, max_length: Count = 128, batch_size: Count = 64,
                 hidden: Count | None = None, normalize: bool = False):  # fmt: skip
        self.model, self.max_length, self.batch_size = model, max_length, batch_size
        self.hidden, self.normalize = hidden, normalize
        self.path: Path | None = None
        self.texts: pd.Index = pd.Index([])
        self.vectors: torch.Tensor | None = None
        self.cache_key, self.cache_hit, self.seconds, self.load_seconds = "", False, 0.0, 0.0

    def check(self, where: str) -> None:
        """Before any data loads: the extra, the model's folder, max_length within its limit."""
        require_extra(where)
        self.path = resolve(self.model, where)
        limit = position_limit(self.path)
        if limit is not None and self.max_length > limit:
            raise ConfigError(
                f"{where}.max_length={self.max_length} is beyond the model's limit: '{self.model}' "
                f"takes at most {limit} tokens (max_position_embeddings in its config.json); "
                f"set max_length to {limit} or less"
            )

    def key(self, checksum: str) -> str:
        digest = identity_digest(weight_checksums(self.path))
        parts = f"{digest}\0{checksum}\0{self.max_length}\0{self.normalize}"
        return hashlib.sha256(parts.encode()).hexdigest()

    def encode_all(self, texts: pd.Series) -> None:
        """The vectors of every distinct non-empty text of the column (all splits: the encoder
        is frozen, so nothing is fitted on them), from the cache or computed."""
        values = clean(texts)
        self.texts = pd.Index(sorted(set(values[values != ""])))
        self.cache_key = self.key(content_checksum(list(self.texts)))
        path = default_root() / "_text_cache" / f"{self.cache_key}.pt"
        vectors = read_cache(path, len(self.texts))
        self.cache_hit = vectors is not None
        if vectors is None:
            vectors = self._encode(list(self.texts))
            log.info("text '%s': %d texts encoded in %.1f s (%.0f texts/s), cached in %s",
                     self.model, len(vectors), self.seconds,
                     len(vectors) / max(self.seconds, 1e-9), path)  # fmt: skip
            write_cache(path, vectors)
        else:
            log.info("text '%s': %d vectors read from the cache %s", self.model, len(vectors), path)
        self.vectors = vectors

    def add_texts(self, texts: pd.Series) -> None:
        """Encode the distinct texts not encoded yet (a new item's or user's, ``mtfw recommend``)
        and append them after the others: the rows of the texts encoded before stay as they were."""
        values = clean(texts)
        new = pd.Index(sorted(set(values[values != ""]) - set(self.texts)))
        if len(new):
            self.texts = self.texts.append(new)
            self.vectors = torch.cat([self.vectors, self._encode(list(new))])

    def _encode(self, texts: list[str]) -> torch.Tensor:
        from sentence_transformers import SentenceTransformer  # the optional extra

        started = time.perf_counter()
        model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        model.max_seq_length = self.max_length
        self.load_seconds = time.perf_counter() - started
        log.info("text '%s': encoding %d distinct texts (max_length %d, batches of %d)",
                 self.model, len(texts), self.max_length, self.batch_size)  # fmt: skip
        started = time.perf_counter()
        with torch.inference_mode():
            out = model.encode(texts, batch_size=self.batch_size, convert_to_tensor=True,
                               show_progress_bar=sys.stderr.isatty() or None,
                               normalize_embeddings=self.normalize)  # fmt: skip
        self.seconds = time.perf_counter() - started  # encoding alone, the model loaded
        return out.float().cpu().reshape(len(texts), -1).clone()

    def transform(self, texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        index = self.texts.get_indexer(clean(texts)) + 1  # 0: empty (or a text never encoded)
        ids = index.reshape(-1, 1).astype(np.int64)
        return ids, (ids > 0).astype(np.float32)

    def field(self, name: str) -> TextField:
        table = torch.cat([torch.zeros(1, self.vectors.shape[1]), self.vectors])
        return TextField(name, "vectors", len(table), vectors=table, hidden=self.hidden)

    def state(self) -> dict:
        return {"model": self.model, "path": str(self.path), "cache_key": self.cache_key}

    def record(self) -> dict:
        checksums = weight_checksums(self.path)
        return {
            "model": self.model, "model_path": str(self.path),
            **{f"model_files/{name}": digest for name, digest in checksums.items()},
            "model_sha256": identity_digest(checksums), "cache_key": self.cache_key,
            "cache_hit": self.cache_hit, "max_length": self.max_length,
            "dim": int(self.vectors.shape[1]),
        }  # fmt: skip


def read_cache(path: Path, n: int) -> torch.Tensor | None:
    """The cached vectors, or None when absent; a file that cannot be read or has the wrong
    shape is recomputed, with a warning."""
    if not path.is_file():
        return None
    try:
        vectors = torch.load(path, weights_only=True)
        if not isinstance(vectors, torch.Tensor) or vectors.ndim != 2 or len(vectors) != n:
            raise ValueError(f"expected a [{n}, D] tensor, found {type(vectors).__name__}")
        if not torch.isfinite(vectors).all():
            raise ValueError("it holds values that are not finite")
        return vectors
    except Exception as err:  # any damage: torch's unpickling errors vary
        warn(f"the text-vector cache {path} is corrupt ({err}): recomputing it")
        return None


def write_cache(path: Path, vectors: torch.Tensor) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_name(path)  # never a half-written cache file, nor another process's
    torch.save(vectors, partial)
    partial.replace(path)
