"""Errors a user can cause and fix: the CLI prints their message, not a traceback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


class MtfwError(Exception):
    """Base of every error caused by the user's config, data or files."""


class ConfigError(MtfwError, ValueError):
    """A config value names something that does not exist or cannot be used."""


class DataNotFoundError(MtfwError, FileNotFoundError):
    """A data file could not be found or fetched."""


class CheckpointError(MtfwError):
    """A checkpoint is missing, unreadable or belongs to another run."""


class TrainingDiverged(MtfwError):
    """A task's loss became NaN or infinite."""


class NothingMeasured(MtfwError):
    """Every metric of a trained run is undefined: the run measured nothing (status "failed")."""


class RunDirInUse(MtfwError):
    """Another live process writes the run directory (two runs never share one record)."""


class RecordError(MtfwError):
    """A run's record (``metrics.jsonl``) holds a line that is not a row, before its last line."""


class RunStopped(MtfwError):
    """A run stopped before completing, with the ``status`` its summary.json records (a sweep's
    pruner raises it with "pruned")."""

    status = "stopped"

    def __init__(self, message: str = "", status: str | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


@contextmanager
def exit_on_error(program: str = "mtfw", context: str = "") -> Iterator[None]:
    """Turn an MtfwError into ``<program>: error: <context><message>`` on stderr and exit status 2:
    the one place a mtfw process reports a user's error (a traceback would bury the message)."""
    try:
        yield
    except MtfwError as err:
        print(f"{program}: error: {context}{err}", file=sys.stderr)
        sys.exit(2)


class DataFileError(MtfwError):
    """A data file exists but cannot be read: empty, truncated, or not in its format."""
