"""``trainer.checkpoint_every_steps``: a run stopped inside an epoch resumes at that step and ends
bit-identical to the uninterrupted run (flat tables and packed interaction data, a stateful and a
random weighting); an interrupted write keeps the last complete checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import cli, metric_values, summary
from recsys_support import ml100k

from mtfw.trainer import checkpoint, step_checkpoint

# Census: 2 epochs of 12 steps, a checkpoint every 5 steps (5, 10 | 15, 20), dropout on.
CENSUS = ["trainer.max_epochs=2", "trainer.max_steps_per_epoch=12", "trainer.batch_size=256",
          "trainer.patience=null", "encoder.expert.dropout=0.1",
          "trainer.checkpoint_every_steps=5"]  # fmt: skip


def step_rows(run: Path) -> list[dict]:
    """The per-step rows of metrics.jsonl (losses, weights), without timings."""
    rows = [json.loads(r) for r in (run / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if r.get("kind") == "step"]


def epoch_rows(run: Path) -> list[dict]:
    rows = [json.loads(r) for r in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in rows
            if r.get("kind") != "step"]  # fmt: skip


def stopped_after_save(monkeypatch: pytest.MonkeyPatch, saves: int) -> list[int]:
    """Make the ``saves``-th in-epoch checkpoint stop the run as a kill would, right after it is
    complete; returns the global steps checkpointed."""
    steps: list[int] = []

    def stop(path: Path, state: dict) -> None:
        steps.append(state["step"])
        if len(steps) == saves:
            raise KeyboardInterrupt  # what Ctrl-C or SIGTERM raises in a run

    monkeypatch.setattr(step_checkpoint, "after_save", stop)
    return steps


def stop_and_resume(args: list[str], saves: int, workdir: Path,
                    monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[int]]:  # fmt: skip
    whole, broken = workdir / "whole", workdir / "broken"
    cli("train", *args, f"hydra.run.dir={whole}", cwd=workdir)
    steps = stopped_after_save(monkeypatch, saves)
    with pytest.raises(KeyboardInterrupt):
        cli("train", *args, f"hydra.run.dir={broken}", cwd=workdir)
    monkeypatch.undo()
    assert summary(broken)["status"] == "interrupted"
    position = torch.load(broken / "checkpoint.pt", weights_only=True)["position"]
    assert position is not None and position["batches"] > 0  # inside an epoch
    cli("train", f"resume={broken}", cwd=workdir)
    assert summary(broken)["status"] == "completed"
    assert metric_values(summary(broken)) == metric_values(summary(whole))
    assert step_rows(broken) == step_rows(whole)  # every step's losses and weights, once
    assert epoch_rows(broken) == epoch_rows(whole)
    return broken, steps


# Two census runs and a resume in process: ~20 s.
@pytest.mark.slow
@pytest.mark.parametrize(
    "weighting",
    [["weighting=gradnorm"],  # state: initial losses, learnable logits
     ["weighting=pcgrad"],  # draws a random task order every step
     ["weighting=rlw"],  # draws random weights every step
     ["weighting=gradnorm", "trainer.precision=16-mixed"]],  # the loss scaler's state too
    ids=["gradnorm", "pcgrad", "rlw", "gradnorm-16-mixed"],
)  # fmt: skip
def test_census_stopped_inside_an_epoch_resumes_to_identical_results(
    weighting: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken, steps = stop_and_resume([*CENSUS, *weighting], 3, workdir, monkeypatch)
    assert steps == [5, 10, 15]  # stopped in epoch 2, after its 3rd step
    assert torch.load(broken / "checkpoint.pt", weights_only=True)["position"] is None  # the end


# MovieLens-100K with packed SASRec windows (the negatives drawn per batch): ~30 s.
@pytest.mark.slow
def test_packed_history_stopped_inside_an_epoch_resumes_to_identical_results(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["experiment=ml100k_mtl", "history=sasrec", *ml100k(), "trainer.max_epochs=2",
            "trainer.max_steps_per_epoch=8", "trainer.patience=null", "weighting=famo",
            "trainer.checkpoint_every_steps=3"]  # fmt: skip
    _, steps = stop_and_resume(args, 2, workdir, monkeypatch)
    assert steps == [3, 6]  # stopped in epoch 1


def test_an_interrupted_write_keeps_the_last_complete_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint.pt"
    checkpoint.save(path, state={"step": 5})
    real_save = torch.save

    def killed_mid_write(obj: object, f: Path) -> None:
        Path(f).write_bytes(b"half a checkpoint")  # the temporary file, never renamed
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, state={"step": 10})
    monkeypatch.setattr(torch, "save", real_save)
    assert checkpoint.load(path)["state"] == {"step": 5}


def test_checkpoints_are_due_every_n_global_steps_and_not_at_an_epochs_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved: list[int] = []
    monkeypatch.setattr(step_checkpoint, "capture", lambda exp, state, scaler: {"state": state})
    monkeypatch.setattr(step_checkpoint, "after_save", lambda p, state: saved.append(state["step"]))
    every = step_checkpoint.StepCheckpoints(4, tmp_path / "checkpoint.pt", "hash")
    progress = step_checkpoint.EpochProgress(0, [torch.zeros(2)], [torch.ones(2)])
    for step in range(1, 13):
        every.after_step(None, {"step": step}, progress, 0.0, last=step == 8)  # type: ignore
    assert saved == [4, 12]  # step 8 ends an epoch: its own checkpoint follows
    position = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["position"]
    assert position["epoch"] == 0 and position["batches"] == 1


def test_a_zero_step_interval_is_refused_before_data_loads(workdir: Path) -> None:
    proc = cli("train", "trainer.checkpoint_every_steps=0", "data.path=nowhere", cwd=workdir,
               check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "trainer.checkpoint_every_steps" in proc.stderr


def position_saved(path: Path) -> bool:
    """True once ``checkpoint.pt`` holds a checkpoint from inside an epoch."""
    try:
        return torch.load(path, weights_only=True).get("position") is not None
    except (FileNotFoundError, RuntimeError, EOFError):  # not yet there
        return False


# Three torchrun launches of two ranks each: ~60-90 s.
@pytest.mark.slow
def test_a_distributed_run_killed_inside_an_epoch_resumes_to_identical_results(
    workdir: Path,
) -> None:
    """Rank 0 alone writes the in-epoch checkpoints; SIGKILL of the whole launch right after the
    first one, then ``resume=`` under torchrun ends as the uninterrupted torchrun run."""
    import os
    import signal
    import time

    from test_distributed_cli import finished, torchrun

    # 24,000 train rows in batches of 101: 238 steps an epoch, a checkpoint every 5.
    args = ["experiment=synthetic", "data.n_samples=30000", "trainer.batch_size=101",
            "trainer.num_threads=1", "weighting=gradnorm", "trainer.patience=null",
            "encoder.expert.dropout=0.1",  # each rank draws its own dropout: its own RNG resumes
            "trainer.max_epochs=2", "trainer.checkpoint_every_steps=5"]  # fmt: skip
    killed = workdir / "killed"
    proc = torchrun(*args, f"hydra.run.dir={killed}", cwd=workdir)
    while not position_saved(killed / "checkpoint.pt") and proc.poll() is None:
        time.sleep(0.01)
    for child in _children(proc.pid):  # the ranks first, then the launcher: no clean exit
        os.kill(child, signal.SIGKILL)
    proc.kill()
    proc.communicate(timeout=60)
    saved = torch.load(killed / "checkpoint.pt", weights_only=True)
    assert saved["position"] is not None and saved["state"]["epoch"] == 0, "not killed in epoch 1"
    assert not (killed / "summary.json").exists() or summary(killed)["status"] != "completed"
    finished(torchrun(f"resume={killed}", cwd=workdir))
    finished(torchrun(*args, "hydra.run.dir=whole", cwd=workdir))
    assert summary(killed)["status"] == "completed"
    assert metric_values(summary(killed)) == metric_values(summary(workdir / "whole"))
    assert step_rows(killed) == step_rows(workdir / "whole")


def _children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (``/proc``), deepest first."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.extend([*_children(int(entry.name)), int(entry.name)])
    return found
