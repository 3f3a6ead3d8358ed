"""Bad input gets a clear error naming what was wrong and what is allowed; nothing is lost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import TINY, cli

from mtfw.cli import main as cli_main
from mtfw.hydra_flags import refuse_flags_between_overrides


def fails(argv: list[str], capsys: pytest.CaptureFixture) -> str:
    """Run `mtfw train ARGV` in-process; it must exit with status 2. Returns stderr."""
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["train", *argv])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("encoder=mmo", ["unknown encoder 'mmo'", "shared_bottom", "Did you mean 'mmoe'"]),
        ("weighting=uncertanty", ["unknown weighting", "Did you mean 'uncertainty'"]),
        ("task=[income,marrital]", ["unknown task 'marrital'", "Did you mean 'marital'"]),
        ("trainer.max_epoch=2", ["no config key 'trainer.max_epoch'", "Did you mean 'max_epochs'"]),
        ("task.incme.weight=2", ["no config key 'task.incme'", "Did you mean 'income'"]),
        ("+encoder.n_expert=4", ["mmoe' has no parameter 'n_expert'", "Did you mean 'n_experts'"]),
        ("+data.splt.val=0.2", ["census' has no parameter 'splt'", "Did you mean 'split'"]),
        ("trainer.monitor=test/income/auc", ["validation split only"]),
        ("trainer.monitor=val/income/aucc", ["not a validation key", "val/income/auc"]),
    ],
)
def test_bad_names_fail_before_training(
    override: str, expected: list[str], workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    err = fails([override, "hydra.run.dir=run"], capsys)
    for text in expected:
        assert text in err, (text, err)
    assert not (workdir / "run" / "metrics.jsonl").exists()


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["data=synthetic"], ["needs label column 'income'", "y1, y2"]),
        (["data.features=[age,marital_stat]"], ["leakage", "marital_stat"]),
        (["data.path=/nonexistent/census.gz"], ["data.path=/nonexistent/census.gz", "Download"]),
        (["data.split.val=0.0"], ["val split is empty"]),
        (["experiment=synthetic", "task.y1.name=binary"], ["binary labels must be 0 or 1"]),
    ],
)
def test_bad_data_fails_with_a_clear_message(
    overrides: list[str], expected: list[str], workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    err = fails([*overrides, *TINY, "hydra.run.dir=run"], capsys)
    for text in expected:
        assert text in err, (text, err)


def test_existing_run_directory_is_never_overwritten(
    workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    old = workdir / "old"
    (old / ".hydra").mkdir(parents=True)
    (old / ".hydra" / "config.yaml").write_text("precious: true\n")
    (old / "summary.json").write_text('{"status": "completed"}')
    err = fails([*TINY, f"hydra.run.dir={old}"], capsys)
    assert "already exists" in err
    assert (old / ".hydra" / "config.yaml").read_text() == "precious: true\n"
    assert (old / "summary.json").read_text() == '{"status": "completed"}'


def test_a_diverging_loss_stops_and_keeps_checkpoint_and_metrics(workdir: Path) -> None:
    """SGD with lr=2 on the synthetic data explodes deterministically at its 4th step (a million
    times the first loss, long before NaN): with 2 steps per epoch, in epoch 2. On the raw labels:
    standardised ones (the default) explode only in epoch 9."""
    args = [
        "experiment=synthetic",
        "+task.y1.standardize=false",
        "+task.y2.standardize=false",
        "optim=sgd",
        "optim.lr=2.0",
        "trainer.max_epochs=10",
        "trainer.max_steps_per_epoch=2",
        "trainer.patience=null",
        "hydra.run.dir=run",
    ]
    proc = cli("train", *args, cwd=workdir, check=False)
    assert proc.returncode == 2
    assert "loss of task(s) y1, y2" in proc.stderr and "epoch 2, step 3" in proc.stderr
    assert "first losses" in proc.stderr
    run = workdir / "run"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if "kind" not in r] == [1]  # evaluation rows
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "diverged" and "y2" in summary["error"]
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["state"]["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_an_interpolated_run_directory_is_resolved_before_the_check(
    tiny_run: Path, workdir: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`hydra.run.dir=${oc.env:REFDIR}` names a finished run once resolved: refused before Hydra
    rewrites its .hydra/ (the literal text names no directory at all)."""
    done = workdir / "done"
    shutil.copytree(tiny_run, done)
    before = {p.name: p.read_bytes() for p in (done / ".hydra").iterdir()}
    monkeypatch.setenv("REFDIR", str(done))
    err = fails([*TINY, "hydra.run.dir=${oc.env:REFDIR}"], capsys)
    assert "already exists" in err and str(done) in err
    assert {p.name: p.read_bytes() for p in (done / ".hydra").iterdir()} == before


# What made Hydra call open("pwned", "w") when the run started.
CALLBACK = [
    "+hydra.callbacks.x._target_=builtins.open",
    "+hydra.callbacks.x.file=pwned",
    "+hydra.callbacks.x.mode=w",
]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["+foo=1"], ["'+foo=1'", "unknown top-level key 'foo'", "seed", "trainer"]),
        (["++trainr=1"], ["unknown top-level key 'trainr'", "Did you mean 'trainer'"]),
        (CALLBACK, ["'+hydra.callbacks.x._target_=builtins.open'", "hydra.callbacks"]),
        (["+hydra.job.x._target_=builtins.print"], ["'+hydra.job.x._target_=", "_target_"]),
        (["hydra.sweeper={_target_:builtins.print}"], ["hydra.sweeper", "_target_"]),
    ],
)
def test_stray_top_level_keys_and_code_under_hydra_are_refused(
    overrides: list[str], expected: list[str], workdir: Path, capsys: pytest.CaptureFixture
) -> None:
    err = fails([*overrides, *TINY, "hydra.run.dir=run"], capsys)
    for text in expected:
        assert text in err, (text, err)
    assert not (workdir / "run").exists() and not (workdir / "pwned").exists()


def test_a_flag_between_overrides_is_named(workdir: Path, capsys: pytest.CaptureFixture) -> None:
    """Hydra's parser would call the overrides after the flag "unrecognized arguments"."""
    err = fails(["trainer.max_epochs=1", "-m", "seed=1,2"], capsys)
    assert "'-m' stands between overrides" in err and "mtfw train -m seed=0,1" in err
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("argv", [["-m", "seed=0,1", "--cfg", "job"], ["cv=3", "--cfg", "job"],
                                  ["--cfg", "job", "--info"]])  # fmt: skip
def test_two_hydra_modes_are_refused(argv, workdir: Path, capsys: pytest.CaptureFixture) -> None:
    """Hydra would end in a ValueError traceback ("Only one of --run, --multirun, --cfg ...")."""
    err = fails(argv, capsys)
    assert "cannot be combined" in err and "mtfw train --cfg job seed=0" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv", [["-m", "a=1", "b=2"], ["a=1", "b=2", "--cfg", "job"], ["-cd", "conf", "a=1", "-m"]]
)
def test_flags_before_or_after_every_override_are_fine(argv: list[str]) -> None:
    refuse_flags_between_overrides(argv)
