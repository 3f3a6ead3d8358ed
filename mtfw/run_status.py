"""How a stopped run's status and error reach ``summary.json``: one place for every run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mtfw.errors import RunStopped, TrainingDiverged
from mtfw.record import RunRecord


def stopped_status(err: BaseException) -> str:
    """summary.json status of a run stopped by ``err``: a :class:`RunStopped`'s own status (a
    sweep's pruning says "pruned"), "diverged", "interrupted" (Ctrl-C, a kill) or "failed"."""
    if isinstance(err, RunStopped):
        return err.status
    if isinstance(err, TrainingDiverged):
        return "diverged"
    if isinstance(err, (KeyboardInterrupt, SystemExit)):
        return "interrupted"
    return "failed"


@contextmanager
def recorded(record: RunRecord, summary: dict) -> Iterator[None]:
    """The one place a stopped run's status and error reach summary.json (then re-raised)."""
    try:
        yield
    except BaseException as err:
        epochs = [row["epoch"] for row in record.history()]
        error = str(err) if isinstance(err, TrainingDiverged) else f"{type(err).__name__}: {err}"
        record.write_summary({**summary, "status": stopped_status(err), "error": error,
                              "epochs_trained": max(epochs, default=0)})  # fmt: skip
        raise
