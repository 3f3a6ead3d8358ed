"""Experiment tracking beside the local run record: ``logger=wandb`` (conf/logger/), and the
reproducibility warnings of a run (a dirty source tree, a changed data file)."""

from mtfw.tracking.provenance import warn_if_data_changed, warn_if_dirty
from mtfw.tracking.record import TrackedRecord, tracked_record
from mtfw.tracking.settings import WandbSettings, logger_settings, resolve_mode

__all__ = [
    "TrackedRecord",
    "WandbSettings",
    "logger_settings",
    "resolve_mode",
    "tracked_record",
    "warn_if_data_changed",
    "warn_if_dirty",
]
