"""The one way a reported figure averages a tensor: exactly rounded, in any process.

torch splits a large sum between threads, and how many it gets (the thread count, OpenMP under
load) moves the last digits of a float64 mean. A run's record must depend on its config only — a
resumed run equals the uninterrupted one bit for bit — so metrics average with ``math.fsum``:
the correctly rounded sum, independent of order and threads (about 50 ms per million values).
"""

from __future__ import annotations

import math

from torch import Tensor


def exact_mean(values: Tensor) -> float:
    """The mean of ``values`` as a float, correctly rounded; NaN for no values."""
    n = values.numel()
    if n == 0:
        return math.nan
    return math.fsum(values.detach().double().flatten().tolist()) / n


def exact_sum(values: Tensor) -> float:
    """The sum of ``values`` as a float, correctly rounded."""
    return math.fsum(values.detach().double().flatten().tolist())
