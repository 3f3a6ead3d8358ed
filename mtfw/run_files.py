"""A run directory's files: its saved config and summary read so that a damaged one is a clear
error (``mtfw reproduce``, ``mtfw recommend``, ``resume=``), never a JSON or YAML traceback; and
what Hydra wrote for a run that was refused before it started, removed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mtfw.errors import CheckpointError

# What a run that started writes besides Hydra's .hydra/: a directory holding any of them is a run.
RUN_OUTPUTS = ("metrics.jsonl", "summary.json", "checkpoint.pt", "best.pt", "preprocess.json")


def read_config(run_dir: Path) -> DictConfig:
    """``<run_dir>/.hydra/config.yaml``: the composed config the run was made from."""
    path = run_dir / ".hydra" / "config.yaml"
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a run directory (no .hydra/config.yaml)")
    try:
        cfg = OmegaConf.load(path)
    except Exception as err:  # truncated, hand-edited, not YAML at all
        raise CheckpointError(f"{path} is not a readable config ({type(err).__name__})") from None
    if not isinstance(cfg, DictConfig) or "data" not in cfg:
        raise CheckpointError(f"{path} is not an mtfw run config (no data: node)")
    return cfg


def read_record_file(path: Path, what: str) -> dict | None:
    """A JSON object a run wrote (``what``: "run summary", "run record"), or None when there is
    no such file; a CheckpointError naming the file when it is not one."""
    if not path.is_file():
        return None
    try:
        content = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is not a readable {what} ({err})") from None
    if not isinstance(content, dict):
        raise CheckpointError(f"{path} is not a {what} (a JSON object was expected)")
    return content


def read_summary(run_dir: Path) -> dict | None:
    """``<run_dir>/summary.json``, or None when the run wrote none (yet)."""
    return read_record_file(run_dir / "summary.json", "run summary")


def discard_unused(run_dir: Path, sweep_dir: Path | None = None) -> None:
    """Remove what Hydra and mtfw wrote into a new run directory for a run refused before it
    started (``.hydra/``, ``.mtfw/``, an empty log), a multirun's ``sweep_dir`` holding nothing
    else but its ``multirun.yaml``, and the folders above left empty, up to the working
    directory: a refused command leaves nothing behind."""
    if any((run_dir / name).exists() for name in RUN_OUTPUTS):
        return
    for record in (".hydra", ".mtfw"):
        shutil.rmtree(run_dir / record, ignore_errors=True)
    log_file = run_dir / "train.log"
    if log_file.is_file() and log_file.stat().st_size == 0:
        log_file.unlink()
    if run_dir.is_dir() and not any(run_dir.iterdir()):
        run_dir.rmdir()
    alone = sweep_dir is not None and sweep_dir.is_dir() and [p.name for p in sweep_dir.iterdir()]
    if alone == ["multirun.yaml"]:  # a multirun whose first job was refused
        (sweep_dir / "multirun.yaml").unlink()
    folder, top = run_dir.resolve().parent, Path.cwd().resolve()
    while top in folder.parents and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()  # the empty folders above it Hydra made (outputs/runs/<date>/)
        folder = folder.parent
