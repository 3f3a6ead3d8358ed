"""What keeps a run directory's record whole: one process per directory, SIGTERM like Ctrl-C.

Two processes writing one run directory interleave one record (``metrics.jsonl`` epochs
[1, 1, 2, 2], one ``summary.json``) that nothing can take apart afterwards, so a process claims
a directory before it writes there: an exclusive ``flock`` on ``.mtfw-claim``, which holds its pid
for the message another process gets. The kernel drops the lock when the process dies, however it
dies, so a claim left by a kill -9 never blocks the resume that continues the run; the pid is
checked with ``os.kill(pid, 0)`` only to say who holds a live claim.

A batch scheduler stops a job with SIGTERM, which by default ends the process on the spot: no
status in ``summary.json``. During a run SIGTERM raises :class:`Terminated` instead, a
``KeyboardInterrupt``, so the run stops as on Ctrl-C: status "interrupted", the last checkpoint
intact (checkpoints are written then renamed), resumable.
"""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mtfw.errors import RunDirInUse

CLAIM = ".mtfw-claim"
_HELD: dict[str, int] = {}  # claim file -> open descriptor, for the claims this process holds


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived during a run: it stops like Ctrl-C (summary.json status "interrupted")."""


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists and is not a zombie (a killed, unreaped child)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    with suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def holder(run_dir: Path) -> int | None:
    """The pid a claim of ``run_dir`` names, when that process is alive; else None."""
    try:
        pid = int((Path(run_dir) / CLAIM).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid == os.getpid() or alive(pid) else None


def _in_use(run_dir: Path) -> RunDirInUse:
    pid = holder(run_dir)
    who = f"process {pid}" if pid is not None else "another process"
    return RunDirInUse(
        f"{run_dir} is in use: {who} is training in it (it holds {run_dir / CLAIM}). Two runs "
        "never write into one directory, as their records would mix. Wait for that run to end "
        "(then `mtfw train resume=<run_dir>` continues it if it did not finish), or choose a "
        "new hydra.run.dir"
    )


def _take(path: Path) -> int:
    """Open and lock the claim file; the descriptor stays open (and locked) while claimed."""
    while True:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise _in_use(path.parent) from None
        try:  # the holder may have removed the file between our open and our lock: retry
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


@contextmanager
def claimed(run_dir: Path) -> Iterator[None]:
    """Hold ``run_dir`` for this process; raise RunDirInUse when a live process holds it.

    Re-entrant: ``mtfw train`` claims the directory before Hydra writes ``.hydra/`` there, and
    the run inside keeps that claim. A directory this call created and nothing filled is removed
    again, so a refused or failed start leaves nothing behind."""
    run_dir = Path(run_dir).resolve()
    path = run_dir / CLAIM
    if str(path) in _HELD:
        yield
        return
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        _HELD[str(path)] = _take(path)
    except BaseException:
        if created:
            with suppress(OSError):
                run_dir.rmdir()
        raise
    try:
        yield
    finally:
        fd = _HELD.pop(str(path))
        with suppress(OSError):
            path.unlink()  # before the lock goes: the next process creates a fresh claim
        os.close(fd)
        if created:
            with suppress(OSError):
                run_dir.rmdir()  # only when empty


def _terminate(signum: int, frame: object) -> None:
    raise Terminated(f"stopped by signal {signum} (SIGTERM)")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises Terminated while inside; the previous handler comes back afterwards.

    Only the main thread can set a handler (a sweep's trials in threads keep the sweep's own)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
