"""The disk cache: a folder per (files' checksum, preprocessing spec), complete or absent.

``<root>/<key>/`` holds ``meta.json`` (the spec, the row counts, the fingerprints of the splits,
the label statistics), ``preprocess.json`` and per split ``cat.npy``, ``num.npy``, ``label<i>.npy``
(``mask<i>.npy`` where a split lacks some labels), ``seq.npy``, ``groups.npy``. It is built in
``<key>.part-<pid>`` and renamed into place when complete, under an exclusive lock on
``<key>.lock``: a second run (a sweep's trials side by side) waits and reuses it, a killed build
leaves no folder taken as a cache, and a full disk is one clear error with nothing left behind.
A folder whose files are not all of their expected size is rebuilt (with a log line); a change of
the files or of the spec is a different key, and the log says what changed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path

from mtfw.data.disk.cache_build import CacheBuilder
from mtfw.data.disk.npy_files import expected_bytes
from mtfw.data.disk.plan import DiskPlan
from mtfw.data.write_once import locked
from mtfw.errors import DataFileError

log = logging.getLogger("mtfw")
FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}  # the disk (or a file size limit) is full


def cache_key(spec: dict) -> str:
    keyed = {k: v for k, v in spec.items() if k != "sources"}  # the same bytes elsewhere: a hit
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:20]


def damaged(folder: Path) -> str | None:
    """Why a cache folder cannot be used (None when complete)."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return "its meta.json is missing or unreadable"
    for split, files in meta["files"].items():
        for name, (dtype, shape) in files.items():
            path = folder / split / name
            if not path.is_file() or path.stat().st_size != expected_bytes(dtype, tuple(shape)):
                return f"{split}/{name} is missing or not of its expected size"
    return None


def explain_miss(root: Path, spec: dict) -> str:
    """What differs from the newest cache of the same files, for the log line."""
    older = []
    for meta_path in root.glob("*/meta.json"):
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError):
            continue
        if meta["spec"].get("sources") == spec["sources"]:
            older.append((meta_path.stat().st_mtime, meta_path.parent.name, meta["spec"]))
    if not older:
        return "no cache of these files yet"
    _, name, old = max(older)
    if old.get("checksum") != spec["checksum"]:
        return f"the files changed since cache {name} was built (checksum differs)"
    keys = sorted(k for k in spec if old.get(k) != spec[k])
    return f"the preprocessing spec differs from cache {name} in: {', '.join(keys)}"


def open_or_build(plan: DiskPlan, root: Path, checksum: str) -> tuple[Path, dict, bool]:
    """The complete cache folder of ``plan``, its meta, and whether this call built it."""
    spec = plan.spec(checksum)
    key = cache_key(spec)
    root.mkdir(parents=True, exist_ok=True)
    folder = root / key
    with locked(root / f"{key}.lock"):
        if folder.is_dir():
            why = damaged(folder)
            if why is None:
                log.info("disk cache: reusing %s", folder)
                return folder, json.loads((folder / "meta.json").read_text()), False
            log.warning("disk cache %s is incomplete (%s): rebuilding it", folder, why)
            shutil.rmtree(folder)
        else:
            log.info("disk cache: building %s (%s)", folder, explain_miss(root, spec))
        part = root / f"{key}.part-{os.getpid()}"
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir()
        try:
            meta = build(plan, part, spec)
        except OSError as err:
            shutil.rmtree(part, ignore_errors=True)
            if err.errno in FULL:
                raise DataFileError(
                    f"the disk is full while writing the disk cache in {root} ({err.strerror}); "
                    "nothing was kept. Free space, or set data.disk.cache_dir to a larger disk"
                ) from None
            raise
        except BaseException:
            shutil.rmtree(part, ignore_errors=True)
            raise
        part.rename(folder)
    return folder, meta, True


def build(plan: DiskPlan, part: Path, spec: dict) -> dict:
    start = time.perf_counter()
    builder = CacheBuilder(plan, part)
    builder.time_cuts()
    pre, counts = builder.fit()
    empty = [s for s, n in counts.rows.items() if n == 0]
    if empty:
        raise plan.split.empty(empty[0], sum(counts.rows.values()))
    shapes = builder.shapes(pre, counts)
    builder.encode(pre, shapes)
    pre.save(part / "preprocess.json")
    meta = {
        "spec": spec, "rows": counts.rows, "missing": counts.missing,
        "label_sums": counts.label_sums, "coerced": counts.coerced,
        "fingerprints": {s: h.hexdigest()[:16] for s, h in counts.hashes.items()},
        "labels": list(plan.labels), "seconds": time.perf_counter() - start,
        "files": {s: {f: [d, list(shape)] for f, (d, shape) in files.items()}
                  for s, files in shapes.items()},
    }  # fmt: skip
    meta["bytes"] = sum(expected_bytes(d, tuple(s)) for f in meta["files"].values()
                        for d, s in f.values())  # fmt: skip
    (part / "meta.json").write_text(json.dumps(meta, indent=1))
    return meta
