"""Helpers of the sweep tests: run `mtfw sweep` in-process, read a study and its outputs back."""

from __future__ import annotations

import csv
from pathlib import Path

import optuna
import pytest
import yaml
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from mtfw.cli import main as cli_main

# Tiny but real trials: the synthetic data of the MMoE paper, 1000 samples, two epochs.
SYNTHETIC = ["experiment=synthetic", "data.n_samples=1000", "trainer.max_epochs=2"]
# A search over the learning rate alone (task weights fixed), for studies whose trials we choose.
LR_ONLY = ["sweep=task_weights", "task.y1.weight=1.0", "task.y2.weight=1.0"]


def sweep(*args: str) -> None:
    """`mtfw sweep ARGS` in this process (one worker); fails the test on a non-zero exit."""
    try:
        cli_main(["sweep", *args])
    except SystemExit as err:
        raise AssertionError(f"mtfw sweep {' '.join(args)} exited with {err.code}") from None


def sweep_fails(args: list[str], capsys: pytest.CaptureFixture) -> str:
    """`mtfw sweep ARGS` must exit with status 2; returns what it printed on stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["sweep", *args])
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def journal_study(sweep_dir: Path) -> optuna.Study:
    record = yaml.safe_load((sweep_dir / "sweep.yaml").read_text())
    storage = JournalStorage(JournalFileBackend(str(sweep_dir / "optuna.journal")))
    return optuna.load_study(study_name=record["study_name"], storage=storage)


def trials_csv(sweep_dir: Path) -> list[dict]:
    with open(sweep_dir / "trials.csv", newline="") as f:
        return list(csv.DictReader(f))


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
