"""``mtfw sweep ... sweep.trial_launcher=torchrun sweep.nproc_per_node=2``: each trial one
``torchrun -m mtfw.train`` (standalone rendezvous), its objective read from rank 0's summary, the
pruner fed from ``metrics.jsonl`` while it trains; bad input refused before any trial runs."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import ROOT, summary
from sweep_support import SYNTHETIC, sweep, sweep_fails, trials_csv

from mtfw.sweep.compose import compose_config, hydra_context
from mtfw.sweep.torchrun_trial import command, epoch_rows, launch
from mtfw.sweep.trial import SweepPruned
from mtfw.user_config.folders import UserFolders

TORCHRUN = ["sweep.trial_launcher=torchrun", "sweep.nproc_per_node=2"]
# Two trials of MMoE or shared-bottom on the paper's synthetic data, 1 epoch of 5 steps each.
TINY = [*SYNTHETIC, "trainer.max_epochs=1", "trainer.max_steps_per_epoch=5",
        "trainer.batch_size=101", "trainer.num_threads=1", "sweep.n_trials=2",
        "sweep.sampler=random", "sweep.pruner=none", "encoder=choice(shared_bottom,mmoe)",
        "weighting=static", "embedding.dim=4"]  # fmt: skip


@pytest.fixture
def trial_env(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The trials' torchrun imports this checkout's mtfw, one thread per rank."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    return workdir


# Two torchrun launches of two interpreters each, one after the other: ~30-40 s.
@pytest.mark.slow
def test_each_trial_is_one_torchrun_on_a_sqlite_study(trial_env: Path) -> None:
    storage = f"sqlite:///{trial_env / 'study.db'}"
    sweep("sweep=architecture", *TINY, *TORCHRUN, f"sweep.storage={storage}", "sweep.dir=sw")
    rows = trials_csv(trial_env / "sw")
    assert [r["state"] for r in rows] == ["COMPLETE", "COMPLETE"]
    for row in rows:
        run = trial_env / "sw" / row["run_dir"]
        s = summary(run)
        assert s["status"] == "completed" and float(row["val/mean/loss"]) == pytest.approx(
            s["val/mean/loss"]
        )
        log = (run / "train.log").read_text()
        assert "torchrun: 2 ranks (gloo), global batch 101" in log  # rank 0's own log
        assert "--nproc-per-node=2" in log  # the launch, appended with its console output
        assert not list(run.glob("*rank*"))  # rank 1 wrote only into its scratch directory
    assert not list((trial_env / "sw" / "trials").glob(".*.torchrun.log"))
    best = json.loads((trial_env / "sw" / "best.json").read_text())
    assert best["command"].startswith("torchrun --nproc-per-node=2 -m mtfw.train ")


# Two torchrun launches of two interpreters each at the same time (4 processes): ~20-30 s.
@pytest.mark.slow
def test_torchrun_trials_side_by_side_do_not_collide(trial_env: Path) -> None:
    """``sweep.n_jobs=2`` on the default journal: two trials' torchruns at once, each on its own
    rendezvous port (``--standalone``); both complete, each with its own run."""
    sweep("sweep=architecture", *TINY, *TORCHRUN, "sweep.n_jobs=2", "sweep.dir=sw")
    rows = trials_csv(trial_env / "sw")
    assert [r["state"] for r in rows] == ["COMPLETE", "COMPLETE"]
    assert len({r["worker"] for r in rows}) == 2  # one trial in each worker, at the same time
    assert (trial_env / "sw" / "optuna.journal").is_file()
    for row in rows:
        assert summary(trial_env / "sw" / row["run_dir"])["status"] == "completed"


# Two torchrun trials one after the other, the second stopped by the pruner: ~30-40 s.
@pytest.mark.slow
def test_the_median_pruner_stops_a_bad_torchrun_trial_through_the_cli(trial_env: Path) -> None:
    """Trial 0 (lr 1e-2) trains its 6 epochs; trial 1 (lr 1e-7, its loss barely moves) is worse
    than trial 0 at epoch 1 and is pruned there: Optuna records it PRUNED, its run ``pruned``."""
    sweep("sweep=architecture", "experiment=synthetic", "data.n_samples=3000",
          "trainer.max_epochs=6", "trainer.patience=null", "trainer.batch_size=101",
          "trainer.num_threads=1", "encoder=mmoe", "weighting=static", "sweep.n_trials=2",
          "optim.lr=choice(0.01, 1e-7)",
          "sweep.pruner={name: median, n_startup_trials: 1, n_warmup_steps: 0}",
          "sweep.enqueue=[{optim.lr: 0.01}, {optim.lr: 1e-7}]", *TORCHRUN,
          "sweep.dir=sw")  # fmt: skip
    rows = trials_csv(trial_env / "sw")
    assert [r["state"] for r in rows] == ["COMPLETE", "PRUNED"], rows
    assert rows[1]["note"] == "pruned after epoch 1"
    pruned = trial_env / "sw" / rows[1]["run_dir"]
    assert summary(pruned)["status"] == "pruned" and len(epoch_rows(pruned)) < 6
    assert len(epoch_rows(trial_env / "sw" / rows[0]["run_dir"])) == 6


# One torchrun of two interpreters, stopped after its first epoch: ~15-20 s.
@pytest.mark.slow
def test_a_pruned_torchrun_trial_stops_every_rank_and_is_recorded_pruned(trial_env: Path) -> None:
    overrides = ["experiment=synthetic", "data.n_samples=20000", "trainer.max_epochs=20",
                 "trainer.batch_size=64", "trainer.num_threads=1"]  # fmt: skip
    seen: list[tuple[int, bool]] = []

    def prune_after_first(epoch: int, row: dict, last: bool) -> None:
        seen.append((epoch, last))
        assert "val/mean/loss" in row  # the row a pruner reads, as in process
        raise SweepPruned(f"pruned after epoch {epoch}")

    run_dir = trial_env / "trial"
    with hydra_context():
        composed = compose_config(overrides)
    with pytest.raises(SweepPruned):
        launch(composed, run_dir, 2, UserFolders(), prune_after_first, trial_env / "out.log")
    assert seen == [(1, False)]
    s = summary(run_dir)
    assert s["status"] == "pruned" and len(epoch_rows(run_dir)) < 20
    assert not os.path.exists(run_dir / "summary.tmp")


def test_the_launch_is_a_standalone_torchrun_of_mtfw_train() -> None:
    with hydra_context():
        composed = compose_config(["experiment=synthetic", "trainer.max_epochs=1"])
    cmd = command(composed, Path("sw/trials/0003"), 4, UserFolders())
    assert cmd[1:6] == ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node=4", "-m"]
    assert cmd[6] == "mtfw.train" and cmd[-1] == "hydra.run.dir=sw/trials/0003"
    assert "trainer.max_epochs=1" in cmd


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["sweep.nproc_per_node=0"], r"sweep.nproc_per_node must be a whole number >= 1, got 0"),
        (["sweep.nproc_per_node=2"], r"sweep.nproc_per_node=2 needs sweep.trial_launcher=torchrun"),
        (["sweep.trial_launcher=torchrn"], r"must be process or torchrun.*Did you mean 'torchrun'"),
        ([*TORCHRUN, "cv=3"], r"cv=3: cv=K is a multirun of K runs"),
        ([*TORCHRUN, "trainer.batch_size=1"], r"trainer.batch_size=1 is smaller than sweep.nproc"),
        ([*TORCHRUN, "experiment=ml100k_popularity"],
         r"trial_launcher=torchrun cannot run a classical baseline"),
        ([*TORCHRUN, "experiment=ml100k_popularity", "baseline=choice(popularity,itemcf)"],
         r"trial_launcher=torchrun cannot run a classical baseline"),
    ],
)  # fmt: skip
def test_bad_launcher_input_is_refused_before_any_trial(
    workdir: Path, capsys: pytest.CaptureFixture, overrides: list[str], message: str
) -> None:
    data = [] if any(o.startswith("experiment=") for o in overrides) else SYNTHETIC
    err = sweep_fails(["sweep=architecture", *data, *overrides, "sweep.dir=sw"], capsys)
    assert re.search(message, err), err
    assert "Traceback" not in err and not (workdir / "sw" / "trials").exists()


def test_a_sweep_under_torchrun_names_the_torchrun_launcher(
    workdir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    err = sweep_fails(["sweep=architecture"], capsys)
    assert "sweep.trial_launcher=torchrun sweep.nproc_per_node=N" in err
