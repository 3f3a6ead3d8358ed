"""A built wheel carries mtfw's configs and runs from anywhere: train, list and sweep from a
directory outside the checkout, with the wheel installed into a fresh virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import tomllib
from conftest import ROOT, TINY

CONF = ROOT / "mtfw" / "conf"


def test_every_config_file_is_package_data() -> None:
    """The globs of pyproject.toml's package-data reach every YAML file of mtfw/conf."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["mtfw"]
    shipped = {p for g in globs for p in (ROOT / "mtfw").glob(g)}
    assert set(CONF.rglob("*.yaml")) <= shipped


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_trains_lists_and_sweeps(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
                    str(ROOT)], check=True, capture_output=True)  # fmt: skip
    wheel = next(dist.glob("mtfw-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"mtfw/conf/train.yaml", "mtfw/conf/experiment/ml100k_mtl.yaml"} <= names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    query = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(python), "-c", query], check=True, capture_output=True,
                          text=True).stdout.strip()  # fmt: skip
    # The dependencies come from this environment (no reinstall of torch); mtfw from the wheel.
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q",
                    str(wheel)],
                   check=True, capture_output=True)  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": ""}

    def mtfw(*args: str) -> str:
        proc = subprocess.run([str(venv / "bin" / "mtfw"), *args], cwd=elsewhere, env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc.stdout

    where = subprocess.run([str(python), "-c", "import mtfw; print(mtfw.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True)  # fmt: skip
    assert where.stdout.startswith(site), where.stderr  # the wheel's copy, not the checkout
    assert "mmoe" in mtfw("list", "encoder")
    assert "best epoch" in mtfw("train", *TINY, "hydra.run.dir=run")
    assert (elsewhere / "run" / "summary.json").is_file()
    mtfw("sweep", "sweep=architecture", "sweep.n_trials=2", "sweep.dir=sweep", *TINY)
    assert (elsewhere / "sweep" / "trials.csv").is_file()
