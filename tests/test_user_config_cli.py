"""A user's own config folder end to end through the CLI, from a directory outside the checkout:
train (a user task file shadowing a shipped one, a user experiment), the recorded command re-run,
reproduce and resume= after the folder was edited and moved, train -m, report, a 2-trial sweep."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path

import pytest
from conftest import cli, metric_values, summary
from omegaconf import OmegaConf
from user_config_support import BUDGET, SHADOW_WEIGHT, user_folder

from mtfw.user_config.folders import ENV


def shadow_lines(stderr: str, conf: Path) -> list[str]:
    line = f"task/income.yaml: using {conf}/task/income.yaml (shadows the shipped one)"
    return [x for x in stderr.splitlines() if x == line]


@pytest.mark.slow  # five CLI runs in subprocesses, a few seconds each: CI runs it
def test_train_rerun_reproduce_and_resume_with_a_user_folder(workdir: Path) -> None:
    conf = user_folder(workdir / "home")
    proc = cli("train", "--config-dir", "home/proj", "experiment=people_mmoe", *BUDGET,
               "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    assert len(shadow_lines(proc.stderr, conf)) == 1  # said once, though checked and recorded
    run = workdir / "run"
    original = summary(run)
    assert original["status"] == "completed" and original["config_dirs"] == [str(conf)]
    assert OmegaConf.load(run / ".hydra" / "config.yaml").task.income.weight == SHADOW_WEIGHT
    copies = run / ".mtfw" / "user_conf"
    assert sorted(str(p.relative_to(copies)) for p in copies.rglob("*.yaml")) == [
        "data/people.yaml", "experiment/people_mmoe.yaml", "task/income.yaml"]  # fmt: skip
    record = json.loads((run / ".mtfw" / "run.json").read_text())
    assert record["shadows"] == ["task/income.yaml"] and record["command"] == original["command"]

    args = shlex.split(original["command"])  # the recorded command, as a shell would split it
    assert args[:3] == ["mtfw", "train", f"--config-dir={conf}"]
    cli(*[a.replace("hydra.run.dir=run", "hydra.run.dir=rerun") for a in args[1:]], cwd=workdir)
    assert metric_values(summary(workdir / "rerun")) == metric_values(original)

    moved = conf.rename(workdir / "moved")  # then edited: the run's record must not care
    (moved / "task" / "income.yaml").write_text("income: {name: binary, label: nothere}\n")
    rep = cli("reproduce", str(run), "out=rep", cwd=workdir)
    assert "reproduced: all" in rep.stdout and "metrics identical" in rep.stdout
    assert (workdir / "rep" / ".mtfw" / "user_conf" / "task" / "income.yaml").read_bytes() == (
        copies / "task" / "income.yaml"
    ).read_bytes()

    stopped = workdir / "stopped"  # as a killed run looks: its checkpoint, no summary
    shutil.copytree(run, stopped)
    (stopped / "summary.json").unlink()
    cli("train", f"resume={stopped}", cwd=workdir)
    resumed = summary(stopped)
    assert resumed["status"] == "completed" and resumed["command"] == original["command"]
    assert metric_values(resumed) == metric_values(original)


@pytest.mark.slow  # a multirun of two runs and a report through the CLI: CI runs it
def test_multirun_and_report_with_the_environment_variable(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = user_folder(workdir)
    monkeypatch.setenv(ENV, str(conf))
    proc = cli("train", "-m", "experiment=people_mmoe", "seed=0,1", *BUDGET,
               "hydra.sweep.dir=multi", cwd=workdir)  # fmt: skip
    assert len(shadow_lines(proc.stderr, conf)) == 1
    for seed in (0, 1):
        s = summary(workdir / "multi" / str(seed))
        assert s["status"] == "completed" and s["config_dirs"] == [str(conf)]
        assert shlex.split(s["command"]) == [
            "mtfw", "train", f"--config-dir={conf}", "experiment=people_mmoe", f"seed={seed}",
            *BUDGET]  # fmt: skip
    report = cli("report", "multi", "--config-dir", str(conf), cwd=workdir)
    assert "--config-dir is not read" in report.stderr
    assert "income" in report.stdout and "2" in report.stdout


@pytest.mark.slow  # a 2-trial Optuna study through the CLI: CI runs it
def test_a_sweep_over_the_users_own_data(workdir: Path) -> None:
    conf = user_folder(workdir)
    proc = cli("sweep", f"--config-dir={conf}", "sweep=people", "data=people", *BUDGET,
               "sweep.dir=sw", cwd=workdir)  # fmt: skip
    assert len(shadow_lines(proc.stderr, conf)) == 1
    trials = sorted((workdir / "sw" / "trials").iterdir())
    assert len(trials) == 2
    for trial in trials:
        s = summary(trial)
        assert s["status"] == "completed" and s["config_dirs"] == [str(conf)]
        assert (trial / ".mtfw" / "user_conf" / "task" / "income.yaml").is_file()
        assert s["command"].startswith(f"mtfw train --config-dir={conf} data=people ")
    best = json.loads((workdir / "sw" / "best.json").read_text())
    assert best["command"].startswith(f"mtfw train --config-dir={conf} ")
    assert f"--config-dir={conf}" in (workdir / "sw" / "sweep.yaml").read_text()


@pytest.mark.slow  # a 2-trial Optuna study: CI runs it
def test_a_user_sweep_file_starts_from_a_shipped_one(workdir: Path) -> None:
    """`defaults: [task_weights, _self_]` in a user's sweep/mine.yaml: every key of the shipped
    study, the user's own on top (here: the trial count)."""
    (workdir / "proj" / "sweep").mkdir(parents=True)
    (workdir / "proj" / "sweep" / "mine.yaml").write_text(
        "defaults:\n  - task_weights\n  - _self_\nn_trials: 2\n"
    )
    cli("sweep", "--config-dir=proj", "sweep=mine", "experiment=synthetic", "data.n_samples=500",
        "trainer.max_epochs=1", "sweep.dir=sw", cwd=workdir)  # fmt: skip
    rows = (workdir / "sw" / "trials.csv").read_text().splitlines()
    assert len(rows) == 3 and "task.y1.weight" in rows[0]  # the shipped search, 2 trials
    assert (workdir / "sw" / "pareto.json").is_file()  # the shipped objectives: one per task
