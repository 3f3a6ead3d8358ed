"""New items for ``mtfw recommend RUN_DIR items_file=F``: items outside the run's catalogue, given
by the run's item feature and text columns (first column: the item id), encoded with the run's
fitted preprocessing (vocabularies, statistics and text state; the rebuilt run is checked to
equal its ``preprocess.json``, unknown categories get the unknown row), given the unknown id row
and the untrained item bias 0, and appended to the model's item side: their vectors come from
their features, text and (``features=vae``) the saved VAE item encoder alone."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from omegaconf import DictConfig
from torch import nn

from mtfw.data.interactions.preprocessing import RecPreprocessing
from mtfw.data.preprocess import Preprocessor
from mtfw.data.reading import read_table
from mtfw.data.text.columns import TextColumns
from mtfw.data.text.pretrained import Pretrained
from mtfw.errors import CheckpointError, ConfigError
from mtfw.models.heads import ItemScoreHead
from mtfw.models.items import ItemEmbedding
from mtfw.models.text_fields import TextFields


def read_items_file(cfg: DictConfig, run_dir: Path, options: dict) -> pd.DataFrame | None:
    """Before any data loads: a run that can score unseen items, and its ``items_file`` read and
    checked against the columns of the run's saved item preprocessing."""
    if "items_file" not in options:
        return None
    if cfg.get("baseline") is not None:
        raise ConfigError(
            f"items_file: {run_dir} is a baseline={cfg.baseline.name} run; a classical "
            "recommender scores only the items it was fitted on and cannot score new ones. Use "
            "a run of a multi-task model (its items are embedded from their features and text)"
        )
    path = Path(options["items_file"])
    if not path.is_file():
        raise ConfigError(f"items_file={path}: no such file (give a .csv or .parquet file whose "
                          "first column is the item id)")  # fmt: skip
    saved = run_dir / "preprocess.json"
    if not saved.is_file():
        return read_table(path)  # the run's restore names the missing file
    return read_entities(path, RecPreprocessing.load(saved).items, "items_file")


def text_values(values: pd.Series) -> pd.Series:
    """A file's text column as strings (a title read as a number stays its text), missing: None."""
    return values.map(lambda v: None if pd.isna(v) else str(v)).astype(object)


def read_entities(path: Path, pre: Preprocessor, what: str) -> pd.DataFrame:
    """The file indexed by its first column (the id), with every feature and text column the run
    reads (``pre``: its saved preprocessing); an id given twice is refused."""
    frame = read_table(path)
    frame = frame.set_index(frame[frame.columns[0]].astype(str)).iloc[:, 1:]
    columns = [*pre.categorical, *pre.numeric, *pre.to_dict()["text"]]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ConfigError(
            f"{what}={path} lacks the column(s) {', '.join(missing)}, which the run reads as "
            f"features or text; the file's columns: {', '.join(map(str, frame.columns))}"
        )
    twice = frame.index[frame.index.duplicated()].unique().tolist()
    if twice:
        raise ConfigError(f"{what}={path} gives the id(s) {', '.join(twice[:5])} more than once")
    for column in pre.to_dict()["text"]:
        frame[column] = text_values(frame[column])
    return frame


def encode_text(columns: TextColumns, frame: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
    """New rows' text ids and weights; a pretrained column first encodes the texts its run never
    saw, appended after the run's vectors (whose rows stay as they were)."""
    for column, encoder in columns.encoders.items():
        if isinstance(encoder, Pretrained):
            encoder.add_texts(frame[column])
    return columns.transform(frame)


def grow_vectors(fields: TextFields, columns: TextColumns) -> None:
    """A pretrained column's frozen vectors table, grown to its encoder's texts (new ones last)."""
    for module, (column, encoder) in zip(fields.columns, columns.encoders.items(), strict=True):
        if module.module == "vectors":
            table = encoder.field(column).vectors.to(module.vectors.device)
            module.vectors = table


def widen(tensor: torch.Tensor, width: int) -> torch.Tensor:
    """``[N, T, L]`` token ids or weights padded with zeros to ``L = width``."""
    return nn.functional.pad(tensor, (0, width - tensor.shape[-1]))


def append_items(model: nn.Module, pre: Preprocessor, frame: pd.DataFrame) -> None:
    """The new items become catalogue rows after the run's own, on the model's item side."""
    items = getattr(model, "items", None)
    if not isinstance(items, ItemEmbedding):
        raise ConfigError("items_file: this run's model has no item side to embed new items")
    if len(items.features.text) != len(pre.text.encoders):
        raise CheckpointError(
            "items_file: the run's item text encoders were not rebuilt with its data (the model "
            f"has {len(items.features.text)} text field(s), the data {len(pre.text.encoders)})"
        )
    device = items.cat.device
    cat, num = (t.to(device) for t in pre.transform(frame))
    items.cat, items.num = torch.cat([items.cat, cat]), torch.cat([items.num, num])
    unknown = torch.zeros(len(frame), dtype=torch.long, device=device)
    items.id_rows = torch.cat([items.id_rows, unknown])  # no trained id: the unknown row 0
    if pre.text:
        ids, weights = (t.to(device) for t in encode_text(pre.text, frame))
        width = max(ids.shape[-1], items.text.shape[-1])
        items.text = torch.cat([widen(items.text, width), widen(ids, width)])
        items.text_weights = torch.cat([widen(items.text_weights, width), widen(weights, width)])
        grow_vectors(items.features.text, pre.text)
    for head in model.modules():
        if isinstance(head, ItemScoreHead):  # the bias of an item never trained on: 0
            grown = nn.Embedding(len(items.cat), 1).to(device)
            with torch.no_grad():
                grown.weight.zero_()
                grown.weight[: head.bias.num_embeddings] = head.bias.weight
            head.bias = grown


def new_items(
    frame: pd.DataFrame, model: nn.Module, pre: Preprocessor, known: list[str]
) -> list[str]:
    """Append the items of ``items_file`` (read by :func:`read_items_file`) to ``model``; their
    ids, in the file's order. An id of the run's catalogue is refused: the file is for new items."""
    old = frame.index[frame.index.isin(known)].tolist()
    if old:
        raise ConfigError(
            f"items_file: {len(old)} item id(s) are already in the run's catalogue, e.g. "
            f"{', '.join(old[:5])}; the file is for new items only: drop them from it (catalogue "
            "items are ranked anyway; items=ID,... restricts the list to some)"
        )
    append_items(model, pre, frame)
    return frame.index.tolist()
