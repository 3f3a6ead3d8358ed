"""Several sweep processes on one study, and what a killed one leaves behind: processes sharing a
sweep directory sample distinct configurations; a journal lock left by a killed process does not
stall the next sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from conftest import ROOT
from optuna.trial import TrialState
from sweep_support import LR_ONLY, SYNTHETIC, journal_study, sweep

LR_SWEEP = [*LR_ONLY, *SYNTHETIC, "sweep.objectives=[val/mean/loss]", "sweep.sampler=random",
            "optim.lr=interval(0.001,0.1)", "sweep.dir=sw"]  # fmt: skip

# A process killed inside a journal write (as kill -9 can land): it dies in the append's fsync,
# holding the journal's write lock, whatever kind of lock mtfw's storage uses.
KILLED_MID_WRITE = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import optuna
    from mtfw.sweep.storage import open_storage

    sweep_dir = Path(sys.argv[1])
    study = optuna.load_study(study_name=sys.argv[2], storage=open_storage(None, sweep_dir))
    os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)
    study.set_user_attr("note", "written, never synced")
    """
)


def kill_inside_a_journal_write(sweep_dir: Path, study_name: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(sweep_dir), study_name],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert [p.name for p in sweep_dir.glob("optuna.journal.lock*")], "no lock was left behind"


def test_a_journal_lock_left_by_a_killed_process_does_not_stall_the_resumed_sweep(
    workdir: Path,
) -> None:
    sweep(*LR_SWEEP, "sweep.n_trials=1")
    sweep_dir = workdir / "sw"
    kill_inside_a_journal_write(sweep_dir, journal_study(sweep_dir).study_name)
    started = time.perf_counter()
    sweep(*LR_SWEEP, "sweep.n_trials=2")  # the same command again, continuing the study
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"the resumed sweep waited {elapsed:.0f}s for a dead process's lock"
    study = journal_study(sweep_dir)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    assert not list(sweep_dir.glob("optuna.journal.lock*"))  # released, nothing left over


def test_an_old_lock_without_an_owner_is_released_at_once(workdir: Path) -> None:
    # Optuna's own lock (a symlink to the journal, naming no process), left a minute ago
    sweep(*LR_SWEEP, "sweep.n_trials=1")
    lock = workdir / "sw" / "optuna.journal.lock"
    os.symlink(workdir / "sw" / "optuna.journal", lock)
    an_hour_ago = time.time() - 60
    os.utime(lock, (an_hour_ago, an_hour_ago), follow_symlinks=False)
    started = time.perf_counter()
    sweep(*LR_SWEEP, "sweep.n_trials=2")
    assert time.perf_counter() - started < 15
    assert len(journal_study(workdir / "sw").trials) == 2 and not lock.is_symlink()
