"""MovieLens-100K (943 users, 1,682 movies, 100,000 ratings; GroupLens, Harper & Konstan 2015).

The licence forbids redistribution, so nothing is shipped: :func:`load_movielens100k` looks, in
order, at an explicit ``path`` (a directory or a zip), the data directory (``root``, else
``$MTFW_DATA``, else ``~/.cache/mtfw/data``) for ``ml-100k/`` or ``ml-100k.zip``, a checked
download from GroupLens into the data directory, and the copy inside the ``recbole==1.2.1`` wheel,
fetched once with ``pip download`` into ``<data dir>/_wheels`` and read with ``zipfile`` (never
installed). When nothing works the error lists every place tried and how to fix it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from functools import lru_cache
from pathlib import Path

from mtfw.data import locate
from mtfw.data.interactions.dataset import InteractionDataset
from mtfw.data.interactions.frames import InteractionFrames
from mtfw.data.movielens_files import EXPECTED, Source, from_dir, from_zip
from mtfw.data.movielens_format import parse_atomic, parse_grouplens
from mtfw.data.text.columns import TextColumns
from mtfw.errors import DataNotFoundError
from mtfw.registry import register

URL = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
# SHA-256 of the published ml-100k.zip (4,924,029 bytes) as pinned by TensorFlow Datasets
# (tensorflow_datasets/url_checksums/movielens.txt); GroupLens itself publishes only an MD5
# (0e33842e24a9c977be4e0107933c0723). Not verifiable offline when this was written: if GroupLens
# ever re-packs the zip, the download is refused (never accepted unchecked) and the error says so.
SHA256 = "50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229"
RECBOLE = "recbole==1.2.1"
WHEEL = "recbole-1.2.1-py3-none-any.whl"
WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"  # PyPI's digest
WHEEL_FOLDER = "recbole/dataset_example/ml-100k"
HOW_TO_GET = (
    f"Download {URL} into the data directory, point data.path at a directory holding {EXPECTED} "
    f"or at ml-100k.zip, or allow download / registry ({RECBOLE} via pip download)."
)


def fetch_recbole_wheel(data_dir: Path) -> Path:
    """``<data_dir>/_wheels/recbole-1.2.1-py3-none-any.whl``, fetched with ``pip download`` the
    first time (so later calls need no network) and checked against PyPI's SHA-256."""
    return locate.fetch_wheel(data_dir, RECBOLE, WHEEL, WHEEL_SHA256)


def locate_movielens100k(
    path: str | None = None, root: str | None = None, download: bool = True, registry: bool = True
) -> Source:
    """Where MovieLens-100K is, in the documented order; raises with everything tried."""
    if path:
        given = Path(path).expanduser()
        if given.is_dir():
            return from_dir(given)
        if given.is_file():
            return from_zip(given)
        raise DataNotFoundError(
            f"data.path={path} does not exist. Give a directory holding {EXPECTED}, or an "
            "ml-100k.zip; or leave data.path unset to search the data directory."
        )
    data_dir = Path(root).expanduser() if root else locate.default_root()
    folder, archive = data_dir / "ml-100k", data_dir / "ml-100k.zip"
    if folder.is_dir():
        return from_dir(folder)  # an incomplete copy is an error, not silently skipped
    if archive.is_file():
        return from_zip(archive)
    tried = [f"{folder} (no such directory)", f"{archive} (no such file)"]
    if download:
        try:
            return from_zip(locate.download(URL, archive, SHA256))
        except DataNotFoundError as err:
            tried.append(f"download {URL} ({err})")
    else:
        tried.append(f"download {URL} (skipped: download is false)")
    if registry:
        try:
            wheel = fetch_recbole_wheel(data_dir)
            return from_zip(wheel, WHEEL_FOLDER, f"recbole-1.2.1 wheel ({wheel})")
        except DataNotFoundError as err:
            tried.append(f"the {RECBOLE} wheel from the package registry ({err})")
    else:
        tried.append(f"the {RECBOLE} wheel from the package registry (skipped: registry is false)")
    raise DataNotFoundError(
        "MovieLens-100K not found. Tried, in order:\n  - "
        + "\n  - ".join(tried)
        + f"\n{HOW_TO_GET}"
    )


def _stamp(source: Source) -> tuple:
    """Size and mtime of what will be read, so the cache notices a replaced file."""
    paths = [source.path / n for n in source.files()] if source.folder is None else [source.path]
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)


@lru_cache(maxsize=4)
def _parse(source: Source, stamp: tuple) -> InteractionFrames:
    """Parsed once per process and source (tests and sweeps load it many times)."""
    contents = source.read()
    digest = hashlib.sha256()
    for name, data in zip(source.files(), contents, strict=True):
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    parse = parse_grouplens if source.layout == "GroupLens" else parse_atomic
    frames = parse(*contents)
    frames.checksum, frames.source = digest.hexdigest(), source.label
    return frames


def load_movielens100k(
    path: str | None = None, root: str | None = None, download: bool = True, registry: bool = True
) -> InteractionFrames:
    """MovieLens-100K as ``InteractionFrames`` (see :mod:`mtfw.data.movielens_format`).

    ``checksum`` is the SHA-256 over each file read (name, size, bytes; interactions, users,
    items). Returns a copy of the cached parse, so callers may modify it."""
    source = locate_movielens100k(path, root, download, registry)
    f = _parse(source, _stamp(source))
    return dataclasses.replace(
        f, interactions=f.interactions.copy(), users=f.users.copy(), items=f.items.copy(),
        user_categorical=list(f.user_categorical), user_numeric=list(f.user_numeric),
        item_categorical=list(f.item_categorical), item_numeric=list(f.item_numeric),
        categories=list(f.categories), labels=list(f.labels), info=dict(f.info),
        item_categories={k: list(v) for k, v in f.item_categories.items()},
    )  # fmt: skip


@register("data", "movielens100k")
class MovieLens100K(InteractionDataset):
    """943 users, 1,682 movies, 100,000 ratings; user and movie features. Found in: ``path``,
    the data directory (``root`` / $MTFW_DATA), a GroupLens download, the recbole wheel.
    ``text``: the movies' text columns (``title``) and their encoders."""

    def __init__(
        self,
        path: str | None = None,
        root: str | None = None,
        download: bool = True,
        registry: bool = True,
        split: dict | None = None,
        history_length: int = 50,
        user_id_feature: bool = True,
        text: dict | None = None,
    ):
        super().__init__(split, history_length, user_id_feature)
        self.text = {"items": TextColumns(text, "data.text")}  # columns of u.item: title
        self.path, self.root, self.download, self.registry = path, root, download, registry

    def load_frames(self) -> InteractionFrames:
        return load_movielens100k(self.path, self.root, self.download, self.registry)
