"""The journal's write lock, released at once when the process holding it has died.

Optuna's file locks name no owner, so one left by a killed process (a kill -9 inside a journal
write) was broken only after 30 s without change, and every resumed sweep waited that long. This
lock keeps Optuna's name (``optuna.journal.lock``) and its create-exclusively protocol, so plain
Optuna clients (a dashboard, an older mtfw) and mtfw still exclude each other, but the lock file
says who holds it: a waiter that finds that process gone from this machine removes it at once.
A lock that names no owner (Optuna's own symlink, or an unreadable file) is left over once it is
older than any append takes; an owner on another machine cannot be asked, so its lock is broken
after Optuna's grace period.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from mtfw.sweep.processes import ClaimLock, alive, worker_tag

log = logging.getLogger("mtfw.sweep")
UNOWNED_STALE_SECONDS = 10.0  # an append takes milliseconds: an unowned lock this old is left over
FOREIGN_STALE_SECONDS = 30.0  # Optuna's grace period, for an owner on another machine
_IN_PROCESS = threading.Lock()  # one holder per process: a lock naming this process is a leftover


class OwnedJournalLock:
    """``optuna.journal.lock`` as a file recording its owner (host, pid, start time, a token).

    JournalFileBackend only calls ``acquire`` and ``release``; Optuna exports no base class."""

    def __init__(self, journal: str) -> None:
        self.path = journal + ".lock"
        self._token: str | None = None

    def acquire(self) -> bool:
        _IN_PROCESS.acquire()
        try:
            delay = 0.001
            while not self._create():
                if self._stale():
                    self._break()
                    continue
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
            return True
        except BaseException:  # a signal while waiting or creating: leave nothing held
            self._remove_own()
            _IN_PROCESS.release()
            raise

    def release(self) -> None:
        try:
            if not self._remove_own():
                raise RuntimeError(f"{self.path}: did not hold the lock")
        finally:
            _IN_PROCESS.release()

    def _create(self) -> bool:
        """Whether this call took the lock: the complete owner record appears in one step."""
        token = uuid.uuid4().hex
        temp = f"{self.path}.{token}.owner"
        Path(temp).write_text(json.dumps({**worker_tag(), "token": token}))
        try:
            self._token = token
            os.link(temp, self.path)
            return True
        except FileExistsError:
            self._token = None
            return False
        except OSError as err:  # a file system without hard links: create in place
            if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP):
                raise
            return self._create_in_place(temp)
        finally:
            os.unlink(temp)

    def _create_in_place(self, temp: str) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            self._token = None
            return False
        with os.fdopen(fd, "w") as f:
            f.write(Path(temp).read_text())
        return True

    def _owner(self) -> dict | None:
        if os.path.islink(self.path):
            return None  # Optuna's own symlink lock
        try:
            owner = json.loads(Path(self.path).read_text())
        except (OSError, ValueError):
            return None
        return owner if isinstance(owner, dict) and "pid" in owner else None

    def _stale(self) -> bool:
        """Whether the lock there now is held by no live process."""
        try:
            age = time.time() - os.lstat(self.path).st_mtime
        except FileNotFoundError:
            return False  # released meanwhile: try again
        owner = self._owner()
        if owner is None:
            return age > UNOWNED_STALE_SECONDS
        if owner.get("host") != socket.gethostname():
            return age > FOREIGN_STALE_SECONDS
        return owner.get("pid") == os.getpid() or not alive(owner)  # ours: a cut-short acquire

    def _break(self) -> None:
        """Remove a stale lock; waiters decide one at a time, so none removes a fresh one."""
        with ClaimLock(Path(self.path.removesuffix(".lock") + ".break")):
            if self._stale():
                owner = self._owner()
                os.unlink(self.path)
                log.warning("removed %s, left by %s", self.path,
                            f"process {owner['pid']}, which no longer runs" if owner
                            else "a process that named itself nowhere, long ago")  # fmt: skip

    def _remove_own(self) -> bool:
        token, self._token = self._token, None
        if token is None or (self._owner() or {}).get("token") != token:
            return False
        os.unlink(self.path)
        return True
