"""Checkpoints: everything needed to continue a run exactly where it stopped.

Saved at the end of every epoch (written to a temporary file, then renamed, so a kill never leaves a
half-written checkpoint). Loaded with ``weights_only=True``: a checkpoint cannot run code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from mtfw import distributed
from mtfw.errors import CheckpointError
from mtfw.record import read_rows
from mtfw.run_control import fingerprint

FORMAT = "mtfw-checkpoint-v2"  # v2 (mtfw 0.2.0): one model shape for every dataset
EARLIER = {"mtfw-checkpoint-v1": "mtfw 0.1.x"}


def save(path: Path, **state: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    tmp.replace(path)


def load(path: Path, fingerprint: str | None = None) -> dict[str, Any]:
    """Load and validate a checkpoint; ``fingerprint`` must match the run's config if given."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt, truncated, or pickled objects weights_only refuses
        raise CheckpointError(
            f"cannot read checkpoint {path}: it is truncated, corrupt or not an mtfw checkpoint "
            f"(torch.load: {type(err).__name__}: {err}). Resume from a run directory whose "
            "checkpoint.pt is intact, or start the run again"
        ) from err
    check_format(path, state)
    if fingerprint is not None and state.get("fingerprint") != fingerprint:
        raise CheckpointError(
            f"{path} was written by a run with a different config; resume it from its own run "
            "directory"
        )
    return state


def load_on_every_rank(path: Path, fingerprint: str | None = None) -> dict[str, Any]:
    """:func:`load` by rank 0, its result (or its error) on every rank of a distributed run:
    the other ranks need no access to the run directory."""
    saved: dict[str, Any] | CheckpointError | None = None
    if distributed.is_main():
        try:
            saved = load(path, fingerprint)
        except CheckpointError as err:
            saved = err
    saved = distributed.broadcast_object(saved)
    if isinstance(saved, CheckpointError):
        raise saved
    return saved


def check_format(path: Path, state: object) -> None:
    """Refuse a file that is not a checkpoint of this version, naming the version that wrote it."""
    found = state.get("format") if isinstance(state, dict) else None
    if found in EARLIER:
        raise CheckpointError(
            f"{path} was written by {EARLIER[found]} ({found}), whose model layout this version "
            f"({FORMAT}) cannot load; run that version for it, or train the run again "
            "(`mtfw reproduce <run_dir>` re-runs it from its saved config)"
        )
    if found != FORMAT:
        raise CheckpointError(f"{path} is not an mtfw checkpoint (expected format {FORMAT})")


def load_model(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """The model weights of a ``best.pt`` (the epoch selected on validation)."""
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: the run has no selected model")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which, not a pickle trace
        raise CheckpointError(f"{path} is not a readable mtfw checkpoint: {err}") from err
    if isinstance(state, dict) and "model" in state and "format" not in state:
        state = {**state, "format": "mtfw-checkpoint-v1"}  # best.pt of 0.1.x had no format
    check_format(path, state)
    return state["model"]


def check_resumable(run_dir: Path, cfg: DictConfig) -> None:
    """What ``resume=`` will read, checked before anything is built or written (a damaged file is
    refused with the run directory as it was): checkpoint.pt (this config's), best.pt and the
    rows of metrics.jsonl, where the run has them."""
    if (run_dir / "checkpoint.pt").exists():
        load(run_dir / "checkpoint.pt", fingerprint(cfg))
    if (run_dir / "best.pt").exists():
        load_model(run_dir / "best.pt")
    if (run_dir / "metrics.jsonl").exists():
        read_rows(run_dir / "metrics.jsonl")
