"""What a MovieLens-100K directory or zip holds: which layout, in which folder, and which file
is missing when a copy is incomplete (the error a half-extracted download deserves)."""

from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mtfw.data.movielens_format import ATOMIC_FILES, GROUPLENS_FILES
from mtfw.errors import DataNotFoundError

LAYOUTS = {"GroupLens": GROUPLENS_FILES, "RecBole atomic": ATOMIC_FILES}
EXPECTED = f"{', '.join(GROUPLENS_FILES)} (GroupLens) or {', '.join(ATOMIC_FILES)} (RecBole atomic)"


@dataclass(frozen=True)
class Source:
    """The three files of one layout: in the directory ``path``, or in the zip ``path`` under
    the member folder ``folder``; ``label`` is what ``InteractionFrames.source`` reports."""

    path: Path
    layout: str
    folder: str | None  # None: ``path`` is a directory
    label: str

    def files(self) -> tuple[str, str, str]:
        return LAYOUTS[self.layout]

    def read(self) -> list[bytes]:
        if self.folder is None:
            return [(self.path / name).read_bytes() for name in self.files()]
        with zipfile.ZipFile(self.path) as archive:
            return [archive.read(posixpath.join(self.folder, n)) for n in self.files()]


def _choose(folders: dict[str, set[str]], where: str, hint: str = "") -> tuple[str, str]:
    """The first folder (sorted) holding one complete layout; else an error naming what the
    most complete one lacks, so a half-copied directory says which file is missing."""
    for folder in sorted(folders):
        for layout, files in LAYOUTS.items():
            if set(files) <= folders[folder]:
                return folder, layout
    ranked = [
        (len(set(files) & names), folder, layout)
        for folder, names in folders.items()
        for layout, files in LAYOUTS.items()
    ]
    have, folder, layout = max(ranked, default=(0, "", ""))
    if have:
        missing = [f for f in LAYOUTS[layout] if f not in folders[folder]]
        inside = f"{where}/{folder}" if folder else where
        raise DataNotFoundError(
            f"{inside} is an incomplete MovieLens-100K copy ({layout} layout): missing "
            f"{', '.join(missing)}. A copy needs {EXPECTED}."
        )
    raise DataNotFoundError(f"{where} holds no MovieLens-100K files: expected {EXPECTED}.{hint}")


def from_dir(path: Path) -> Source:
    """The layout whose three files sit directly in ``path``."""
    names = {p.name for p in path.iterdir() if p.is_file()}
    inner = [n for n in ("ml-100k", "ml-100k.zip") if (path / n).exists()]
    hint = f" It has {inner[0]}: point data.path there." if inner else ""
    _, layout = _choose({"": names}, str(path), hint)
    return Source(path, layout, None, str(path))


def from_zip(path: Path, folder: str | None = None, label: str | None = None) -> Source:
    """The layout inside a zip, read in place: the GroupLens zip keeps its files under
    ``ml-100k/``, a wheel under ``folder``; any folder holding one whole layout will do."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError) as err:
        raise DataNotFoundError(
            f"{path} is not a readable zip ({err}); MovieLens-100K is read from a directory "
            "or a zip: replace or delete it"
        ) from err
    folders: dict[str, set[str]] = {}
    for name in members:
        folders.setdefault(posixpath.dirname(name), set()).add(posixpath.basename(name))
    if folder is not None:
        folders = {folder: folders.get(folder, set())}
    chosen, layout = _choose(folders, str(path))
    return Source(path, layout, chosen, label or str(path))
