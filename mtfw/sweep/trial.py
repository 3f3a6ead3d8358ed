"""One trial: sample, compose with Hydra, train with ``mtfw.train.run`` in its own run directory.

The run directory is a normal one (DESIGN §8), with ``.hydra/`` written here as ``mtfw train``
would; ``mtfw train resume=<it>`` continues an interrupted trial by hand. The validation objective
goes to the trial after every epoch, so the pruner can stop a bad trial inside its training.
"""

from __future__ import annotations

import io
import logging
import math
import time
import traceback
from contextlib import redirect_stdout
from pathlib import Path

import optuna
from omegaconf import OmegaConf

from mtfw.errors import MtfwError, RunStopped
from mtfw.record import RunRecord
from mtfw.sweep.compose import Composed
from mtfw.sweep.plan import SweepPlan
from mtfw.sweep.processes import ClaimLock, worker_tag
from mtfw.sweep.search import SearchSpace
from mtfw.sweep.storage import requeue
from mtfw.sweep.torchrun_trial import command, launch
from mtfw.sweep.values import format_value
from mtfw.train import run
from mtfw.user_config import run_record
from mtfw.user_config.folders import UserFolders
from mtfw.user_config.run_record import command_line
from mtfw.user_config.sources import announce, files_read

log = logging.getLogger("mtfw.sweep")
trial_log = logging.getLogger("mtfw.trial")  # the trial's own train.log only, not the console


class SweepPruned(RunStopped, optuna.TrialPruned):
    """The pruner stopped the trial: Optuna records it pruned, run() writes status "pruned"."""

    status = "pruned"


class ObjectiveMissing(MtfwError):
    """An objective is absent, NaN or infinite in a finished run's summary."""


def write_hydra_dir(run_dir: Path, composed: Composed) -> None:
    hydra_dir = run_dir / ".hydra"
    hydra_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(composed.cfg, hydra_dir / "config.yaml")
    OmegaConf.save(OmegaConf.create(composed.overrides), hydra_dir / "overrides.yaml")
    composed.hydra.runtime.output_dir = str(run_dir.resolve())
    composed.hydra.overrides.task = composed.overrides
    OmegaConf.save(OmegaConf.create({"hydra": composed.hydra}), hydra_dir / "hydra.yaml")


def record_trial(run_dir: Path, composed: Composed, folders: UserFolders) -> None:
    """``.mtfw/``: the ``mtfw train`` command that re-runs the trial, the user files it read."""
    files = files_read(composed.overrides)
    announce(files)
    run_record.write(run_dir, command_line("train", composed.overrides, folders), folders, files)


def ensure_summary(run_dir: Path, status: str, error: str) -> None:
    """A trial stopped before its run wrote a summary (while composing or loading) gets one."""
    if not (run_dir / "summary.json").exists():
        RunRecord(run_dir).write_summary({"status": status, "error": error})


def describe(values: dict) -> str:
    def text(v):
        return f"{v:.4g}" if isinstance(v, float) else format_value(v)

    return " ".join(f"{k}={text(v)}" for k, v in values.items())


