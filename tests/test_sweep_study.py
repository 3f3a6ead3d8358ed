"""Real studies in this process (one worker, real Optuna journal, real Hydra composition, real
training): failing trials, pruning, resuming, and the checks that keep a study consistent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import summary
from optuna.trial import TrialState
from sweep_support import (
    LR_ONLY,
    SYNTHETIC,
    journal_study,
    sweep,
    sweep_fails,
    trials_csv,
)

ONE_OBJECTIVE = "sweep.objectives=[val/mean/loss]"


def test_a_failing_trial_does_not_end_the_study(workdir: Path) -> None:
    # a negative learning rate makes the optimizer refuse to build: an invalid combination
    sweep(*LR_ONLY, *SYNTHETIC, "optim.lr=choice(0.01,-1.0)", "sweep.sampler=grid",
          "sweep.n_trials=5", "sweep.dir=sw")  # fmt: skip
    trials = {t.params["optim.lr"]: t for t in journal_study(workdir / "sw").trials}
    assert len(trials) == 2  # the grid holds two points: the study stopped when it was done
    assert trials[0.01].state == TrialState.COMPLETE
    failed, refused = trials[-1.0], "optim.lr=-1.0 is out of range"
    assert failed.state == TrialState.FAIL and refused in failed.user_attrs["error"]
    run = workdir / "sw" / failed.user_attrs["run_dir"]
    assert summary(run)["status"] == "failed" and refused in summary(run)["error"]
    assert refused in (run / "train.log").read_text()
    row = next(r for r in trials_csv(workdir / "sw") if r["state"] == "FAIL")
    assert refused in row["note"]


def test_a_study_where_every_trial_fails_stops_with_the_first_error(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    args = [*LR_ONLY, *SYNTHETIC, "optim.lr=choice(-1.0,-2.0)", "sweep.sampler=random",
            "sweep.n_trials=10", "sweep.fail_fast=2", "sweep.dir=sw"]  # fmt: skip
    err = sweep_fails(args, capsys)
    assert "every trial failed; the first error (trial 0" in err
    assert "is out of range" in err
    assert len(journal_study(workdir / "sw").trials) == 2  # fail_fast: no eight more failures


@pytest.mark.slow
def test_pruning_stops_a_bad_trial_early(workdir: Path) -> None:
    # two good trials, then one that cannot learn (lr=0): the median pruner stops it at epoch 1
    sweep(*LR_ONLY, "experiment=synthetic", "data.n_samples=2000", "trainer.max_epochs=3",
          "trainer.patience=null", ONE_OBJECTIVE, "optim.lr=choice(0.0,0.02)",
          "sweep.pruner={name: median, n_startup_trials: 2, n_warmup_steps: 0}",
          "sweep.enqueue=[{optim.lr: 0.02},{optim.lr: 0.02},{optim.lr: 0.0}]",
          "sweep.n_trials=3", "sweep.dir=sw")  # fmt: skip
    trials = journal_study(workdir / "sw").trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2 + [TrialState.PRUNED]
    assert [t.params["optim.lr"] for t in trials] == [0.02, 0.02, 0.0]
    bad = workdir / "sw" / trials[2].user_attrs["run_dir"]
    assert summary(bad)["status"] == "pruned" and summary(bad)["epochs_trained"] == 1
    rows = [json.loads(line) for line in (bad / "metrics.jsonl").read_text().splitlines()]
    assert {row["epoch"] for row in rows} == {1}  # stopped inside its training, after epoch 1
    for good in trials[:2]:
        assert len(good.intermediate_values) == 3  # every epoch reported to the trial
    best = json.loads((workdir / "sw" / "best.json").read_text())
    assert best["params"]["optim.lr"] == 0.02 and best["trial"] in (0, 1)


@pytest.mark.slow
def test_rerunning_or_resume_true_continues_the_study(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    base = [
        *LR_ONLY,
        *SYNTHETIC,
        ONE_OBJECTIVE,
        "sweep.sampler=random",
        "optim.lr=interval(0.001,0.1)",
    ]
    sweep(*base, "sweep.n_trials=1")  # a new folder under outputs/sweeps/
    (first,) = (workdir / "outputs" / "sweeps").glob("*/*")
    before = journal_study(first).trials[0]
    sweep(*base, "sweep.n_trials=2", "sweep.resume=true")  # finds it and continues it
    sweep(*base, "sweep.n_trials=3", f"sweep.dir={first}")  # as does naming its directory
    after = journal_study(first).trials
    assert [t.number for t in after] == [0, 1, 2] and list(
        (workdir / "outputs/sweeps").glob("*/*")
    ) == [first]
    assert after[0].values == before.values and after[0].params == before.params  # kept, not re-run
    assert len({t.params["optim.lr"] for t in after}) == 3  # a continued study samples new points
    # a different search in the same directory is refused, not mixed into the study
    err = sweep_fails([*base, "sweep.n_trials=4", f"sweep.dir={first}", "trainer.max_epochs=3"],
                      capsys)  # fmt: skip
    assert "belongs to another sweep" in err and "overrides" in err


@pytest.mark.slow
def test_hyperband_pruner_and_random_sampler_run_a_study(workdir: Path) -> None:
    sweep("sweep=architecture", *SYNTHETIC, "sweep.sampler=random", "sweep.pruner=hyperband",
          "sweep.n_trials=3", "sweep.dir=sw")  # fmt: skip
    states = {t.state for t in journal_study(workdir / "sw").trials}
    assert states <= {TrialState.COMPLETE, TrialState.PRUNED} and TrialState.COMPLETE in states


@pytest.mark.slow
def test_cmaes_sampler_runs_a_study(workdir: Path) -> None:
    pytest.importorskip("cmaes", reason="CMA-ES is an optional extra: pip install 'mtfw[cmaes]'")
    sweep("sweep=task_weights", *SYNTHETIC, ONE_OBJECTIVE, "sweep.sampler=cmaes",
          "sweep.n_trials=3", "sweep.dir=sw")  # fmt: skip
    trials = journal_study(workdir / "sw").trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    assert len({t.params["task.y1.weight"] for t in trials}) == 3


def test_a_timeout_starts_no_trial_after_it(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    err = sweep_fails([*LR_ONLY, *SYNTHETIC, "optim.lr=interval(0.001,0.1)", "sweep.timeout=1e-9",
                       "sweep.dir=sw"], capsys)  # fmt: skip
    assert "no trial finished" in err and not journal_study(workdir / "sw").trials


def test_a_trial_that_reaches_its_last_epoch_completes_and_is_never_pruned(workdir: Path) -> None:
    # max_epochs equal to the pruner's warm-up: the lr=0 trial, worse than the median at epoch 1,
    # has trained fully by then, so it completes (with test metrics) rather than being pruned
    sweep(*LR_ONLY, *SYNTHETIC, "trainer.max_epochs=1", ONE_OBJECTIVE, "optim.lr=choice(0.0,0.02)",
          "sweep.pruner={name: median, n_startup_trials: 2, n_warmup_steps: 1}",
          "sweep.enqueue=[{optim.lr: 0.02},{optim.lr: 0.02},{optim.lr: 0.0}]",
          "sweep.n_trials=3", "sweep.dir=sw")  # fmt: skip
    trials = journal_study(workdir / "sw").trials
    assert [t.params["optim.lr"] for t in trials] == [0.02, 0.02, 0.0]
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    last = summary(workdir / "sw" / trials[2].user_attrs["run_dir"])
    assert last["status"] == "completed" and last["epochs_trained"] == 1
    assert any(key.startswith("test/") for key in last)
    assert list(trials[2].intermediate_values) == [1]  # still reported, for later trials' median


def test_a_trial_that_early_stopping_ends_completes_and_is_never_pruned(workdir: Path) -> None:
    # lr=0 never improves: with patience 1 early stopping ends it after epoch 2, the epoch where
    # the median pruner (warm-up 2) first judges it worse than the median. It trains nothing more
    # either way, so it completes with its test metrics rather than being counted as pruned.
    sweep(*LR_ONLY, *SYNTHETIC, "trainer.max_epochs=3", "trainer.patience=1", ONE_OBJECTIVE,
          "optim.lr=choice(0.0,0.02)",
          "sweep.pruner={name: median, n_startup_trials: 2, n_warmup_steps: 2}",
          "sweep.enqueue=[{optim.lr: 0.02},{optim.lr: 0.02},{optim.lr: 0.0}]",
          "sweep.n_trials=3", "sweep.dir=sw")  # fmt: skip
    trials = journal_study(workdir / "sw").trials
    assert [t.params["optim.lr"] for t in trials] == [0.02, 0.02, 0.0]
    stopped = summary(workdir / "sw" / trials[2].user_attrs["run_dir"])
    assert stopped["epochs_trained"] == 2 and stopped["status"] == "completed"
    assert trials[2].state == TrialState.COMPLETE and any(k.startswith("test/") for k in stopped)
    assert list(trials[2].intermediate_values) == [1, 2]
