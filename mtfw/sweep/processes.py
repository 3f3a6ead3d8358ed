"""Worker processes on one machine: who owns a trial, whether it still lives, and a claim lock.

Local workers take the lock to count the study's trials and ask for a new one in one step, so
together they run exactly the requested number (workers on other machines, sharing only a
database, can overshoot by at most one trial each).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no lock (local workers may then overshoot by one trial each)
    fcntl = None


def raise_interrupt(signum: int, frame) -> None:
    """A SIGTERM handler: stop like Ctrl-C, so the running trial is recorded as interrupted."""
    raise KeyboardInterrupt(f"signal {signum}")


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process (tells a reused pid apart), where /proc exists."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def worker_tag() -> dict:
    """What a trial records about the process running it."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _start_time(pid)}


def alive(tag: dict) -> bool:
    """Whether the process a tag names still runs (True when it is on another machine)."""
    if tag.get("host") != socket.gethostname():
        return True
    pid = int(tag.get("pid", -1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    start = _start_time(pid)
    return start is None or tag.get("start") is None or start == tag["start"]


class ClaimLock:
    """An exclusive file lock; ``release`` may be called early and again."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:
            return
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> ClaimLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
