"""The training loop's contracts: selection on validation, early stopping, test once, progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import composed

from mtfw.experiment import build_experiment
from mtfw.train import run
from mtfw.trainer.evaluate import evaluate

SMALL = ["experiment=synthetic", "data.n_samples=2000", "trainer.batch_size=128"]


def small(*overrides: str):
    return composed(*SMALL, *overrides)


def rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r for r in rows if "kind" not in r]  # evaluation rows (step rows have kind: step)


def test_best_epoch_is_the_best_validation_value_and_test_uses_its_weights(tmp_path: Path) -> None:
    cfg = small("trainer.max_epochs=6", "trainer.patience=null", "optim.lr=0.02")
    summary = run(cfg, tmp_path / "run")
    history = rows(tmp_path / "run")
    values = [r["val/mean/loss"] for r in history]
    assert summary["best_epoch"] == 1 + values.index(min(values))
    assert summary["val/mean/loss"] == pytest.approx(min(values), rel=1e-6)
    # the reported test metrics are those of the saved best weights, evaluated once
    exp = build_experiment(cfg)
    exp.model.load_state_dict(torch.load(tmp_path / "run" / "best.pt", weights_only=True)["model"])
    test = evaluate(exp.model, exp.tasks, exp.data.splits["test"], "test", 4096, exp.data.context)
    assert test["test/y1/mse"] == pytest.approx(summary["test/y1/mse"], rel=1e-6)


def test_early_stopping_after_patience_epochs_without_improvement(tmp_path: Path) -> None:
    # lr=0 never improves after the first epoch: stop after exactly 1 + patience epochs.
    summary = run(small("trainer.max_epochs=10", "trainer.patience=2", "optim.lr=0"), tmp_path)
    assert summary["epochs_trained"] == 3 and summary["best_epoch"] == 1


def test_monitor_mode_follows_the_metric(tmp_path: Path) -> None:
    cfg = small("trainer.max_epochs=4", "trainer.patience=null", "trainer.monitor=val/y1/mse",
                   "trainer.mode=max")  # fmt: skip
    summary = run(cfg, tmp_path / "run")
    values = [r["val/y1/mse"] for r in rows(tmp_path / "run")]
    assert summary["best_epoch"] == 1 + values.index(max(values))  # explicit max is obeyed


def test_progress_bar_only_when_asked_or_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    run(small("trainer.max_epochs=1"), tmp_path / "quiet")
    assert "sample" not in capsys.readouterr().out.split("best epoch")[0]  # not a terminal
    cfg = small("trainer.max_epochs=1", "trainer.progress=always", "trainer.batch_size=32")
    run(cfg, tmp_path / "bar")
    out = capsys.readouterr().out
    assert "epoch 1" in out and "sample/s" in out and "loss=" in out


def test_cuda_requested_without_cuda_is_a_clear_error(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(Exception, match="CUDA is not available"):
        run(small("trainer.device=cuda"), tmp_path)
