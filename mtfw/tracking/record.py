"""A run record that mirrors what it writes to an experiment tracker.

Hooking in at the record, not in the training loop, keeps one source of truth: exactly the rows
and the summary written to ``metrics.jsonl`` and ``summary.json`` go to the tracker, and the loop
knows nothing about trackers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from omegaconf import DictConfig

from mtfw.record import RunRecord
from mtfw.tracking.settings import logger_settings


class Tracker(Protocol):
    def log_rows(self, rows: list[dict]) -> None: ...
    def log_summary(self, summary: dict) -> None: ...
    def finish(self, exit_code: int = 0) -> None: ...


class TrackedRecord(RunRecord):
    """``RunRecord`` that also sends every row and summary to ``tracker``. A summary with a final
    status (completed, diverged, failed, ...) finishes the tracker's run."""

    def __init__(self, run_dir: Path, tracker: Tracker):
        super().__init__(run_dir)
        self.tracker = tracker

    def log_rows(self, rows: list[dict]) -> None:
        super().log_rows(rows)
        self.tracker.log_rows(rows)

    def write_summary(self, summary: dict) -> None:
        super().write_summary(summary)
        self.tracker.log_summary(summary)


def tracked_record(cfg: DictConfig, run_dir: Path) -> RunRecord:
    """The run record for ``cfg``: a plain ``RunRecord`` for ``logger=none`` (the default) or
    ``logger.mode=disabled``, a ``TrackedRecord`` for ``logger=wandb``. Raises ConfigError for a
    bad ``logger`` node."""
    settings = logger_settings(cfg.get("logger"))
    if settings is None:
        return RunRecord(run_dir)
    from mtfw.tracking.wandb_logger import WandbLogger

    tracker = WandbLogger(settings, cfg, run_dir)
    if tracker.mode == "disabled":  # nothing written, not even a wandb/ folder
        return RunRecord(run_dir)
    return TrackedRecord(run_dir, tracker)
