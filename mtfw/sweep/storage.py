"""Where a study lives: an Optuna journal file in the sweep directory, or any RDB URL.

The study is created once, before any worker starts (concurrent creation on a fresh database
crashes). Trials whose worker died (a kill, a reboot) are marked failed with ``interrupted`` and
queued again with the same parameters, so a resumed study re-runs them and loses nothing else.
"""

from __future__ import annotations

import logging
import socket
import time
import warnings
import zlib
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import FrozenTrial, TrialState

from mtfw.errors import ConfigError
from mtfw.sweep.journal_lock import OwnedJournalLock
from mtfw.sweep.processes import ClaimLock, alive

log = logging.getLogger("mtfw.sweep")
JOURNAL_FILE = "optuna.journal"
IDENTITY_ATTR = "mtfw_sweep"  # what the study searches; a joining sweep must search the same
WORKERS_ATTR = "mtfw_workers"  # how many workers have joined the study: the next one's number
HEARTBEAT_SECONDS, GRACE_SECONDS = 20, 90  # RDB workers on other machines that stop beating


def redact(url: str | None) -> str:
    if not url:
        return "journal"
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def open_storage(url: str | None, sweep_dir: Path) -> BaseStorage:
    if not url or url == "journal":
        journal = str(sweep_dir / JOURNAL_FILE)
        return JournalStorage(JournalFileBackend(journal, lock_obj=OwnedJournalLock(journal)))
    if "://" not in url:
        raise ConfigError(
            f"sweep.storage={url}: expected null (a journal file in the sweep directory) or a "
            "database URL such as postgresql://user@host/db or sqlite:///sweeps.db"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(
                url,
                engine_kwargs={"pool_pre_ping": True},
                heartbeat_interval=HEARTBEAT_SECONDS,
                grace_period=GRACE_SECONDS,
                heartbeat_stale_trial_callback=requeue,
            )
    except ImportError as err:
        raise ConfigError(
            f"sweep.storage={redact(url)}: its database driver is not installed ({err}). "
            "PostgreSQL: pip install 'psycopg[binary]'; MySQL: pip install pymysql"
        ) from None
    except Exception as err:  # SQLAlchemy: bad URL, server down, wrong password
        reason = str(err).strip().splitlines()[0]
        raise ConfigError(f"sweep.storage={redact(url)}: cannot open it: {reason}") from None


def _check_identity(study: optuna.Study, identity: dict[str, Any], where: str) -> None:
    stored = study.user_attrs.get(IDENTITY_ATTR)
    if stored is None:
        return
    differ = [k for k in identity if stored.get(k) != identity[k]]
    if differ:
        details = "; ".join(f"{k}: {stored.get(k)!r} there, {identity[k]!r} here" for k in differ)
        raise ConfigError(
            f"study '{study.study_name}' in {where} belongs to another sweep ({details}). "
            "Choose another sweep.dir or sweep.study_name, or run the original command"
        )


def create_or_join(
    storage: BaseStorage, name: str, directions: list[str], identity: dict, where: str
) -> tuple[optuna.Study, bool]:
    """Create the study (True) or load the existing one after checking it searches the same."""
    for attempt in range(6):
        try:
            study = optuna.create_study(storage=storage, study_name=name, directions=directions)
            study.set_user_attr(IDENTITY_ATTR, identity)
            study.set_user_attr(WORKERS_ATTR, 0)  # none yet: the first worker seeds with seed + 0
            return study, True
        except optuna.exceptions.DuplicatedStudyError:
            study = optuna.load_study(study_name=name, storage=storage)
            _check_identity(study, identity, where)
            if [d.name.lower() for d in study.directions] != directions:
                raise ConfigError(f"study '{name}' in {where} has other directions") from None
            return study, False
        except ConfigError:
            raise
        except Exception as err:  # another machine creating the same tables or study right now
            if attempt == 5:
                reason = str(err).strip().splitlines()[0]
                raise ConfigError(f"cannot create or load study '{name}': {reason}") from None
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def requeue(study: optuna.Study, trial: FrozenTrial | optuna.Trial) -> None:
    """Queue an interrupted trial's parameters again (its number stays failed, uncounted)."""
    if trial.params and "retry_of" not in trial.user_attrs:
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
    log.warning("trial %d was interrupted; its parameters are queued again", trial.number)


def recover_interrupted(study: optuna.Study, storage: BaseStorage) -> list[int]:
    """Fail the running trials whose local worker process is gone, and queue them again."""
    recovered = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        owner = trial.user_attrs.get("worker")
        if owner is not None and alive(owner):
            continue
        started = trial.datetime_start.timestamp() if trial.datetime_start else time.time()
        if owner is None and time.time() - started < 60:
            continue  # just asked for; its worker has not written its name yet
        try:
            storage.set_trial_user_attr(trial._trial_id, "interrupted", "its worker process ended")
            storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # finished meanwhile
        requeue(study, trial)
        recovered.append(trial.number)
    return recovered


def join_workers(study: optuna.Study, n_jobs: int, lock: Path, shared_db: bool) -> int:
    """The seed offset of this invocation's first worker (the others follow it), numbered after
    every worker that joined the study before, so no two sample the same sequence: processes
    started together on one sweep directory take their numbers one at a time under its claim
    lock, and a resumed process comes after all earlier ones. Machines sharing a database have
    no common lock (each has its own sweep.dir), so their host name sets them apart as well."""
    with ClaimLock(lock):
        # a study made before workers were counted: past the offsets its processes used
        first = int(study.user_attrs.get(WORKERS_ATTR, 1009 * len(study.get_trials(False))))
        study.set_user_attr(WORKERS_ATTR, first + n_jobs)
    if not shared_db:
        return first
    return first + (zlib.crc32(socket.gethostname().encode()) % 4096) * 2**20
