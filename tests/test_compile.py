"""``trainer.compile``: compiled runs train every weighting family, write the plain model's state
dict, resume exactly, and are refused clearly where torch.compile cannot work."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import MTFW, cli, composed, summary

import mtfw.trainer.compilation as compilation
from mtfw.experiment import build_experiment
from mtfw.record import RunRecord
from mtfw.trainer.loop import GradientFitter

SMALL = ["experiment=synthetic", "data.n_samples=2000", "trainer.batch_size=256",
         "trainer.max_steps_per_epoch=3", "trainer.patience=null"]  # fmt: skip


def row_keys(run_dir: Path) -> list[set[str]]:
    rows = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [set(json.loads(r)) for r in rows]


def test_a_compiled_synthetic_run_writes_the_same_keys(workdir: Path) -> None:
    """Compiled and eager: the same summary and metrics keys, losses equal up to float error."""
    cli("train", *SMALL, "trainer.max_epochs=1", "hydra.run.dir=eager", cwd=workdir)
    torch._dynamo.reset()  # counters from zero: this run's graphs only
    cli("train", *SMALL, "trainer.max_epochs=1", "trainer.compile=true", "hydra.run.dir=compiled",
        cwd=workdir)  # fmt: skip
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] > 0  # it did compile
    eager, compiled = summary(workdir / "eager"), summary(workdir / "compiled")
    assert compiled["status"] == "completed"
    assert set(compiled) == set(eager)
    assert row_keys(workdir / "compiled") == row_keys(workdir / "eager")
    for key in ("val/y1/loss", "val/y2/loss", "test/weighted/loss"):
        assert compiled[key] == pytest.approx(eager[key], rel=1e-4), key
    saved = torch.load(workdir / "compiled" / "best.pt", weights_only=True)["model"]
    assert not [k for k in saved if "_orig_mod" in k]


WEIGHTINGS = [["weighting=static"], ["weighting=mgda"],
              ["weighting=mgda", "weighting.mode=representation"]]  # fmt: skip


@pytest.mark.slow  # compiled runs, ~12 s each where no earlier test compiled the same modules
@pytest.mark.parametrize(
    "weighting", WEIGHTINGS, ids=["static", "mgda-parameters", "mgda-representation"]
)
def test_every_weighting_family_trains_compiled(workdir: Path, weighting: list[str]) -> None:
    cli("train", *SMALL, *weighting, "trainer.max_epochs=1", "hydra.run.dir=eager", cwd=workdir)
    cli("train", *SMALL, *weighting, "trainer.max_epochs=1", "trainer.compile=true",
        "hydra.run.dir=compiled", cwd=workdir)  # fmt: skip
    eager, compiled = summary(workdir / "eager"), summary(workdir / "compiled")
    assert compiled["status"] == "completed"
    for task in ("y1", "y2"):
        assert compiled[f"weight/{task}"] == pytest.approx(eager[f"weight/{task}"], rel=1e-3)
        assert compiled[f"val/{task}/loss"] == pytest.approx(eager[f"val/{task}/loss"], rel=1e-3)


@pytest.mark.slow  # two compiled runs of two epochs and a resume, ~20 s
def test_a_compiled_run_resumes_identically_and_its_best_pt_loads_uncompiled(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overrides = [*SMALL, "trainer.max_epochs=2", "trainer.compile=true"]
    cli("train", *overrides, "hydra.run.dir=full", cwd=workdir)

    def stop_after_first(epoch: int, row: dict, last: bool) -> None:
        if epoch == 1:
            raise KeyboardInterrupt  # as Ctrl-C after the first checkpoint

    with monkeypatch.context() as patched:
        plain_fit = GradientFitter.fit
        patched.setattr(GradientFitter, "fit", lambda self, exp, record, resume, on_eval:
                        plain_fit(self, exp, record, resume, stop_after_first))  # fmt: skip
        stopped = workdir / "stopped"
        with pytest.raises(KeyboardInterrupt):  # in-process, Ctrl-C reaches the caller
            cli("train", *overrides, f"hydra.run.dir={stopped}", cwd=workdir)
    assert summary(stopped)["status"] == "interrupted"
    assert [r["epoch"] for r in RunRecord(stopped).history()] == [1]
    cli("train", f"resume={stopped}", cwd=workdir)
    resumed, full = summary(stopped), summary(workdir / "full")
    assert resumed["status"] == "completed" and resumed["epochs_trained"] == 2
    measured = [k for k in full if k.startswith(("val/", "test/", "weight/"))]
    assert measured and {k: resumed[k] for k in measured} == {k: full[k] for k in measured}
    plain = build_experiment(composed(*SMALL, "trainer.max_epochs=2"))  # trainer.compile=false
    best = torch.load(workdir / "full" / "best.pt", weights_only=True)["model"]
    plain.model.load_state_dict(best)  # strict: every key of the uncompiled model, no prefixes
    assert set(best) == set(plain.model.state_dict())


def test_compile_without_a_cpp_compiler_is_refused_before_data_loads(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compilation, "cpp_compiler_problem", lambda: "no working C++ compiler "
                        "for inductor (searched: g++; InvalidCxxCompiler)")  # fmt: skip
    missing = "data.path=/nonexistent/census"  # would fail if any data were read
    proc = cli("train", "trainer.compile=true", missing, cwd=workdir, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "trainer.compile=true needs torch.compile's inductor backend" in proc.stderr
    assert "g++" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow  # a fresh process (inductor reads CXX when imported), ~5 s of imports
def test_compile_with_a_missing_cxx_is_refused_by_the_cli(workdir: Path) -> None:
    env = {**os.environ, "CXX": "/nonexistent/g++", "WANDB_MODE": "offline"}
    proc = subprocess.run([*MTFW, "train", "trainer.compile=true", "data.path=/nonexistent/census"],
                          cwd=workdir, env=env, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "searched: /nonexistent/g++" in proc.stderr and "Traceback" not in proc.stderr


def test_compile_under_torchrun_is_refused(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compilation.distributed, "launched", lambda: True)
    with pytest.raises(compilation.ConfigError, match="not supported under torchrun"):
        compilation.check_compile(compilation.TrainerConfig(compile=True))


def test_cpp_compiler_is_found_here() -> None:
    """This machine has g++: the check must not refuse a working setup."""
    assert compilation.cpp_compiler_problem() is None


def test_compile_must_be_a_boolean(workdir: Path) -> None:
    proc = cli("train", "trainer.compile=maybe", cwd=workdir, check=False)
    assert proc.returncode == 2 and "trainer.compile" in proc.stderr
