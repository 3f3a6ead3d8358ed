"""A built wheel carries mtfw's configs and runs from anywhere: train, list and sweep from a
directory outside the checkout, with the wheel installed into a fresh virtual environment; and a
newcomer's own project from a CSV to a report, with that installed mtfw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import tomllib
from conftest import ROOT, TINY
from public_tables_support import public_csv

CONF = ROOT / "mtfw" / "conf"


def test_every_config_file_is_package_data() -> None:
    """The globs of pyproject.toml's package-data reach every YAML file of mtfw/conf."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["mtfw"]
    shipped = {p for g in globs for p in (ROOT / "mtfw").glob(g)}
    assert set(CONF.rglob("*.yaml")) <= shipped


@dataclass
class Installed:
    """mtfw installed from a freshly built wheel into its own virtual environment."""

    venv: Path
    site: Path
    env: dict

    def run(self, *args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.venv / "bin" / "mtfw"), *args], cwd=cwd, env=self.env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        if ok:
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp_path = tmp_path_factory.mktemp("wheel")
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
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": ""}
    where = subprocess.run([str(python), "-c", "import mtfw; print(mtfw.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True)  # fmt: skip
    assert where.stdout.startswith(site), where.stderr  # the wheel's copy, not the checkout
    return Installed(venv, Path(site), env)


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_trains_lists_and_sweeps(
    installed: Installed, tmp_path: Path
) -> None:
    assert "mmoe" in installed.run("list", "encoder", cwd=tmp_path).stdout
    assert "best epoch" in installed.run("train", *TINY, "hydra.run.dir=run", cwd=tmp_path).stdout
    assert (tmp_path / "run" / "summary.json").is_file()
    installed.run("sweep", "sweep=architecture", "sweep.n_trials=2", "sweep.dir=sweep", *TINY,
                  cwd=tmp_path)  # fmt: skip
    assert (tmp_path / "sweep" / "trials.csv").is_file()


@pytest.mark.slow
def test_ones_own_project_from_a_csv_with_the_wheel(installed: Installed, tmp_path: Path) -> None:
    """A newcomer's path, outside the checkout: init on a real CSV (string and count labels), a
    task file shadowing a shipped one, train, a sweep over the own data, report, and reproduce
    after the folder was moved."""
    csv = public_csv("AER/DoctorVisits", tmp_path / "doctorvisits.csv")
    mtfw = partial(installed.run, cwd=tmp_path)
    out = mtfw("init", "proj", "--csv", str(csv), "--label", "visits", "private").stdout
    assert "mtfw train --config-dir proj experiment=doctorvisits" in out
    shipped = installed.site / "mtfw" / "conf" / "task" / "visits.yaml"
    assert shipped.is_file()  # the user's task/visits.yaml shadows it
    quick = ["trainer.max_epochs=2"]
    proc = mtfw("train", "--config-dir", "proj", "experiment=doctorvisits", *quick,
                "hydra.run.dir=runs/mtl")  # fmt: skip
    assert "task/visits.yaml: using" in proc.stderr and "shadows the shipped one" in proc.stderr
    mtl = json.loads((tmp_path / "runs/mtl/summary.json").read_text())
    assert mtl["status"] == "completed" and "test/visits/poisson_deviance" in mtl
    assert mtl["test/private/auc"] > 0.6
    mtfw("train", "--config-dir", "proj", "experiment=doctorvisits", "encoder=single_task",
         *quick, "hydra.run.dir=runs/single")  # fmt: skip
    mtfw("sweep", "--config-dir", "proj", "experiment=doctorvisits", "sweep=architecture",
         "sweep.n_trials=2", "sweep.dir=sw", *quick)  # fmt: skip
    assert len((tmp_path / "sw" / "trials.csv").read_text().splitlines()) == 3
    table = mtfw("report", "runs", "--baseline", "single_task").stdout
    assert "test/private/auc" in table and "single_task" in table
    (tmp_path / "proj").rename(tmp_path / "moved")
    again = mtfw("reproduce", "runs/mtl", "out=again").stdout
    assert "metrics identical" in again
