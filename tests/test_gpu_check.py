"""benchmarks/gpu_check.sh: refused clearly without CUDA (no --cpu); the table it prints."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from conftest import ROOT, benchmark_script


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_without_cuda_the_check_stops_at_once_naming_the_cpu_flag(tmp_path) -> None:
    proc = subprocess.run([str(ROOT / "benchmarks" / "gpu_check.sh"), "--out", str(tmp_path)],
                          capture_output=True, text=True, env={"PYTHON": sys.executable,
                                                               "PATH": "/usr/bin:/bin"},
                          timeout=120)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "no CUDA device here" in proc.stderr and "--cpu" in proc.stderr
    assert "Traceback" not in proc.stderr and not any(tmp_path.iterdir())  # nothing ran


def test_the_table_puts_each_gpu_run_next_to_its_cpu_run() -> None:
    check = benchmark_script("gpu_check")
    ok = {"samples_per_second": 12345.6, "val/income/auc": 0.91234, "precision": "16-mixed",
          "skipped_steps": 2}  # fmt: skip
    results = {d: {name: ok for name in check.CHECKS} for d in ("cpu", "cuda")}
    results["cuda"]["ml100k sasrec bf16"] = {"error": "CUDA out of memory", "wall": 1.0}
    lines = check.table(results, ["cpu", "cuda"]).splitlines()
    first = lines.index("census mmoe fp32")
    assert lines[first + 1] == "  cpu      12,346/s  income/auc=0.9123 skipped=2"
    assert lines[first + 2].startswith("  cuda ")
    failed = lines.index("ml100k sasrec bf16") + 2  # its name, its CPU line, its GPU line
    assert lines[failed] == "  cuda  FAILED: CUDA out of memory"
