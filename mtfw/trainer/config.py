"""Trainer settings (``conf/trainer/``), checked key by key."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig

from mtfw.errors import ConfigError
from mtfw.settings import settings_from


@dataclass(frozen=True)
class TrainerConfig:
    max_epochs: int = 10
    batch_size: int = 1024
    eval_batch_size: int = 16384
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    monitor: str = "val/mean/loss"  # the validation key that selects the model (never test)
    mode: str = "auto"  # auto | min | max
    patience: int | None = 3  # epochs without improvement before stopping; null: never stop early
    min_delta: float = 0.0
    max_steps_per_epoch: int | None = None  # cap on batches per epoch (smoke tests, debugging)
    grad_clip: float | None = None  # max global gradient norm; null: no clipping
    num_threads: int | None = None  # torch CPU threads; null: torch's default
    deterministic: bool = True
    progress: str = "auto"  # auto (a bar only when stdout is a terminal) | always | never

    @classmethod
    def from_config(cls, node: DictConfig | dict) -> TrainerConfig:
        cfg = settings_from(cls, node, "trainer", what="setting")
        if cfg.max_epochs < 1 or cfg.batch_size < 1:
            raise ConfigError("trainer.max_epochs and trainer.batch_size must be at least 1")
        if cfg.mode not in ("auto", "min", "max"):
            raise ConfigError(f"trainer.mode must be auto, min or max, not '{cfg.mode}'")
        if cfg.progress not in ("auto", "always", "never"):
            raise ConfigError(
                f"trainer.progress must be auto, always or never, not '{cfg.progress}'"
            )
        if not cfg.monitor.startswith("val/"):
            raise ConfigError(
                f"trainer.monitor='{cfg.monitor}': model selection uses the validation split only; "
                "use a val/<task>/<metric> or val/mean/<metric> key"
            )
        return cfg
