"""One process per run directory, and SIGTERM handled like Ctrl-C (mtfw.run_guard)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MTFW, TINY, cli, composed, summary

from mtfw.record import RunRecord
from mtfw.run_guard import CLAIM, Terminated
from mtfw.train import run

HOLD = (
    "import sys, time; from pathlib import Path; from mtfw.run_guard import claimed\n"
    "with claimed(Path(sys.argv[1])):\n    print('claimed', flush=True); time.sleep(300)"
)


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_two_trainings_into_one_new_directory_never_mix(workdir: Path) -> None:
    env = {**os.environ, "WANDB_MODE": "offline"}
    args = [*MTFW, "train", *TINY, "hydra.run.dir=run"]
    procs = [subprocess.Popen(args, cwd=workdir, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, err in results if code == 2)
    assert "in use" in refused or "already" in refused, refused
    assert [r["epoch"] for r in RunRecord(workdir / "run").history()] == [1, 2]
    assert summary(workdir / "run")["status"] == "completed"
    assert not (workdir / "run" / CLAIM).exists()


@pytest.mark.slow  # end to end through the CLI, several seconds: CI runs it
def test_a_live_claim_blocks_a_resume_and_a_dead_one_does_not(
    tiny_run: Path, workdir: Path
) -> None:
    target = workdir / "claimed"
    subprocess.run(["cp", "-r", str(tiny_run), str(target)], check=True)
    (target / "summary.json").unlink()  # an interrupted run
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "claimed"
        proc = cli("train", f"resume={target}", cwd=workdir, check=False)
        assert proc.returncode == 2, proc.stderr
        assert f"is in use: process {holder.pid}" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        holder.kill()
        holder.wait()
    assert (target / CLAIM).read_text().strip() == str(holder.pid)  # left by a kill -9
    cli("train", f"resume={target}", cwd=workdir)
    assert summary(target)["status"] == "completed"


def test_sigterm_inside_a_run_records_interrupted_and_the_handler_comes_back(
    tmp_path: Path,
) -> None:
    cfg = composed("experiment=synthetic", "data.n_samples=2000", "trainer.max_epochs=3")
    before = signal.getsignal(signal.SIGTERM)

    def terminate(epoch: int, row: dict, last: bool) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(Terminated):
        run(cfg, tmp_path / "run", on_eval=terminate)
    assert summary(tmp_path / "run")["status"] == "interrupted"
    assert signal.getsignal(signal.SIGTERM) is before
    assert not (tmp_path / "run" / CLAIM).exists()
