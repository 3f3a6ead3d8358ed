"""The process-wide torch settings a run makes for itself, and gives back when it ends.

A run's numerics must depend on its config only, never on what an earlier run in the same
process (a sweep's trials, a test session) left behind: the thread count (float sums depend on
how work is split between threads) is chosen by the run — ``trainer.num_threads``, or the count
the process started with; a resumed run takes the count from its checkpoint — recorded in
``summary.json`` and restored afterwards, as is the
deterministic-algorithms flag. Flushing denormal floats stays on: it only avoids a 10x slowdown.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from mtfw.trainer.config import TrainerConfig

# The thread count torch chose when mtfw was first imported here: what a run uses by default.
PROCESS_THREADS = torch.get_num_threads()


@contextmanager
def torch_settings(trainer: TrainerConfig, seed: int) -> Iterator[int]:
    """Set threads, determinism and seeds for one run; yields the thread count it uses."""
    threads = trainer.num_threads or PROCESS_THREADS
    saved = (
        torch.get_num_threads(),
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    torch.set_flush_denormal(True)  # denormal floats can slow CPU training 10x
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(trainer.deterministic, warn_only=True)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield threads
    finally:
        torch.set_num_threads(saved[0])
        torch.use_deterministic_algorithms(saved[1], warn_only=saved[2])
