"""``data=interactions``: bring your own interaction data with zero Python.

An interactions file (CSV or parquet) names the user, item and timestamp columns and the label
columns tasks may use; ``where`` keeps only the rows where a column is non-zero (clicks among
impressions). User and item features come from their own files, or, without a ``path``, from the
interactions file itself (the first row of each user / item). ``items.categories`` names a
column of category lists (``"Action|Comedy"``) for the interest task. The user's history is the
sequence of their earlier interactions, ordered by ``timestamp`` (or the file order).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from mtfw.data.column_match import match_columns
from mtfw.data.interactions.dataset import InteractionDataset
from mtfw.data.interactions.frames import InteractionFrames
from mtfw.data.locate import default_root, sha256sum
from mtfw.data.reading import read_table
from mtfw.data.text.columns import TextColumns
from mtfw.errors import ConfigError, DataNotFoundError
from mtfw.registry import closest, register

SIDE_KEYS = {"path", "id", "categorical", "numeric", "categories", "separator", "text"}
INTERACTION_KEYS = {"path", "user", "item", "timestamp", "labels", "where"}


def find(path: str) -> Path:
    """A data file: the path as given, else under the data directory ($MTFW_DATA)."""
    for candidate in (Path(path).expanduser(), default_root() / path):
        if candidate.is_file():
            return candidate
    raise DataNotFoundError(
        f"data file {path} not found; looked at {Path(path).expanduser()} and "
        f"{default_root() / path}. Set the path in the data config or put the file in $MTFW_DATA"
    )


def _column(frame: pd.DataFrame, column: str, where: str) -> str:
    if column not in frame.columns:
        raise ConfigError(f"{where}: no column '{column}'.{closest(column, list(frame.columns))}")
    return column


def _side(spec: dict, inter: pd.DataFrame, key: str, default_id: str, what: str) -> tuple:
    """(features indexed by id, categorical, numeric, categories per id)."""
    unknown = set(spec) - SIDE_KEYS
    if unknown:
        raise ConfigError(f"data.{what} has no key(s) {sorted(unknown)}; keys: {sorted(SIDE_KEYS)}")
    frame = read_table(find(spec["path"])) if spec.get("path") else inter
    frame = frame.rename(columns=str)
    id_col = _column(frame, spec.get("id", default_id), f"data.{what}.id")
    columns = [str(c) for c in frame.columns]
    categorical = match_columns(spec.get("categorical", []), columns, f"{what}.categorical")
    numeric = match_columns(spec.get("numeric", []), columns, f"{what}.numeric")
    categories_col = spec.get("categories")
    text = list(spec.get("text") or {})
    keep = [*categorical, *numeric, *text, *([categories_col] if categories_col else [])]
    table = frame.drop_duplicates(id_col).set_index(
        frame.drop_duplicates(id_col)[id_col].astype(str)
    )
    table = table[[_column(frame, c, f"data.{what}") for c in keep]]
    missing = set(inter[key]) - set(table.index)
    if missing:
        raise ConfigError(
            f"{len(missing)} {what} of the interactions are missing from the "
            f"{what} file, e.g. '{sorted(missing)[0]}'"
        )
    categories = {}
    if categories_col:
        separator = spec.get("separator", "|")
        lists = table.pop(categories_col).fillna("").astype(str).str.split(separator)
        categories = {i: [c.strip() for c in v if c.strip()] for i, v in lists.items()}
    return table, categorical, numeric, categories


@register("data", "interactions")
class InteractionFiles(InteractionDataset):
    """Users, items and interactions from CSV/parquet files declared in YAML."""

    def __init__(
        self,
        interactions: dict,
        users: dict | None = None,
        items: dict | None = None,
        split: dict | None = None,
        history_length: int = 50,
        user_id_feature: bool = True,
    ):
        super().__init__(split, history_length, user_id_feature)
        unknown = set(interactions) - INTERACTION_KEYS
        if unknown or "path" not in interactions:
            raise ConfigError(
                f"data.interactions needs 'path' and may have "
                f"{sorted(INTERACTION_KEYS)}; got {sorted(interactions)}"
            )
        self.spec, self.users, self.items = dict(interactions), dict(users or {}), dict(items or {})
        self.text = {
            "items": TextColumns(self.items.get("text"), "data.items.text"),
            "users": TextColumns(self.users.get("text"), "data.users.text"),
        }

    def load_frames(self) -> InteractionFrames:
        spec = self.spec
        raw = read_table(find(spec["path"])).rename(columns=str)
        if spec.get("where"):
            raw = raw[
                pd.to_numeric(
                    raw[_column(raw, spec["where"], "data.interactions.where")], errors="coerce"
                ).fillna(0)
                != 0
            ]
        user = _column(raw, spec.get("user", "user_id"), "data.interactions.user")
        item = _column(raw, spec.get("item", "item_id"), "data.interactions.item")
        labels = [_column(raw, c, "data.interactions.labels") for c in spec.get("labels", [])]
        stamp = spec.get("timestamp")
        inter = pd.DataFrame(
            {
                "user": raw[user].astype(str).to_numpy(),
                "item": raw[item].astype(str).to_numpy(),
                "timestamp": (
                    pd.to_numeric(raw[_column(raw, stamp, "data.interactions.timestamp")])
                    if stamp
                    else pd.Series(range(len(raw)))
                ).to_numpy(),
                **{c: raw[c].to_numpy() for c in labels},
            }
        )
        raw = raw.assign(**{user: inter["user"].to_numpy(), item: inter["item"].to_numpy()})
        users, u_cat, u_num, _ = _side(self.users, raw, user, user, "users")
        items, i_cat, i_num, categories = _side(self.items, raw, item, item, "items")
        inter = inter[inter["user"].isin(users.index) & inter["item"].isin(items.index)]
        names = sorted({c for cs in categories.values() for c in cs})
        paths = [
            find(p) for p in (spec["path"], self.users.get("path"), self.items.get("path")) if p
        ]
        digest = hashlib.sha256("".join(sha256sum(p) for p in paths).encode()).hexdigest()
        return InteractionFrames(
            inter.reset_index(drop=True),
            users,
            items,
            u_cat,
            u_num,
            i_cat,
            i_num,
            names,
            categories,
            labels,
            digest,
            ", ".join(str(p) for p in paths),
            {"n_interactions": len(inter)},
        )
