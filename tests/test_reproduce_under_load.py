"""`mtfw reproduce` in a fresh process on a loaded machine gives bit-identical metrics.

Under load, MKL's dynamic threading (off: ``MKL_DYNAMIC=FALSE`` in ``mtfw/__init__``) and torch's
split of large sums between threads (fixed: the thread count is recorded and reused; reported
means are exactly rounded) once moved metrics in the 7th digit. Busy processes, two per core,
compete with the reproduction here for the whole run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import cli, metric_values, summary
from recsys_support import ml100k


@contextmanager
def cpu_load(per_core: int = 2) -> Iterator[None]:
    """Spin ``per_core`` busy Python processes per CPU core while the block runs."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(per_core * (os.cpu_count() or 1))
    ]
    try:
        yield
    finally:
        for p in burners:
            p.kill()
        for p in burners:
            p.wait()


def reproduce_loaded(run: Path, workdir: Path) -> subprocess.CompletedProcess:
    with cpu_load():
        return cli(
            "reproduce",
            str(run),
            f"out={workdir / 'again'}",
            cwd=workdir,
            check=False,
            fresh_process=True,
        )


@pytest.mark.slow  # a training run in a fresh process beside busy processes: CI runs it
def test_a_flat_table_run_reproduces_identically_under_cpu_load(
    tiny_run: Path, workdir: Path
) -> None:
    proc = reproduce_loaded(tiny_run, workdir)
    assert proc.returncode == 0 and "metrics identical" in proc.stdout, proc.stdout
    assert metric_values(summary(workdir / "again")) == metric_values(summary(tiny_run))


@pytest.mark.slow  # MovieLens-100K, trained then reproduced beside busy processes: CI runs it
def test_a_movielens_run_reproduces_identically_under_cpu_load(workdir: Path) -> None:
    # Default threads (two here), so the reproduction splits its work between threads too.
    cli("train", "experiment=ml100k_mtl", *ml100k(), "trainer.max_epochs=1",
        "trainer.max_steps_per_epoch=20", "hydra.run.dir=ml", cwd=workdir)  # fmt: skip
    proc = reproduce_loaded(workdir / "ml", workdir)
    assert proc.returncode == 0 and "metrics identical" in proc.stdout, proc.stdout
    assert metric_values(summary(workdir / "again")) == metric_values(summary(workdir / "ml"))
