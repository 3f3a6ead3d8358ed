"""The console and ``train.log`` lines of a run that Hydra does not set up: a resumed one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def run_logging(run_dir: Path) -> Iterator[None]:
    """What Hydra's logging gives a run, for a resumed one: INFO lines on the console and
    appended to ``train.log``; taken off the root logger again when the run ends (a caller's own
    logging, which ``basicConfig`` would silently keep instead, stays as it was)."""
    root, level = logging.getLogger(), logging.getLogger().level
    handlers = [logging.StreamHandler(), logging.FileHandler(run_dir / "train.log")]
    for handler in handlers:
        handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s] %(message)s"))
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
