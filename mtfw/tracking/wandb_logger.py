"""Mirror a run record to Weights & Biases: config, step and epoch rows, summary.

The wandb run starts with the first row the run records (so a run refused before training leaves no
wandb run) and finishes with the final summary, whatever its status. wandb is only a mirror: any
error it raises is logged once and logging to it stops; the local record is never affected.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from mtfw.tracking.settings import WandbSettings, resolve_mode

log = logging.getLogger("mtfw")
FINAL = ("completed", "diverged", "failed", "interrupted", "pruned")
SWEEP_RECORD = "sweep.yaml"  # marks an `mtfw sweep` directory (trials/<number>/ below it)


def shared_group(run_dir: Path) -> str | None:
    """The group runs of one Hydra multirun or one `mtfw sweep` share: that directory, named by
    its last two parts (``2026-11-29/21-50-31.609`` for the default layout)."""
    parent: Path | None = None
    trials = run_dir.resolve().parent
    if trials.name == "trials" and (trials.parent / SWEEP_RECORD).is_file():
        parent = trials.parent
    elif HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN:
        parent = Path(HydraConfig.get().sweep.dir).resolve()
    return f"{parent.parent.name}/{parent.name}" if parent else None


def composed_config(cfg: DictConfig) -> dict:
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except Exception:  # an interpolation that only Hydra's runtime can resolve: keep it as text
        return OmegaConf.to_container(cfg, resolve=False)


def as_wandb_row(row: dict) -> dict:
    """Step rows go under ``step/`` (``step/train/<task>/loss``, ``step/weight/<task>``) so that
    they do not collide with the epoch means of the same names in the evaluation rows."""
    skip = ("kind", "step")
    if row.get("kind") == "step":
        return {"epoch": row.get("epoch")} | {
            f"step/{k}": v for k, v in row.items() if k not in (*skip, "epoch")
        }
    return {k: v for k, v in row.items() if k not in skip}


class WandbLogger:
    """One wandb run per mtfw run; ``dir`` is the run directory, so its files live beside the
    record (``<run_dir>/wandb/offline-run-*/`` when offline)."""

    def __init__(self, settings: WandbSettings, cfg: DictConfig, run_dir: Path):
        self.settings, self.cfg, self.run_dir = settings, cfg, Path(run_dir)
        self.mode, note = resolve_mode(settings.mode)
        if note:
            log.warning(note)
        self.run = None
        self.broken = False

    def _init(self, mode: str):
        import wandb  # imported only by runs that log to wandb

        s = self.settings
        return wandb.init(
            project=s.project, entity=s.entity, group=s.group or shared_group(self.run_dir),
            tags=s.tags or None, mode=mode, dir=self.run_dir, job_type="train",
            name=s.run_name or self.run_dir.resolve().name, config=composed_config(self.cfg),
            reinit="create_new",  # runs of a multirun or sweep share one process
            settings=wandb.Settings(
                init_timeout=s.init_timeout, silent=True, console="off", x_disable_stats=True,
                disable_git=True, save_code=False,
            ),
        )  # fmt: skip

    def _started(self):
        if self.run is None and not self.broken:
            try:
                self.run = self._init(self.mode)
            except Exception as err:
                if self.mode != "online":
                    return self._give_up(err)
                log.warning("wandb: could not reach the server (%s); logging offline instead", err)
                try:
                    self.run = self._init("offline")
                except Exception as again:
                    return self._give_up(again)
        return self.run

    def _give_up(self, err: Exception) -> None:
        log.warning("wandb: %s: %s; the local record goes on without it", type(err).__name__, err)
        self.broken, self.run = True, None
        return None

    def log_rows(self, rows: list[dict]) -> None:
        run = self._started()
        if run is None:
            return
        try:
            for row in rows:
                run.log(as_wandb_row(row), step=row.get("step"))
        except Exception as err:
            self._give_up(err)

    def log_summary(self, summary: dict) -> None:
        """Write the summary into the wandb run's summary; a final status finishes the run."""
        run = self._started()
        if run is None:
            return
        try:
            run.summary.update({k: v for k, v in summary.items() if v is not None})
        except Exception as err:
            self._give_up(err)
        if summary.get("status") in FINAL:
            self.finish(exit_code=0 if summary["status"] == "completed" else 1)

    def finish(self, exit_code: int = 0) -> None:
        run, self.run = self.run, None
        if run is not None:
            try:
                run.finish(exit_code=exit_code)
            except Exception as err:
                log.warning("wandb: finishing the run failed: %s", err)
