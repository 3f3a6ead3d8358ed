"""Checkpoints: everything needed to continue a run exactly where it stopped.

Saved at the end of every epoch (written to a temporary file, then renamed, so a kill never leaves a
half-written checkpoint). Loaded with ``weights_only=True``: a checkpoint cannot run code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from mtfw.errors import CheckpointError

FORMAT = "mtfw-checkpoint-v1"


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
            f"cannot read checkpoint {path}: {type(err).__name__}: {err}"
        ) from err
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an mtfw checkpoint (expected format {FORMAT})")
    if fingerprint is not None and state.get("fingerprint") != fingerprint:
        raise CheckpointError(
            f"{path} was written by a run with a different config; resume it from its own run "
            "directory"
        )
    return state
