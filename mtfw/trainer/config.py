"""Trainer settings (``conf/trainer/``), checked key by key."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from omegaconf import DictConfig

from mtfw.errors import ConfigError
from mtfw.settings import settings_from
from mtfw.value_types import check_range

DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


@dataclass(frozen=True)
class TrainerConfig:
    max_epochs: int = 10
    batch_size: int = 1024
    eval_batch_size: int = 16384
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    monitor: str = "val/weighted/loss"  # the validation key that selects the model (never test)
    mode: str = "auto"  # auto | min | max
    patience: int | None = 3  # epochs without improvement before stopping; null: never stop early
    min_delta: float = 0.0
    max_steps_per_epoch: int | None = None  # cap on batches per epoch (smoke tests, debugging)
    grad_clip: float | None = None  # max global gradient norm; null: no clipping
    num_threads: int | None = None  # torch CPU threads; null: torch's default
    deterministic: bool = True
    progress: str = "auto"  # auto (a bar only when stdout is a terminal) | always | never
    grad_cos_every: int | None = None  # gradient cosines every N steps too; null: once an epoch
    compile: bool = False  # torch.compile the model's parts in place (trainer/compilation.py)
    distributed_backend: str = (
        "auto"  # under torchrun: auto (nccl on CUDA, else gloo) | gloo | nccl
    )
    distributed_timeout: float = 300.0  # seconds a collective waits for the other ranks
    precision: str | int = "32"  # 32 (a number on the command line) | bf16 | 16-mixed
    checkpoint_every_steps: int | None = None  # also a checkpoint every N steps inside an epoch

    @classmethod
    def from_config(cls, node: DictConfig | dict) -> TrainerConfig:
        cfg = settings_from(cls, node, "trainer", what="setting")
        for key in ("max_epochs", "batch_size", "eval_batch_size"):
            check_range(f"trainer.{key}", getattr(cfg, key), low=1)
        for key, low in (("max_steps_per_epoch", 1), ("patience", 0), ("num_threads", 1),
                         ("grad_cos_every", 1), ("checkpoint_every_steps", 1)):  # fmt: skip
            if getattr(cfg, key) is not None:  # null: no cap, never stop early, torch's default
                check_range(f"trainer.{key}", getattr(cfg, key), low=low)
        check_range("trainer.min_delta", cfg.min_delta, low=0)
        if cfg.grad_clip is not None:
            check_range("trainer.grad_clip", cfg.grad_clip, low=0, low_open=True)
        if not DEVICE.fullmatch(cfg.device):
            raise ConfigError(
                f"trainer.device='{cfg.device}' is not a device: use auto, cpu, cuda or cuda:N"
            )
        if cfg.mode not in ("auto", "min", "max"):
            raise ConfigError(f"trainer.mode must be auto, min or max, not '{cfg.mode}'")
        if cfg.distributed_backend not in ("auto", "gloo", "nccl"):
            raise ConfigError(
                "trainer.distributed_backend must be auto, gloo or nccl, not "
                f"'{cfg.distributed_backend}'"
            )
        check_range("trainer.distributed_timeout", cfg.distributed_timeout, low=0, low_open=True)
        cfg = replace(cfg, precision=str(cfg.precision))  # trainer.precision=32 is an int
        if cfg.precision not in ("32", "bf16", "16-mixed"):
            raise ConfigError(
                f"trainer.precision must be 32, bf16 or 16-mixed, not '{cfg.precision}'"
            )
        if cfg.progress not in ("auto", "always", "never"):
            raise ConfigError(
                f"trainer.progress must be auto, always or never, not '{cfg.progress}'"
            )
        if not cfg.monitor.startswith("val/"):
            raise ConfigError(
                f"trainer.monitor='{cfg.monitor}': model selection uses the validation split only; "
                "use val/weighted/loss or a val/<task>/<metric> or val/mean/<metric> key"
            )
        return cfg
