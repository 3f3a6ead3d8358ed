"""Where studies live, through the real CLI: a sweep killed mid-study resumes without losing or
re-running a completed trial; worker processes share one journal; PostgreSQL holds a study."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from conftest import MTFW, cli, summary
from optuna.trial import TrialState
from sweep_support import SYNTHETIC, journal_study, trials_csv

# Trials long enough (several epochs) to kill the sweep while one is training.
SLOWER = ["experiment=synthetic", "data.n_samples=3000", "trainer.max_epochs=4",
          "trainer.patience=null"]  # fmt: skip


def completed_runs(sweep_dir: Path) -> list[Path]:
    return [p.parent for p in sweep_dir.glob("trials/*/summary.json")
            if '"completed"' in p.read_text()]  # fmt: skip


def training_now(sweep_dir: Path) -> bool:
    return any((d / "metrics.jsonl").exists() and not (d / "summary.json").exists()
               for d in sweep_dir.glob("trials/*"))  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_sweep_resumes_keeping_every_completed_trial(sig: int, workdir: Path) -> None:
    args = ["sweep", "sweep=task_weights", "sweep.n_trials=4", *SLOWER, "sweep.dir=sw"]
    proc = subprocess.Popen([*MTFW, *args], cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    sweep_dir, deadline = workdir / "sw", time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if completed_runs(sweep_dir) and training_now(sweep_dir):
            break  # one trial done, the next one inside its training
        time.sleep(0.02)
    os.killpg(proc.pid, sig)
    proc.wait(timeout=60)
    before = {t.number: t for t in journal_study(sweep_dir).trials if t.state.is_finished()}
    done_before = [n for n, t in before.items() if t.state == TrialState.COMPLETE]
    assert 1 <= len(done_before) < 4, "the sweep was not killed mid-study"
    stamps = {p: (p / "summary.json").stat().st_mtime_ns for p in completed_runs(sweep_dir)}

    cli(*args, cwd=workdir)  # the same command again
    trials = journal_study(sweep_dir).trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 4  # the requested count, reached
    for number in done_before:  # kept as they were: same values, run directories untouched
        assert trials[number].values == before[number].values
    assert all((p / "summary.json").stat().st_mtime_ns == t for p, t in stamps.items())
    interrupted = [t for t in trials if t.state == TrialState.FAIL]
    assert len(interrupted) == 1 and "error" not in interrupted[0].user_attrs
    retry = next(t for t in trials if t.user_attrs.get("retry_of") == interrupted[0].number)
    assert retry.params == interrupted[0].params and retry.state == TrialState.COMPLETE
    killed_run = sweep_dir / interrupted[0].user_attrs["run_dir"]
    if sig == signal.SIGTERM:  # a kill that can be caught leaves an honest summary
        assert summary(killed_run)["status"] == "interrupted"
    assert "interrupted" in next(r for r in trials_csv(sweep_dir) if r["state"] == "FAIL")["note"]


@pytest.mark.slow
def test_two_workers_on_one_journal_run_the_requested_number_of_trials(workdir: Path) -> None:
    cli("sweep", "sweep=task_weights", "sweep.n_trials=5", "sweep.n_jobs=2", *SLOWER,
        "sweep.dir=sw", cwd=workdir)  # fmt: skip
    trials = journal_study(workdir / "sw").trials
    assert sorted(t.number for t in trials) == [0, 1, 2, 3, 4]  # unique, and exactly five
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({t.user_attrs["worker"]["pid"] for t in trials}) == 2  # two processes shared it
    assert len({t.user_attrs["run_dir"] for t in trials}) == 5
    assert len({tuple(t.params.values()) for t in trials}) == 5  # workers sampled apart


def postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent  # the real bindir, not a symlink's folder
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of our own under /tmp on a free port, stopped (by pid) afterwards."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed on this machine")
    root = Path(tempfile.mkdtemp(prefix="mtfw-pg-", dir="/tmp"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the postgres user
        shutil.chown(root, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port, data = free_port(), root / "data"

    def pg(tool: str, *args: str) -> None:
        subprocess.run([*as_user, str(bindir / tool), *args], check=True, capture_output=True,
                       timeout=120)  # fmt: skip

    pg("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg("pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start")
    pid = int((data / "postmaster.pid").read_text().split()[0])
    try:
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mtfw")
        yield f"postgresql://postgres@127.0.0.1:{port}/mtfw"
    finally:
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_postgresql_study_shared_by_two_workers(postgres_url: str, workdir: Path) -> None:
    common = [
        "sweep=task_weights",
        *SYNTHETIC,
        f"sweep.storage={postgres_url}",
        "sweep.study_name=pg",
    ]
    cli("sweep", *common, "sweep.n_trials=3", "sweep.n_jobs=2", "sweep.dir=sw", cwd=workdir)
    study = optuna.load_study(study_name="pg", storage=postgres_url)
    assert sorted(t.number for t in study.trials) == [0, 1, 2]
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert not (workdir / "sw" / "optuna.journal").exists()  # the database holds the study
    assert (workdir / "sw" / "pareto.json").is_file()
    # a second machine would run the same command: it joins the study and adds to it
    cli("sweep", *common, "sweep.n_trials=4", "sweep.dir=sw2", cwd=workdir)
    assert len(optuna.load_study(study_name="pg", storage=postgres_url).trials) == 4
