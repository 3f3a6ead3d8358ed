"""`mtfw sweep` through the real CLI: every conf/sweep/ file runs as a real study; bad input gets a
clear error (with the closest match) before any trial runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import cli, summary
from sweep_support import SYNTHETIC, is_png, sweep_fails, trials_csv

from mtfw.preflight import CONF_DIR

SWEEPS = sorted(p.stem for p in (CONF_DIR / "sweep").glob("*.yaml"))
TINY_CENSUS = ["trainer.max_epochs=2", "trainer.max_steps_per_epoch=3", "trainer.batch_size=256"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SWEEPS)
def test_every_sweep_file_runs_as_a_real_study(name: str, workdir: Path) -> None:
    proc = cli("sweep", f"sweep={name}", "sweep.n_trials=3", *TINY_CENSUS, "sweep.dir=sw",
               cwd=workdir)  # fmt: skip
    sweep_dir = workdir / "sw"
    rows = trials_csv(sweep_dir)
    assert [r["number"] for r in rows] == ["0", "1", "2"]
    assert {r["state"] for r in rows} <= {"COMPLETE", "PRUNED"} and rows[0]["state"] == "COMPLETE"
    for row in rows:  # each trial is a normal run directory holding the sampled config
        run = sweep_dir / row["run_dir"]
        assert summary(run)["status"] == row["state"].lower().replace("complete", "completed")
        cfg = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())
        assert cfg["trainer"]["max_epochs"] == 2  # the command line's overrides reach every trial
        overrides = yaml.safe_load((run / ".hydra" / "overrides.yaml").read_text())
        for key, value in row.items():
            if key.startswith("params.") and value:
                assert any(o.startswith(key[7:] + "=") for o in overrides), key
        assert (run / "metrics.jsonl").is_file() and (run / "train.log").is_file()
    sweep_record = yaml.safe_load((sweep_dir / "sweep.yaml").read_text())
    objectives = sweep_record["identity"]["objectives"]
    assert not any(key.startswith("test/") for key, _ in objectives)
    if len(objectives) == 1:
        best = json.loads((sweep_dir / "best.json").read_text())
        assert best["objective"]["key"] == objectives[0][0]
        assert best["command"].startswith("mtfw train ") and best["run_dir"].startswith("trials/")
    else:
        pareto = json.loads((sweep_dir / "pareto.json").read_text())
        assert pareto["trials"] and all(set(t["values"]) == {k for k, _ in objectives}
                                        for t in pareto["trials"])  # fmt: skip
    assert is_png(sweep_dir / "history.png") and is_png(sweep_dir / "importances.png")
    assert is_png(sweep_dir / "pareto.png") == (len(objectives) == 2)
    assert f"sweep directory: {sweep_dir.name}" in proc.stdout.replace(str(workdir) + "/", "")


@pytest.mark.slow
def test_architecture_sweep_samples_conditional_keys_only_for_their_encoders(
    workdir: Path,
) -> None:
    cli("sweep", "sweep=architecture", "sweep.n_trials=4", "sweep.sampler=random",
        "sweep.pruner=none", *SYNTHETIC, "sweep.dir=sw", cwd=workdir)  # fmt: skip
    for row in trials_csv(workdir / "sw"):
        gated = row["params.encoder"] in ("omoe", "mmoe")
        assert bool(row.get("params.encoder.n_experts")) == gated, row
        assert bool(row.get("params.encoder.levels")) == (row["params.encoder"] == "ple"), row
        cfg = yaml.safe_load((workdir / "sw" / row["run_dir"] / ".hydra/config.yaml").read_text())
        assert ("n_experts" in cfg["encoder"]) == gated


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sweep=archtecture"], ["unknown sweep 'archtecture'", "Did you mean 'architecture'"]),
        (["trainer.max_epochs=2"], ["name one sweep", "architecture", "task_weights"]),
        (["sweep=architecture", "sweep.n_trial=3"], ["Did you mean 'n_trials'"]),
        (["sweep=architecture", "encoder.n_expert=choice(2,4)"], ["Did you mean 'n_experts'"]),
        (["sweep=architecture", "encoder=choice(mmoe,ple2)"], ["unknown encoder 'ple2'"]),
        (["sweep=architecture", "optim.lr=interval(1e-3)"], ["cannot parse", "optim.lr"]),
        (["sweep=architecture", "sweep.sampler.name=tpee"], ["Did you mean 'tpe'"]),
        (["sweep=architecture", "sweep.pruner.nam=median"], ["no config key 'sweep.pruner.nam'"]),
        (["sweep=task_weights", "sweep.pruner=median"], ["needs a single objective"]),
        (["sweep=architecture", "sweep.sampler=grid"], ["grid sampler needs a finite set"]),
        (["sweep=architecture", "hydra.run.dir=x"], ["set sweep.dir=PATH"]),
        (["sweep=architecture", "sweep.objectives=[val/income/aucc]"], ["'val/income/auc'"]),
        (["sweep=architecture", "sweep.resume=true"], ["no earlier 'architecture' sweep"]),
        (["sweep=architecture", "sweep.storage=nowhere"], ["expected null", "database URL"]),
        (
            ["sweep=architecture", "sweep.objectives=[test/income/auc]"],
            ["'test/income/auc' is a test-split metric", "sweep.allow_test_objective=true"],
        ),
    ],
)
def test_bad_sweeps_fail_before_any_trial(
    args: list[str], expected: list[str], workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    err = sweep_fails(args, capsys)
    for text in expected:
        assert text in err, (text, err)
    assert not (workdir / "outputs").exists()  # nothing was created, nothing trained


def test_a_directory_holding_something_else_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    (workdir / "taken").mkdir()
    (workdir / "taken" / "notes.txt").write_text("mine")
    err = sweep_fails(["sweep=architecture", "sweep.dir=taken"], capsys)
    assert "holds no sweep" in err and (workdir / "taken" / "notes.txt").read_text() == "mine"


def test_train_refuses_a_sweep_and_points_to_the_sweep_command(workdir: Path) -> None:
    proc = cli("train", "sweep=architecture", cwd=workdir, check=False)
    assert proc.returncode == 2 and "mtfw sweep sweep=<name>" in proc.stderr


def test_help_lists_the_sweep_command(workdir: Path) -> None:
    assert "sweep sweep=<name>" in cli("--help", cwd=workdir).stdout
    assert "sweep.* settings" in cli("sweep", "--help", cwd=workdir).stdout
