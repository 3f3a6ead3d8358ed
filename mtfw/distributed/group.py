"""The process group of a torchrun launch: who this rank is, its rows, failures made clear."""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import Tensor

from mtfw.errors import MtfwError

log = logging.getLogger("mtfw")


@dataclass
class Traffic:
    """Bytes this rank has put into collectives, and how many collectives, since ``reset``."""

    bytes: int = 0
    calls: int = 0

    def add(self, t: Tensor) -> None:
        self.bytes += t.numel() * t.element_size()
        self.calls += 1

    def reset(self) -> None:
        self.bytes, self.calls = 0, 0


traffic = Traffic()
_timeout_s: list[float] = [0.0]


class RankLost(MtfwError):
    """A collective failed: another rank stopped, or did not answer within the timeout."""


@contextmanager
def collective(what: str) -> Iterator[None]:
    """Turn a failed collective (a dead peer, a timeout) into one clear error on this rank."""
    try:
        yield
    except RuntimeError as err:  # torch's DistBackendError and gloo's errors are RuntimeErrors
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RankLost(
            f"rank {rank()} of {size()}: {what} failed because another rank stopped or did not "
            f"answer within trainer.distributed_timeout={_timeout_s[0]:g} s ({first}). The run "
            "stops here; `torchrun ... -m mtfw.train resume=<run_dir>` continues it from its last "
            "checkpoint once every rank can run"
        ) from err


def launched() -> bool:
    """True in a process started by torchrun (or any launcher setting ``WORLD_SIZE`` > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def size() -> int:
    return dist.get_world_size() if active() else 1


def rank() -> int:
    return dist.get_rank() if active() else 0


def is_main() -> bool:
    """The rank that writes the run record (rank 0; the only one without torchrun)."""
    return rank() == 0


def device() -> torch.device:
    """Where collectives' own tensors live: the rank's GPU under NCCL, else the CPU."""
    if active() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def start(backend: str, timeout_s: float) -> None:
    """Join the process group torchrun describes (``MASTER_ADDR``, ``RANK``, ...), once."""
    if dist.is_initialized():
        return
    _timeout_s[0] = timeout_s
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    log.debug("rank %d of %d joined the %s group", rank(), size(), backend)


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def part(n: int, ranks: int | None = None, of: int | None = None) -> slice:
    """This rank's contiguous rows of ``n``: ``n // R`` each, one more for the first ``n % R``."""
    ranks, of = size() if ranks is None else ranks, rank() if of is None else of
    base, extra = divmod(n, ranks)
    start = of * base + min(of, extra)
    return slice(start, start + base + (of < extra))
