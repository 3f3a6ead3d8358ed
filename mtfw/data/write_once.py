"""Files that several processes may ask for at once, written by one of them and read by all.

The ranks of a ``torchrun`` job and the trials of a sweep run side by side and may need the same
generated table, download or extracted file. Each such file is made under an exclusive lock on
``<file>.lock``: the first process writes it to ``<file>.part-<pid>`` and renames it into place
when complete; the others wait on the lock and then find it there. The lock file goes when the
writer is done. A killed writer leaves no partial file taken as the data, and two writers never
share a temporary name.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created when absent), held for the ``with`` block; the
    kernel drops it when the process dies, so a killed holder never blocks the next run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def partial_name(target: Path) -> Path:
    """The temporary name this process writes ``target`` under (never another process's)."""
    return target.with_name(f"{target.name}.part-{os.getpid()}")


def write_once(target: Path, write: Callable[[Path], None]) -> bool:
    """Make ``target`` with ``write(partial)`` unless it exists; whether this call wrote it.

    ``write`` gets the temporary path to fill; on any error it is removed and the error raised,
    leaving ``target`` absent for the next run to make."""
    if target.is_file():
        return False
    created = [d for d in (target.parent, *target.parent.parents) if not d.exists()]
    try:
        return write_locked(target, write)
    except BaseException:
        for folder in created:  # a failed download leaves no empty folders behind
            try:
                folder.rmdir()
            except OSError:  # not empty (another writer's), or already gone
                break
        raise


def write_locked(target: Path, write: Callable[[Path], None]) -> bool:
    lock = target.with_name(target.name + ".lock")
    with locked(lock):
        if target.is_file():  # another process made it while this one waited
            return False
        partial = partial_name(target)
        try:
            write(partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
            # A process still waiting on this lock then finds the target; after a failure it
            # writes the file itself, perhaps beside a newcomer on a new lock: duplicate work,
            # never a mixed file, as each writes its own partial and the rename is atomic.
            lock.unlink(missing_ok=True)
    return True
