"""Parse MovieLens-100K from its two on-disk layouts into one ``InteractionFrames``.

GroupLens ships ``u.data``/``u.user``/``u.item``; RecBole's "atomic" copy (``ml-100k.inter``/
``.user``/``.item``) holds the same data re-typed. Both parsers end in :func:`assemble`, so the
same data gives the same frames whichever layout it came in.

RecBole's conversion decides how two GroupLens fields are read, so that the layouts agree:

- ``year``: RecBole took ``release_year`` from the *title*'s last ``(YYYY)`` group, not from the
  release date (item 1412, "... (1995) (V)", got "V"; item 267 got the typo "unkonwn"). So both
  parsers use the title's last ``(YYYY)`` when the year field is not a year, with the GroupLens
  release date's year as the last resort, and NaN when nothing holds a year.
- genres: an item whose GroupLens flags are all 0, or whose atomic ``class`` is empty, gets
  ``["unknown"]`` (the real data flags its two such items ``unknown`` in both layouts); its
  ``genre_unknown`` column is 1 then too, so the 0/1 columns and ``item_categories`` agree.
"""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pandas as pd

from mtfw.data.interactions.frames import InteractionFrames
from mtfw.errors import MtfwError

GENRES = [
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
]  # fmt: skip
GENRE_COLUMNS = [f"genre_{g}" for g in GENRES]
GROUPLENS_FILES = ("u.data", "u.user", "u.item")  # interactions, users, items
ATOMIC_FILES = ("ml-100k.inter", "ml-100k.user", "ml-100k.item")
_TITLE_YEAR = re.compile(r"\((\d{4})\)")
_YEAR = re.compile(r"^\d{4}$")


class MovieLensFormatError(MtfwError, ValueError):
    """A MovieLens file exists but its content is not what its layout promises."""


def _table(data: bytes, name: str, sep: str, columns: list[str] | None) -> pd.DataFrame:
    """Every field as a string: no NA guessing, no quoting (titles hold quotes). ``columns``
    names a headerless file's fields; ``None`` reads names from the first line (``name:type``).
    The header is read as a row so that a stray extra field is an error, not a silent index."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # GroupLens u.item is latin-1
        text = data.decode("latin-1")
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
            quoting=csv.QUOTE_NONE,
        )  # fmt: skip
    except (ValueError, pd.errors.ParserError) as err:  # EmptyDataError is a ValueError
        raise MovieLensFormatError(f"{name}: cannot parse ({err})") from err
    if columns is None:
        names = [str(c).split(":", 1)[0].strip() for c in frame.iloc[0]]
        frame = frame.iloc[1:].reset_index(drop=True)
        frame.columns = names
    elif frame.shape[1] != len(columns):
        raise MovieLensFormatError(
            f"{name}: expected {len(columns)} {sep!r}-separated fields a line "
            f"({', '.join(columns)}), found {frame.shape[1]}"
        )
    else:
        frame.columns = columns
    if frame.empty:
        raise MovieLensFormatError(f"{name}: has no data rows")
    return frame


def _need(frame: pd.DataFrame, name: str, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MovieLensFormatError(
            f"{name}: missing column(s) {missing}; its header has {list(frame.columns)}"
        )
    return frame


def _numbers(values: pd.Series, name: str, column: str, integer: bool = False) -> pd.Series:
    out = pd.to_numeric(values.str.strip(), errors="coerce")
    bad = values[out.isna() | (integer and out % 1 != 0)]
    if len(bad):
        kind = "an integer" if integer else "a number"
        raise MovieLensFormatError(
            f"{name}: {column} must be {kind}, found {bad.iloc[0]!r} (row {bad.index[0] + 1})"
        )
    return out


def _year(title: str, date: str = "") -> float:
    found = _TITLE_YEAR.findall(title)
    if found:
        return float(found[-1])
    tail = date.strip()[-4:]
    return float(tail) if _YEAR.match(tail) else np.nan


def parse_grouplens(data: bytes, user: bytes, item: bytes) -> InteractionFrames:
    """``u.data`` (tab: user item rating timestamp), ``u.user`` and latin-1 ``u.item`` (``|``)."""
    inter = _table(data, "u.data", "\t", ["user", "item", "rating", "timestamp"])
    users = _table(user, "u.user", "|", ["user", "age", "gender", "occupation", "zip"])
    items = _table(item, "u.item", "|", ["item", "title", "release", "video", "url", *GENRES])
    flags = pd.DataFrame({g: _numbers(items[g], "u.item", f"genre flag {g}") for g in GENRES})
    if not flags.isin([0, 1]).all().all():
        raise MovieLensFormatError("u.item: genre flags must be 0 or 1")
    genres = [[g for g, f in zip(GENRES, row, strict=True) if f] for row in flags.to_numpy()]
    years = [_year(t, d) for t, d in zip(items["title"], items["release"], strict=True)]
    return assemble(inter, users, items["item"], years, genres, GROUPLENS_FILES, items["title"])


def parse_atomic(inter: bytes, user: bytes, item: bytes) -> InteractionFrames:
    """RecBole's ``ml-100k.{inter,user,item}``; ``class`` is the space-separated genre list."""
    names = ATOMIC_FILES
    inter_f = _need(_table(inter, names[0], "\t", None), names[0],
                    ["user_id", "item_id", "rating", "timestamp"])  # fmt: skip
    users = _need(_table(user, names[1], "\t", None), names[1],
                  ["user_id", "age", "gender", "occupation", "zip_code"])  # fmt: skip
    items = _need(_table(item, names[2], "\t", None), names[2],
                  ["item_id", "movie_title", "release_year", "class"])  # fmt: skip
    genres = []
    for listed in items["class"]:
        stray = [g for g in listed.split() if g not in GENRES]
        if stray:
            raise MovieLensFormatError(
                f"{names[2]}: unknown genre {stray[0]!r}; allowed: {', '.join(GENRES)}"
            )
        genres.append([g for g in GENRES if g in listed.split()])
    years = [
        float(y) if _YEAR.match(y.strip()) else _year(t)
        for y, t in zip(items["release_year"], items["movie_title"], strict=True)
    ]
    inter_f = inter_f.rename(columns={"user_id": "user", "item_id": "item"})
    users = users.rename(columns={"user_id": "user", "zip_code": "zip"})
    return assemble(inter_f, users, items["item_id"], years, genres, names, items["movie_title"])


