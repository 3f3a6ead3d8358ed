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

import pytest
from conftest import MTFW, ROOT
from optuna.trial import TrialState
from sweep_support import LR_ONLY, SYNTHETIC, journal_study, sweep

from mtfw.sweep.plan import CLAIM_LOCK
from mtfw.sweep.processes import ClaimLock

LR_SWEEP = [*LR_ONLY, *SYNTHETIC, "sweep.objectives=[val/mean/loss]", "sweep.sampler=random",
            "optim.lr=interval(0.001,0.1)", "sweep.dir=sw"]  # fmt: skip

# Census, one epoch of two batches: what matters is which configurations the processes sample.
TINY_CENSUS = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=2", "trainer.batch_size=256"]


def claim_waiters(lock_file: Path) -> int:
    """How many processes wait for a flock on the file (Linux's /proc/locks, "->" lines)."""
    inode = str(lock_file.stat().st_ino)
    lines = Path("/proc/locks").read_text().splitlines()
    return sum("->" in line and line.split()[-3].split(":")[-1] == inode for line in lines)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")
def test_two_sweep_processes_on_one_directory_sample_distinct_configurations(
    workdir: Path,
) -> None:
    # the architecture search (encoder, weighting, lr, sizes): room for many distinct points
    args = ["sweep", "sweep=architecture", *TINY_CENSUS, "sweep.dir=sw"]
    sweep(*args[1:], "sweep.n_trials=1")
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": str(ROOT)}
    claim = workdir / "sw" / CLAIM_LOCK
    with ClaimLock(claim):  # both processes reach their first trial before either takes one
        procs = [subprocess.Popen([*MTFW, *args, "sweep.n_trials=7"], cwd=workdir, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]  # fmt: skip
        deadline = time.time() + 300
        while claim_waiters(claim) < 2 and time.time() < deadline:
            assert all(p.poll() is None for p in procs), procs[0].communicate()[1]
            time.sleep(0.1)
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    trials = journal_study(workdir / "sw").trials
    assert len(trials) == 7 and {t.state for t in trials} == {TrialState.COMPLETE}
    assert len({t.user_attrs["worker"]["pid"] for t in trials[1:]}) == 2  # both ran trials
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 7, [t.params for t in trials]


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
