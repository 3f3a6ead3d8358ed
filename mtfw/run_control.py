"""Run-control keys: settings that change how a run is made, not what it computes.

Where the data lives, threads, the device, progress bars, the tracker, Hydra's own settings.
Defined once, here, and read by the config fingerprint (a checkpoint belongs to the run that
computes the same thing, wherever and however it runs), by the report's grouping (they never
split a group of seeds) and by ``mtfw reproduce`` (the only keys it lets you change).
"""

from __future__ import annotations

import hashlib

from omegaconf import DictConfig, OmegaConf

CONTROL_KEYS = frozenset({
    "seed", "resume", "trainer.progress", "trainer.num_threads", "trainer.device",
    "trainer.eval_batch_size", "trainer.deterministic", "data.root", "data.path",
    "data.download", "data.files",
})  # fmt: skip
CONTROL_PREFIXES = ("logger.", "hydra.", "data.files.")
# Of those, the keys a checkpoint does not depend on: resume from anywhere, on any device.
NOT_FINGERPRINTED = ("resume", "logger", "hydra")


def is_control(key: str) -> bool:
    """Whether a dotted config key (``trainer.num_threads``) is a run-control key."""
    return key in CONTROL_KEYS or key.startswith(CONTROL_PREFIXES)


def fingerprint(cfg: DictConfig) -> str:
    """Hash of the experiment config (not of ``resume``, the tracker or Hydra's settings),
    stored in checkpoints so that a run resumes only from its own."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    kept = {k: v for k, v in plain.items() if k not in NOT_FINGERPRINTED}
    return hashlib.sha256(OmegaConf.to_yaml(OmegaConf.create(kept)).encode()).hexdigest()[:16]
