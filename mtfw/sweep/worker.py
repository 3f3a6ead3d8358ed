"""A worker: claim a trial, run it, repeat until the study holds the requested number.

``sweep.n_jobs=N`` starts N of these as separate processes (spawned: a fresh interpreter each, no
forked torch state) on one study; with one job the sweep process itself is the worker.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time

import optuna
import torch

from mtfw.errors import exit_on_error
from mtfw.preflight import config_groups
from mtfw.sweep.compose import hydra_context
from mtfw.sweep.plan import CLAIM_LOCK, SweepPlan, stop_reason
from mtfw.sweep.processes import ClaimLock, raise_interrupt
from mtfw.sweep.samplers import build_pruner, build_sampler
from mtfw.sweep.search import SearchSpace
from mtfw.sweep.storage import open_storage
from mtfw.sweep.trial import TrialRunner
from mtfw.user_config.folders import searching

log = logging.getLogger("mtfw.sweep")


class _ConsoleFilter(logging.Filter):
    """The console shows the sweep's own lines and warnings, not every trial's epochs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "optuna" or record.name.startswith("optuna."):
            return "failed with" not in record.getMessage()  # the sweep reports failures itself
        return record.name == "mtfw.sweep" or record.levelno >= logging.WARNING


def setup_logging(prefix: str = "") -> logging.Handler:
    """Console logging for the sweep (returns the handler, to remove when the sweep ends)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"[%(asctime)s][sweep{prefix}] %(message)s", "%H:%M:%S"))
    handler.addFilter(_ConsoleFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return handler


def work(plan: SweepPlan, index: int) -> str:
    """Run trials until the study is done; returns why this worker stopped."""
    sweep, spec = plan.sweep, plan.sweep.spec
    storage = open_storage(spec.storage, plan.sweep_dir)
    space = SearchSpace.parse(spec.params, sweep.tasks, config_groups(), sweep.request.fixed_keys)
    sampler = build_sampler(spec.sampler, space, len(sweep.objectives), plan.seed_offset + index)
    study = optuna.load_study(
        study_name=spec.study,
        storage=storage,
        sampler=sampler,
        pruner=build_pruner(spec.pruner, sweep.prunable),
    )
    runner = TrialRunner(plan, space)
    lock = ClaimLock(plan.sweep_dir / CLAIM_LOCK)
    while True:
        lock.acquire()
        try:
            reason = stop_reason(study, plan, time.time())
            if reason is not None:
                return reason
            study.optimize(runner.claimed(lock), n_trials=1, catch=(Exception,),
                           gc_after_trial=False)  # fmt: skip
        finally:
            lock.release()


def worker_process(plan: SweepPlan, index: int) -> None:
    """Entry point of a spawned worker process."""
    setup_logging(f" w{index}")
    signal.signal(signal.SIGTERM, raise_interrupt)
    n_jobs = plan.sweep.spec.n_jobs
    if torch.get_num_threads() > 1 and n_jobs > 1:  # share the cores among the workers
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // n_jobs))
    try:  # an MtfwError (the database went away): say what, not a traceback
        folders = searching(plan.sweep.request.folders)  # a spawned process: set them again
        with exit_on_error(context=f"sweep worker {index}: "), folders, hydra_context():
            reason = work(plan, index)
    except KeyboardInterrupt:
        sys.exit(130)
    log.info("worker %d stops: %s", index, reason)
