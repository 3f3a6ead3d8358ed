"""``torchrun --nproc-per-node=2 -m mtfw.train ...`` as a user runs it: one run directory written by
rank 0, the metrics of one process, resume, and bad input refused before the group starts."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, cli, summary
from distributed_support import free_port
from recsys_support import ml100k

from mtfw.distributed import group

SYNTHETIC = ["experiment=synthetic", "data.n_samples=3000", "trainer.batch_size=101",
             "trainer.num_threads=1", "weighting=mgda", "weighting.mode=representation",
             "trainer.patience=null"]  # fmt: skip


def torchrun(*args: str, cwd: Path, timeout: int = 300) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node=2", "-m", "mtfw.train", *args]  # fmt: skip
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip


def finished(proc: subprocess.Popen, timeout: int = 300) -> str:
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out
    return out


def metrics(run_dir: Path) -> dict[str, float]:
    return {k: v for k, v in summary(run_dir).items() if k.startswith(("val/", "test/"))}


# Two torchrun launches of two interpreters each plus one in-process run: ~40-60 s.
@pytest.mark.slow
def test_torchrun_trains_one_run_that_rank_0_alone_writes(workdir: Path) -> None:
    out = finished(torchrun(*SYNTHETIC, "trainer.max_epochs=2", "hydra.run.dir=ddp", cwd=workdir))
    assert "torchrun: 2 ranks (gloo), global batch 101" in out
    assert out.count("split into shares of 50 or 51 rows") == 1  # logged once, by rank 0
    assert out.count("run directory:") == 1  # one results table: rank 0's
    cli("train", *SYNTHETIC, "trainer.max_epochs=2", "hydra.run.dir=one", cwd=workdir)
    assert sorted(p.name for p in workdir.iterdir()) == ["ddp", "one"]  # no other rank's dir
    files = {p.name for p in (workdir / "ddp").iterdir()}
    assert files == {p.name for p in (workdir / "one").iterdir()}
    s = summary(workdir / "ddp")
    assert s["status"] == "completed" and s["epochs_trained"] == 2
    rows = (workdir / "ddp" / "metrics.jsonl").read_text().splitlines()
    assert len([r for r in rows if '"kind": "step"' in r]) == 2 * 24  # ceil(2400 / 101) a epoch
    one = metrics(workdir / "one")
    for key, value in metrics(workdir / "ddp").items():
        assert value == pytest.approx(one[key], rel=1e-5, abs=1e-6), key


# MovieLens-100K in two torchrun ranks and in one process: ~60-90 s.
@pytest.mark.slow
def test_interaction_data_trains_under_torchrun_as_in_one_process(workdir: Path) -> None:
    args = ["data=movielens100k", "task=[ranking,rating,like]", "embedding.dim=16",
            "trainer.monitor=val/ranking/ndcg@10", "trainer.max_epochs=1", "weighting=pcgrad",
            "trainer.max_steps_per_epoch=10", "trainer.batch_size=257", "trainer.num_threads=1",
            *ml100k()]  # fmt: skip
    finished(torchrun(*args, "hydra.run.dir=ddp", cwd=workdir))
    cli("train", *args, "hydra.run.dir=one", cwd=workdir)
    one, two = metrics(workdir / "one"), metrics(workdir / "ddp")
    assert set(two) == set(one) and any(k.startswith("test/ranking/ndcg") for k in one)
    for key, value in two.items():  # negatives drawn for the global batch, then shared out
        assert value == pytest.approx(one[key], rel=1e-5, abs=1e-6, nan_ok=True), key


@pytest.mark.slow
def test_a_distributed_run_stopped_by_sigterm_resumes_under_torchrun(workdir: Path) -> None:
    budget = [*SYNTHETIC, "data.n_samples=6000", "trainer.max_epochs=6"]
    proc = torchrun(*budget, "hydra.run.dir=ddp", cwd=workdir)
    while not (workdir / "ddp" / "checkpoint.pt").exists() and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)  # torchrun passes it to both ranks
    proc.communicate(timeout=120)
    stopped = summary(workdir / "ddp")
    assert stopped["status"] == "interrupted", stopped
    assert 1 <= stopped["epochs_trained"] < 6
    finished(torchrun("resume=ddp", cwd=workdir))
    cli("train", *budget, "hydra.run.dir=one", cwd=workdir)
    resumed = summary(workdir / "ddp")
    assert resumed["status"] == "completed" and resumed["epochs_trained"] == 6
    one = metrics(workdir / "one")
    for key, value in metrics(workdir / "ddp").items():
        assert value == pytest.approx(one[key], rel=1e-5, abs=1e-6), key
    rows = (workdir / "ddp/metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(r)["epoch"] for r in rows if '"kind"' not in r]
    assert epochs == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["trainer.batch_size=1"], r"trainer.batch_size=1 is smaller than the 2 processes"),
        (["trainer.device=cpu", "trainer.distributed_backend=nccl"], r"nccl needs CUDA"),
        (["trainer.device=cuda:1"], r"each rank takes the GPU of its local rank|not available"),
        (["-m", "seed=0,1"], r"torchrun runs one run over all its processes"),
        (["cv=3"], r"torchrun runs one run over all its processes"),
        (["trainer.distributed_backend=mpi"], r"must be auto, gloo or nccl"),
        (["trainer.device=cuda"], r"CUDA is not available here|gloo would route"),
    ],
)
def test_bad_input_under_torchrun_is_refused_before_the_group_starts(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, overrides: list[str], message: str
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")  # as torchrun sets it; RANK 0: the run's own rank
    monkeypatch.setenv("RANK", "0")
    proc = cli("train", *SYNTHETIC, *overrides, "hydra.run.dir=run", cwd=workdir, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(message, proc.stderr), proc.stderr
    assert not (workdir / "run" / "summary.json").exists()


def _dying_rank(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE="2")  # fmt: skip
    group.start("gloo", timeout_s=20)
    if rank == 1:
        os._exit(3)  # dies without a word, as a killed process does
    import torch

    from mtfw.distributed import all_reduce

    try:
        time.sleep(0.5)
        all_reduce(torch.ones(3))
    except group.RankLost as err:
        Path(out).write_text(str(err))


# Two spawned interpreters and a collective that must fail: ~10 s.
@pytest.mark.slow
def test_a_rank_that_dies_stops_the_others_with_a_clear_error(tmp_path: Path) -> None:
    out, port = tmp_path / "error.txt", free_port()
    context = multiprocessing.get_context("spawn")
    ranks = [context.Process(target=_dying_rank, args=(r, port, str(out))) for r in (0, 1)]
    start = time.monotonic()
    for p in ranks:
        p.start()
    for p in ranks:
        p.join(timeout=120)
    assert time.monotonic() - start < 100  # no hang: the gloo timeout or the closed socket
    message = out.read_text()
    assert message.startswith("rank 0 of 2: an all-reduce failed because another rank stopped")
    assert "trainer.distributed_timeout=20 s" in message and "resume=<run_dir>" in message


def test_a_sweep_under_torchrun_is_refused(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    proc = cli("sweep", "sweep=architecture", cwd=workdir, check=False)
    assert proc.returncode == 2 and "mtfw sweep under torchrun" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and not (workdir / "outputs").exists()
