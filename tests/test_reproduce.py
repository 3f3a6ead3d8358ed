"""`mtfw reproduce`: a CPU run reproduces to identical metrics; a difference is reported."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import cli, metric_values, summary


@pytest.fixture
def finished(tiny_run: Path) -> Path:
    return tiny_run


def test_reproduce_gives_identical_metrics(finished: Path, workdir: Path) -> None:
    proc = cli("reproduce", str(finished), "out=again", cwd=workdir)
    assert "reproduced: all" in proc.stdout and "metrics identical" in proc.stdout
    assert metric_values(summary(workdir / "again")) == metric_values(summary(finished))
    assert (workdir / "again" / ".hydra" / "config.yaml").is_file()  # a normal run directory


def test_reproduce_reports_a_tampered_metric(finished: Path, workdir: Path) -> None:
    tampered = workdir / "tampered"
    shutil.copytree(finished, tampered)
    s = summary(tampered)
    s["test/income/auc"] += 0.01
    (tampered / "summary.json").write_text(json.dumps(s))
    proc = cli("reproduce", str(tampered), "out=again", cwd=workdir, check=False)
    assert proc.returncode == 1
    assert "NOT reproduced: 1 metrics differ" in proc.stdout and "test/income/auc" in proc.stdout
    assert "environment differences" in proc.stdout


def test_reproduce_refuses_what_is_not_a_finished_run(workdir: Path) -> None:
    proc = cli("reproduce", str(workdir), cwd=workdir, check=False)
    assert proc.returncode == 2 and "not a finished run" in proc.stderr


def test_reproduce_warns_on_a_dirty_record_and_changed_data(finished: Path, workdir: Path) -> None:
    copied = workdir / "copied"
    shutil.copytree(finished, copied)
    s = summary(copied)
    s.update({"git_dirty": True, "data/checksum": "0" * 64})  # as if the file had changed since
    (copied / "summary.json").write_text(json.dumps(s))
    proc = cli("reproduce", str(copied), "out=again", cwd=workdir, check=False)
    assert "warning:" in proc.stderr and "uncommitted changes" in proc.stderr
    assert f"data/checksum {'0' * 64} -> {summary(finished)['data/checksum']}" in proc.stderr
    assert proc.returncode == 0 and "reproduced: all" in proc.stdout  # warnings, not errors


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_reproduce_may_change_run_control_keys_only(finished: Path, workdir: Path) -> None:
    data = summary(finished)["data/source"]  # the same file, named where the data lives
    proc = cli("reproduce", str(finished), "out=elsewhere", f"data.path={data}",
               "trainer.progress=never", "logger.mode=disabled", cwd=workdir)  # fmt: skip
    assert "reproduced: all" in proc.stdout
    saved = (workdir / "elsewhere" / ".hydra" / "config.yaml").read_text()
    assert "progress: never" in saved  # the new run records how it was made
    proc = cli("reproduce", str(finished), "out=changed", "optim.lr=0.5", cwd=workdir,
               check=False)  # fmt: skip
    assert proc.returncode == 2 and "'optim.lr=0.5' would change what the run computes" in (
        proc.stderr
    )
    assert "trainer.num_threads" in proc.stderr and not (workdir / "changed").exists()


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_reproduce_says_when_metrics_agree_within_float_tolerance(finished, workdir) -> None:
    """Float sums in another order (threads, kernels) move the last digits: said, not hidden."""
    nudged = workdir / "nudged"
    shutil.copytree(finished, nudged)
    s = summary(nudged)
    s["test/income/auc"] *= 1 + 1e-9
    (nudged / "summary.json").write_text(json.dumps(s))
    proc = cli("reproduce", str(nudged), "out=again", cwd=workdir)
    assert "reproduced within float tolerance: 1 of" in proc.stdout
    assert "test/income/auc" in proc.stdout and "tolerance 1e-06" in proc.stdout
