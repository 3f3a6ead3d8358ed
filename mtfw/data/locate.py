"""Find a data file: an explicit path, the data directory, a packaged copy, or a download.

Every download is checked against a published SHA-256; a file that cannot be found says where it
looked and how to get it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
from pathlib import Path

from mtfw.errors import DataNotFoundError


def sha256sum(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def default_root() -> Path:
    """``$MTFW_DATA`` when set, else ``~/.cache/mtfw/data``."""
    return Path(os.environ.get("MTFW_DATA") or Path.home() / ".cache" / "mtfw" / "data")


def download(url: str, target: Path, sha256: str) -> Path:
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
    except (OSError, ValueError) as err:  # ValueError: a malformed URL
        partial.unlink(missing_ok=True)
        raise DataNotFoundError(f"download of {url} failed: {err}") from err
    actual = sha256sum(partial)
    if actual != sha256:
        partial.unlink()
        raise DataNotFoundError(
            f"download of {url} has SHA-256 {actual}, expected {sha256}: the file was discarded"
        )
    partial.replace(target)
    return target


def locate(
    filename: str,
    *,
    path: str | None,
    root: str | None,
    packaged: Path | None,
    url: str | None,
    sha256: str | None,
    allow_download: bool,
    how_to_get: str,
) -> Path:
    """Return the first existing file in the documented search order, downloading if allowed."""
    if path:
        explicit = Path(path).expanduser()
        if explicit.is_file():
            return explicit
        raise DataNotFoundError(f"data.path={path} does not exist. {how_to_get}")
    roots = [Path(root).expanduser()] if root else []
    roots.append(default_root())
    looked = []
    for base in roots:
        for candidate in (base / filename, base / Path(filename).stem.split(".")[0] / filename):
            looked.append(str(candidate))
            if candidate.is_file():
                return candidate
    if packaged is not None:
        looked.append(str(packaged))
        if packaged.is_file():
            return packaged
    if allow_download and url and sha256:
        try:
            return download(url, roots[0] / filename, sha256)
        except DataNotFoundError as err:
            looked.append(f"{url} ({err})")
    raise DataNotFoundError(f"cannot find {filename}. Looked in: {'; '.join(looked)}. {how_to_get}")
