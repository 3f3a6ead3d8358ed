"""Checkpoints: a killed run resumes to the same metrics; bad checkpoints are refused clearly."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from conftest import MTFW, TINY, cli, metric_values, summary

from mtfw.record import RunRecord

# Full census epochs (~1 s each) so the run can be killed between two checkpoints.
BUDGET = [
    "trainer.max_epochs=3",
    "trainer.patience=null",
    "trainer.batch_size=512",
    "weighting=uncertainty",
    "encoder.expert.dropout=0.1",
]


@pytest.mark.slow  # end to end, tens of seconds: CI runs it
def test_killed_run_resumes_to_identical_metrics(workdir: Path) -> None:
    cli("train", *BUDGET, "hydra.run.dir=full", cwd=workdir, fresh_process=True)  # as the killed
    run = workdir / "killed"
    proc = subprocess.Popen(
        [*MTFW, "train", *BUDGET, f"hydra.run.dir={run}"], cwd=workdir,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    metrics = run / "metrics.jsonl"
    deadline = time.time() + 120
    while not (metrics.exists() and (run / "checkpoint.pt").exists()) and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # now inside epoch 2
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "summary.json").exists(), "the run finished before it could be killed"
    cli("train", f"resume={run}", cwd=workdir)
    resumed, full = summary(run), summary(workdir / "full")
    assert resumed["status"] == "completed" and resumed["epochs_trained"] == 3
    assert metric_values(resumed) == metric_values(full)
    rows = [r for r in metrics.read_text().splitlines() if '"kind": "step"' not in r]
    assert len(rows) == 3  # one evaluation row per epoch, none duplicated by the resume


def interrupted_copy(run: Path, dest: Path) -> Path:
    """A copy of a finished run without its summary, as a killed run would look."""
    subprocess.run(["cp", "-r", str(run), str(dest)], check=True)
    (dest / "summary.json").unlink()
    return dest


def evaluation_epochs(run: Path) -> list[int]:
    return [r["epoch"] for r in RunRecord(run).history()]


@pytest.mark.slow  # end to end, tens of seconds: CI runs it
def test_sigterm_stops_like_ctrl_c_and_the_run_resumes(workdir: Path) -> None:
    """What a batch scheduler sends: status "interrupted", the checkpoint intact, resumable."""
    run = workdir / "term"
    args = [*MTFW, "train", *BUDGET, f"hydra.run.dir={run}"]
    proc = subprocess.Popen(
        args, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.time() + 120
    while not (run / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # now inside epoch 2
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert summary(run)["status"] == "interrupted" and f"resume={run}" in out
    assert "Traceback" not in out
    assert torch.load(run / "checkpoint.pt", weights_only=True)["state"]["epoch"] >= 1
    cli("train", f"resume={run}", cwd=workdir)
    assert summary(run)["status"] == "completed" and evaluation_epochs(run) == [1, 2, 3]


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_a_run_stopped_before_its_first_checkpoint_resumes_from_scratch(
    tiny_run: Path, workdir: Path
) -> None:
    """Killed in epoch 1: no checkpoint yet, an evaluation row maybe. Re-running into it is
    refused, pointing to resume=, and resume trains it from scratch in its directory."""
    run = interrupted_copy(tiny_run, workdir / "early")
    for name in ("checkpoint.pt", "best.pt"):
        (run / name).unlink()
    record = RunRecord(run)
    record.truncate_after(1)
    refused = cli("train", *TINY, f"hydra.run.dir={run}", cwd=workdir, check=False)
    assert refused.returncode == 2 and "from scratch" in refused.stderr
    # From scratch: nothing records the first process's thread count, so a fresh one like it.
    proc = cli("train", f"resume={run}", cwd=workdir, fresh_process=True)
    assert "no checkpoint yet" in proc.stderr and "from scratch" in proc.stderr
    assert summary(run)["status"] == "completed" and evaluation_epochs(run) == [1, 2]
    assert metric_values(summary(run)) == metric_values(summary(tiny_run))


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_a_torn_last_line_of_metrics_is_dropped_on_resume(tiny_run: Path, workdir: Path) -> None:
    """What a kill during an append leaves: dropped with a warning, not a JSON traceback."""
    run = interrupted_copy(tiny_run, workdir / "torn")
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"kind": "step", "epoch": 3, "st')
    proc = cli("train", f"resume={run}", cwd=workdir)
    assert "incomplete last line" in proc.stderr and "Traceback" not in proc.stderr
    assert summary(run)["status"] == "completed" and evaluation_epochs(run) == [1, 2]
    assert metric_values(summary(run)) == metric_values(summary(tiny_run))


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_a_damaged_line_before_the_last_is_named(tiny_run: Path, workdir: Path) -> None:
    run = interrupted_copy(tiny_run, workdir / "damaged")
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(["{not json", *lines]) + "\n")
    proc = cli("train", f"resume={run}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "line 1, is not a JSON row" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_rows_reach_the_disk_before_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    RunRecord(tmp_path).log({"epoch": 1})
    assert len(synced) == 1 and RunRecord(tmp_path).history() == [{"epoch": 1}]


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_resume_after_early_stopping_trains_no_further_epoch(workdir: Path) -> None:
    """Stopped by patience, then killed during its final test evaluation: the resume goes
    straight to selection and test, as the run would have."""
    args = ["trainer.max_epochs=4", "trainer.max_steps_per_epoch=5", "trainer.batch_size=256",
            "trainer.patience=1", "trainer.min_delta=100"]  # fmt: skip
    run = workdir / "stopped"
    cli("train", *args, f"hydra.run.dir={run}", cwd=workdir)
    finished = summary(run)
    assert finished["epochs_trained"] == 2  # epoch 2 did not improve by min_delta
    (run / "summary.json").unlink()
    cli("train", f"resume={run}", cwd=workdir)
    resumed = summary(run)
    assert resumed["status"] == "completed" and resumed["epochs_trained"] == 2
    assert evaluation_epochs(run) == [1, 2]
    assert metric_values(resumed) == metric_values(finished)


def test_resume_refuses_a_finished_run(tiny_run: Path, workdir: Path) -> None:
    proc = cli("train", f"resume={tiny_run}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "finished already" in proc.stderr


def test_resume_refuses_a_corrupt_checkpoint(tiny_run: Path, workdir: Path) -> None:
    run = interrupted_copy(tiny_run, workdir / "corrupt")
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint at all")
    proc = cli("train", f"resume={run}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "cannot read checkpoint" in proc.stderr


def test_resume_refuses_a_foreign_checkpoint(tiny_run: Path, workdir: Path) -> None:
    run = interrupted_copy(tiny_run, workdir / "foreign")
    torch.save({"state_dict": {"w": torch.zeros(2)}}, run / "checkpoint.pt")
    proc = cli("train", f"resume={run}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "not an mtfw checkpoint" in proc.stderr


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_resume_of_a_checkpoint_of_an_earlier_version_names_it(tiny_run, workdir) -> None:
    run = interrupted_copy(tiny_run, workdir / "earlier")
    saved = torch.load(run / "checkpoint.pt", weights_only=True)
    torch.save({**saved, "format": "mtfw-checkpoint-v1"}, run / "checkpoint.pt")
    proc = cli("train", f"resume={run}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "written by mtfw 0.1.x (mtfw-checkpoint-v1)" in proc.stderr


def test_resume_refuses_a_checkpoint_of_another_config(tiny_run: Path, workdir: Path) -> None:
    run = interrupted_copy(tiny_run, workdir / "other")
    config = run / ".hydra" / "config.yaml"
    config.write_text(config.read_text().replace("seed: 0", "seed: 7"))
    proc = cli("train", f"resume={run}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "different config" in proc.stderr


def test_resume_refuses_a_pickled_payload(tiny_run: Path, workdir: Path) -> None:
    """weights_only loading: a checkpoint that would run code is rejected, not executed."""
    run = interrupted_copy(tiny_run, workdir / "pickle")
    marker = workdir / "pwned"
    torch.save({"format": "mtfw-checkpoint-v1", "x": Exploit(str(marker))}, run / "checkpoint.pt")
    proc = cli("train", f"resume={run}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "cannot read checkpoint" in proc.stderr
    assert not marker.exists()


def test_resume_of_a_directory_that_is_no_run(workdir: Path) -> None:
    proc = cli("train", f"resume={workdir}", cwd=workdir, check=False)
    assert proc.returncode == 2 and "not a run directory" in proc.stderr


class Exploit:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))