def _ids(ids: pd.Series, name: str, what: str) -> pd.Index:
    ids = ids.str.strip()
    dup = ids[ids.duplicated()]
    if len(dup):
        raise MovieLensFormatError(f"{name}: {what} id {dup.iloc[0]!r} is listed twice")
    return pd.Index(ids.to_numpy(), name=what)


def assemble(
    inter: pd.DataFrame, users: pd.DataFrame, item_ids: pd.Series, years: list[float],
    genres: list[list[str]], names: tuple[str, str, str], titles: pd.Series | None = None,
) -> InteractionFrames:  # fmt: skip
    """Build the frames from the string columns both layouts share, checking that every
    interaction names a listed user and item. ``names`` are the files, for error messages."""
    genres = [g or ["unknown"] for g in genres]
    user_index, item_index = _ids(users["user"], names[1], "user"), _ids(item_ids, names[2], "item")
    interactions = pd.DataFrame({
        "user": inter["user"].str.strip().to_numpy(),
        "item": inter["item"].str.strip().to_numpy(),
        "rating": _numbers(inter["rating"], names[0], "rating").to_numpy(np.float32),
        "timestamp": _numbers(inter["timestamp"], names[0], "timestamp", True).to_numpy(np.int64),
    })  # fmt: skip
    users_out = pd.DataFrame({
        "age": _numbers(users["age"], names[1], "age").to_numpy(np.float64),
        "gender": users["gender"].str.strip().to_numpy(),
        "occupation": users["occupation"].str.strip().to_numpy(),
        "zip_prefix": users["zip"].str.strip().str[:2].to_numpy(),
    }, index=user_index)  # fmt: skip
    for col, known in (("user", user_index), ("item", item_index)):
        stray = interactions[col][~interactions[col].isin(known)]
        if len(stray):
            raise MovieLensFormatError(
                f"{names[0]}: {col} {stray.iloc[0]!r} (row {stray.index[0] + 1}) is not in "
                f"{names[1] if col == 'user' else names[2]}"
            )
    onehot = np.array([[float(g in gs) for g in GENRES] for gs in genres]).reshape(-1, len(GENRES))
    items_out = pd.DataFrame(onehot, index=item_index, columns=GENRE_COLUMNS)
    items_out.insert(0, "year", np.asarray(years, dtype=np.float64))
    if titles is not None:  # text (data.text.title), never a feature unless declared there
        items_out["title"] = titles.str.strip().to_numpy()
    return InteractionFrames(
        interactions=interactions,
        users=users_out,
        items=items_out,
        user_categorical=["gender", "occupation", "zip_prefix"],
        user_numeric=["age"],
        item_categorical=[],
        item_numeric=["year", *GENRE_COLUMNS],
        categories=list(GENRES),
        item_categories=dict(zip(item_index, genres, strict=True)),
        labels=["rating"],
        info={
            "n_users": len(users_out),
            "n_items": len(items_out),
            "n_interactions": len(interactions),
        },
    )