class TrialRunner:
    """The objective function of every trial a worker runs."""

    def __init__(self, plan: SweepPlan, space: SearchSpace):
        self.plan, self.space = plan, space

    def claimed(self, lock: ClaimLock):
        """The objective, releasing the claim lock once Optuna has created the trial."""

        def objective(trial: optuna.Trial):
            lock.release()
            return self(trial)

        return objective

    def _reporter(self, trial: optuna.Trial):
        """Reports each epoch's objective; prunes before the last epoch only: a trial that has
        trained ``max_epochs``, or that early stopping ends, trains nothing more, so stopping it
        would save nothing and lose its test metrics (a pruner's warm-up equal to ``max_epochs``
        would prune it there)."""
        if not self.plan.sweep.prunable:
            return None
        key = self.plan.sweep.objectives[0].key

        def on_eval(epoch: int, row: dict, last: bool) -> None:
            value = row.get(key)
            if value is None or not math.isfinite(value):
                return
            trial.report(value, epoch)
            if not last and trial.should_prune():
                raise SweepPruned(f"pruned after epoch {epoch} ({key}={value:.5g})")

        return on_eval

    def _in_process(self, trial: optuna.Trial, composed: Composed, run_dir: Path) -> dict:
        """The trial's run in this worker process; its summary."""
        write_hydra_dir(run_dir, composed)
        record_trial(run_dir, composed, self.plan.sweep.request.folders)
        trial_log.info("trial %d: %s", trial.number, " ".join(composed.overrides))
        printed, run_start = io.StringIO(), time.perf_counter()
        try:
            with redirect_stdout(printed):
                return run(composed.cfg, run_dir, on_eval=self._reporter(trial))
        finally:  # the run's own time: what `mtfw train` would spend on it after start-up
            trial.set_user_attr("run_seconds", time.perf_counter() - run_start)
            trial_log.info("%s", printed.getvalue().rstrip())

    def _under_torchrun(self, trial: optuna.Trial, composed: Composed, run_dir: Path,
                        handler: logging.Handler) -> dict:  # fmt: skip
        """The trial's run as one torchrun (``mtfw/sweep/torchrun_trial.py``) into an empty
        ``run_dir``: it writes ``.hydra/``, ``.mtfw/`` and ``train.log`` itself; then ``handler``
        (of ``train.log``) joins the root logger and the launch's console output is appended.
        Its summary."""
        nproc, folders = self.plan.sweep.spec.nproc_per_node, self.plan.sweep.request.folders
        output = run_dir.with_name(f".{run_dir.name}.torchrun.log")
        log.info("trial %d: torchrun --nproc-per-node=%d", trial.number, nproc)
        run_start = time.perf_counter()
        try:
            return launch(composed, run_dir, nproc, folders, self._reporter(trial), output)
        finally:
            trial.set_user_attr("run_seconds", time.perf_counter() - run_start)
            run_dir.mkdir(parents=True, exist_ok=True)  # a refused run leaves none
            logging.getLogger().addHandler(handler)
            launched = " ".join(command(composed, run_dir, nproc, folders))
            trial_log.info("trial %d under torchrun: %s", trial.number, launched)
            if output.exists():
                trial_log.info("%s", output.read_text().rstrip())
                output.unlink()

    def __call__(self, trial: optuna.Trial) -> list[float]:
        run_dir = self.plan.run_dir(trial.number)
        run_dir.mkdir(parents=True, exist_ok=True)
        trial.set_user_attr("worker", worker_tag())
        trial.set_user_attr("run_dir", str(run_dir.relative_to(self.plan.sweep_dir)))
        handler = logging.FileHandler(run_dir / "train.log", delay=True)  # opened at a write
        handler.setFormatter(logging.Formatter("[%(asctime)s][%(name)s] %(message)s"))
        under_torchrun = self.plan.sweep.spec.trial_launcher == "torchrun"
        if not under_torchrun:  # a torchrun trial's run makes its train.log: the handler after
            logging.getLogger().addHandler(handler)
        values: dict = {}
        start = time.perf_counter()
        try:
            composed, values = self.space.sample(trial, self.plan.sweep.request.overrides)
            trial.set_user_attr("overrides", composed.overrides)
            if under_torchrun:
                summary = self._under_torchrun(trial, composed, run_dir, handler)
            else:
                summary = self._in_process(trial, composed, run_dir)
            result = []
            for objective in self.plan.sweep.objectives:
                value = summary.get(objective.key)
                if not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise ObjectiveMissing(f"objective {objective.key} is {value!r}")
                result.append(float(value))
            shown = " ".join(
                f"{o.key}={v:.5g}" for o, v in zip(self.plan.sweep.objectives, result, strict=True)
            )
            log.info("trial %d done in %.1fs: %s | %s", trial.number,
                     time.perf_counter() - start, shown, describe(values))  # fmt: skip
            return result
        except optuna.TrialPruned as err:
            log.info("trial %d %s | %s", trial.number, err, describe(values))
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", "stopped by a signal (Ctrl-C or a kill)")
            requeue(trial.study, trial)
            ensure_summary(run_dir, "interrupted", "KeyboardInterrupt: stopped by a signal")
            raise
        except Exception as err:
            logging.getLogger().addHandler(handler)  # once: a torchrun trial refused early
            message = f"{type(err).__name__}: {err}"[:2000]
            trial.set_user_attr("error", message)
            trial_log.info("trial %d failed:\n%s", trial.number, traceback.format_exc())
            ensure_summary(run_dir, "failed", message)
            log.warning("trial %d failed: %s | %s", trial.number, message.splitlines()[0],
                        describe(values))  # fmt: skip
            raise
        finally:
            logging.getLogger().removeHandler(handler)
            handler.close()
