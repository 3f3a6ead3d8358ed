"""The run record (DESIGN §8): metrics.jsonl, summary.json and the environment of a run."""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import shlex
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from mtfw.errors import RecordError

if TYPE_CHECKING:
    from torch import Tensor

SOURCE_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("mtfw")
PACKAGES = ("mtfw", "torch", "hydra-core", "omegaconf", "numpy", "pandas", "optuna", "wandb")


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else str(value)
    return value


def read_rows(path: Path) -> list[dict]:
    """The rows of a ``metrics.jsonl``. A kill during an append can leave the last line torn:
    it is dropped with a warning (the run's checkpoint, not its record, says where it stopped). A
    bad line before the last is damage, not a kill: a RecordError names it."""
    if not path.is_file():
        return []
    lines = path.read_text().splitlines()
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            if number < len(lines):
                raise RecordError(
                    f"{path}, line {number}, is not a JSON row ({err}): only the last line can "
                    "be incomplete (a kill during an append). Remove or repair that line"
                ) from err
            log.warning("%s: dropped its incomplete last line (%d characters), what a kill "
                        "during an append leaves", path, len(line))  # fmt: skip
    return rows


class RunRecord:
    """Appends to ``metrics.jsonl`` and writes ``summary.json`` of a run directory.

    ``metrics.jsonl`` holds two kinds of rows. An evaluation row per epoch (``epoch``, ``step``,
    ``train/<task>/loss`` and ``weight/<task>`` averaged over the epoch, ``val/...``,
    ``grad_cos/<a>~<b>``, ``epoch_seconds``) has no ``kind`` key, as before. Before it come the
    epoch's step rows, ``{"kind": "step", "epoch", "step", "weight/<task>", "train/<task>/loss"}``,
    one per training step: the weights the weighting method used at that step. ``history()``
    returns the evaluation rows, ``steps()`` the step rows."""

    def __init__(self, run_dir: Path):
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.dir / "metrics.jsonl"
        self.summary_path = self.dir / "summary.json"

    def log(self, row: dict) -> None:
        self.log_rows([row])

    def log_rows(self, rows: list[dict]) -> None:
        text = "".join(json.dumps({k: _json_safe(v) for k, v in r.items()}) + "\n" for r in rows)
        with open(self.metrics_path, "a") as f:  # on disk before the next step: a kill loses
            f.write(text)  # at most a torn last line, which read_rows drops
            f.flush()
            os.fsync(f.fileno())

    def log_steps(
        self, epoch: int, first_step: int, tasks: list[str], losses: Tensor, weights: Tensor,
        extra: dict[int, dict] | None = None,
    ) -> None:  # fmt: skip
        """Step rows for steps ``first_step + 1, ...`` of ``epoch`` from ``[steps, T]`` tensors;
        ``extra``: more keys for some steps (by index in the epoch), e.g. gradient cosines."""
        rows = []
        for i, (loss, weight) in enumerate(zip(losses.tolist(), weights.tolist(), strict=True)):
            row = {"kind": "step", "epoch": epoch, "step": first_step + i + 1}
            row.update({f"weight/{t}": w for t, w in zip(tasks, weight, strict=True)})
            row.update({f"train/{t}/loss": v for t, v in zip(tasks, loss, strict=True)})
            row.update((extra or {}).get(i, {}))
            rows.append(row)
        self.log_rows(rows)

    def rows(self) -> list[dict]:
        """Every row of ``metrics.jsonl``, both kinds, in order."""
        return read_rows(self.metrics_path)

    def history(self) -> list[dict]:
        """The evaluation rows, one per epoch."""
        return [r for r in self.rows() if "kind" not in r]

    def steps(self) -> list[dict]:
        """The step rows, one per training step."""
        return [r for r in self.rows() if r.get("kind") == "step"]

    def truncate_after(self, epoch: int) -> None:
        """On resume: drop rows of epochs after the checkpoint (they will be trained again)."""
        rows = [r for r in self.rows() if r.get("epoch", 0) <= epoch]
        tmp = self.metrics_path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
        tmp.replace(self.metrics_path)

    def write_summary(self, summary: dict) -> None:
        tmp = self.summary_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({k: _json_safe(v) for k, v in summary.items()}, indent=2))
        tmp.replace(self.summary_path)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(SOURCE_ROOT), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def environment(command: str | None = None) -> dict:
    """Command line (``command``, else this process's own), source revision and package
    versions, flat keys for summary.json."""
    env = {
        "command": command or shlex.join(sys.argv),
        "git_sha": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "version/python": platform.python_version(),
    }
    for package in PACKAGES:
        try:
            env[f"version/{package}"] = version(package)
        except PackageNotFoundError:
            env[f"version/{package}"] = None
    return env
