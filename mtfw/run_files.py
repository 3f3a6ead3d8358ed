"""Reading a run directory's saved config and summary, so that a damaged one is a clear error
(``mtfw reproduce``, ``mtfw recommend``, ``resume=``), never a JSON or YAML traceback."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from mtfw.errors import CheckpointError


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


def read_summary(run_dir: Path) -> dict | None:
    """``<run_dir>/summary.json``, or None when the run wrote none (yet)."""
    path = run_dir / "summary.json"
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is not a readable run summary ({err})") from None
    if not isinstance(summary, dict):
        raise CheckpointError(f"{path} is not a run summary (a JSON object was expected)")
    return summary
