"""Shared fixtures: run the real CLI in a subprocess or in-process, inside a temp directory."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
import torch
from hydra import compose, initialize_config_dir
from in_process import cli_in_process
from omegaconf import DictConfig

from mtfw.preflight import CONF_DIR

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"  # data beside the checkout (see its README)
MTFW = [sys.executable, "-m", "mtfw"]
# A tiny but real budget: census, two epochs of a few batches each.
TINY = ["trainer.max_epochs=2", "trainer.max_steps_per_epoch=5", "trainer.batch_size=256"]


def cli(
    *args: str, cwd: Path, check: bool = True, timeout: int = 300, fresh_process: bool = False
) -> subprocess.CompletedProcess:
    """Run ``mtfw ARGS`` in ``cwd`` as a user would, with wandb forced offline: in this process
    through ``mtfw.cli.main`` (the entry point ``python -m mtfw`` calls; no 3-5 s of imports per
    call), or with ``fresh_process`` as ``python -m mtfw`` (signals, pipes, kills, concurrency,
    and what a fresh interpreter computes)."""
    if fresh_process:
        env = {**os.environ, "WANDB_MODE": "offline", "HYDRA_FULL_ERROR": "0"}
        proc = subprocess.run(
            [*MTFW, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )
    else:
        proc = cli_in_process(list(args), cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"mtfw {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@cache
def benchmark_script(name: str) -> ModuleType:
    """``benchmarks/<name>.py`` imported by path (the folder is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def composed(*overrides: str) -> DictConfig:
    """``conf/train.yaml`` with overrides, composed by Hydra as ``mtfw train`` would."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("train", overrides=list(overrides))


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def metric_values(s: dict) -> dict:
    """The metric entries of a summary (split/task/metric keys)."""
    return {k: v for k, v in s.items() if k.startswith(("val/", "test/"))}


def shared_path(relative: str) -> Path:
    """A file or folder of ``../shared/data``, whether or not this machine has it."""
    return SHARED_DATA / relative


def needs_shared(relative: str) -> pytest.MarkDecorator:
    """Skip a test where this machine lacks a file of ``../shared/data``, naming the file."""
    path = shared_path(relative)
    return pytest.mark.skipif(not path.exists(), reason=f"{path} is not on this machine")


def shared(relative: str) -> Path:
    """A file of ``../shared/data``; the calling test is skipped, naming it, where it is absent."""
    path = shared_path(relative)
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished tiny census run through the CLI, shared by the tests that read a finished
    run: copy it before changing anything in it."""
    base = tmp_path_factory.mktemp("tiny")
    cli("train", *TINY, "hydra.run.dir=run", cwd=base, fresh_process=True)  # reproduced elsewhere
    return base / "run"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WANDB_MODE", "offline")
    return tmp_path


# One torch thread for in-process tests: on a busy 2-core machine, two threads slow small ops
# 10-20x through contention (subprocess CLI runs keep torch's default).
torch.set_num_threads(1)


@pytest.fixture(autouse=True, scope="session")
def _disk_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A disk-storage run that names no data.disk.cache_dir writes under $MTFW_CACHE: a
    temporary folder here, never the user's ~/.cache."""
    os.environ["MTFW_CACHE"] = str(tmp_path_factory.mktemp("mtfw-cache"))


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """What an in-process command leaves on the root logger (Hydra's console and train.log
    handlers) is taken off after each test: a later test must not log into a deleted run."""
    import logging

    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    yield
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(saved_level)
