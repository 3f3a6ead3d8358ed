"""The sweep driver: check everything, create the study once, run the workers, write the outputs."""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path

from optuna.storages import BaseStorage

from mtfw.errors import MtfwError
from mtfw.experiment import check_config
from mtfw.preflight import config_groups
from mtfw.sweep.command import SweepRequest, load_spec
from mtfw.sweep.compose import compose_config, hydra_context
from mtfw.sweep.location import resolve_dir, write_record
from mtfw.sweep.objectives import parse_objectives
from mtfw.sweep.outputs import write_outputs
from mtfw.sweep.plan import CLAIM_LOCK, Sweep, SweepPlan, counts
from mtfw.sweep.processes import raise_interrupt
from mtfw.sweep.samplers import build_pruner, build_sampler
from mtfw.sweep.search import SearchSpace
from mtfw.sweep.storage import (
    create_or_join,
    join_workers,
    open_storage,
    recover_interrupted,
    redact,
)
from mtfw.sweep.torchrun_trial import check_torchrun_trials
from mtfw.sweep.validate import check_enqueue, check_space
from mtfw.sweep.worker import work, worker_process
from mtfw.user_config.run_record import command_line

log = logging.getLogger("mtfw.sweep")


class WorkerFailed(MtfwError):
    """A worker process ended with an error of its own (not a trial's)."""


def run_workers(plan: SweepPlan) -> None:
    n_jobs = plan.sweep.spec.n_jobs
    if n_jobs == 1:
        log.info("worker stops: %s", work(plan, 0))
        return
    context = multiprocessing.get_context("spawn")  # no forked torch or Hydra state
    procs = [context.Process(target=worker_process, args=(plan, i)) for i in range(n_jobs)]
    for proc in procs:
        proc.start()
    try:
        for proc in procs:
            proc.join()
    except KeyboardInterrupt:
        for proc in procs:  # let each record its trial as interrupted, then make sure
            if proc.is_alive() and proc.pid:
                os.kill(proc.pid, signal.SIGINT)
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        raise
    failed = [f"{i} (exit code {p.exitcode})" for i, p in enumerate(procs) if p.exitcode]
    if failed:
        raise WorkerFailed(f"sweep worker(s) {', '.join(failed)} failed; see the messages above")


def check_sweep(request: SweepRequest) -> Sweep:
    """Every check that needs no study: config, search space, objectives, sampler, pruner."""
    spec = load_spec(request)
    groups = config_groups()
    base = compose_config(request.overrides)
    _, tasks, _ = check_config(base.cfg)
    space = SearchSpace.parse(spec.params, list(tasks), groups, request.fixed_keys)
    check_space(space, request.overrides, groups)
    check_torchrun_trials(spec, space, base)  # sweep.trial_launcher=torchrun: no baseline
    objectives = parse_objectives(spec.objectives, tasks, spec.allow_test_objective)
    sweep = Sweep(request, spec, list(tasks), objectives, check_enqueue(space, spec.enqueue))
    build_sampler(spec.sampler, space, len(objectives))
    build_pruner(spec.pruner, sweep.prunable)
    return sweep


def prepare(request: SweepRequest) -> SweepPlan:
    """Check the sweep, find or make its directory, create or join its study once."""
    sweep = check_sweep(request)
    spec = sweep.spec
    sweep_dir, resumed = resolve_dir(sweep)
    # a database is reached before anything is created; a journal lives in the sweep directory
    storage = open_storage(spec.storage, sweep_dir) if spec.storage or resumed else None
    command = command_line("sweep", request.argv, request.folders)
    write_record(sweep_dir, {"name": spec.name, "command": command,
                             "storage": redact(spec.storage), "study_name": spec.study,
                             "identity": sweep.identity})  # fmt: skip
    storage = storage or open_storage(spec.storage, sweep_dir)
    study, created = create_or_join(storage, spec.study, sweep.directions, sweep.identity,
                                    str(sweep_dir))  # fmt: skip
    for params in sweep.enqueue if created else []:
        study.enqueue_trial(params)
    recovered = recover_interrupted(study, storage)
    shared_db = spec.storage not in (None, "", "journal")
    seed_offset = join_workers(study, spec.n_jobs, sweep_dir / CLAIM_LOCK, shared_db)
    trials = study.get_trials(deepcopy=False)
    log.info("%s study '%s' (%s) in %s: %d of %d trials so far%s",
             "new" if created else "continuing", spec.study, redact(spec.storage), sweep_dir,
             sum(map(counts, trials)), spec.n_trials,
             f"; {len(recovered)} interrupted, queued again" if recovered else "")  # fmt: skip
    deadline = None if spec.timeout is None else time.time() + spec.timeout
    return SweepPlan(sweep, sweep_dir, deadline, seed_offset=seed_offset)


def run_sweep(request: SweepRequest) -> Path:
    """Run (or continue) the study a request names; returns the sweep directory."""
    started = time.perf_counter()
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, raise_interrupt) if main_thread else None
    try:  # SIGTERM (a kill) stops like Ctrl-C: the running trial is recorded as interrupted
        with hydra_context():
            plan = prepare(request)
            setup_seconds = time.perf_counter() - started
            log.info("sweep directory %s (re-run with sweep.dir=%s to continue it)",
                     plan.sweep_dir, plan.sweep_dir)  # fmt: skip
            try:
                run_workers(plan)
            except KeyboardInterrupt:
                with contextlib.suppress(Exception):  # best effort: what finished so far
                    write_outputs(plan, storage_of(plan), {"interrupted": True}, started)
                log.warning("interrupted; to continue: %s sweep.dir=%s",
                            command_line("sweep", request.argv, request.folders),
                            plan.sweep_dir)  # fmt: skip
                raise
            timing = {"setup_seconds": setup_seconds,
                      "trials_seconds": time.perf_counter() - started - setup_seconds}  # fmt: skip
            report = write_outputs(plan, storage_of(plan), timing, started)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
    print(report, file=sys.stdout)
    return plan.sweep_dir


def storage_of(plan: SweepPlan) -> BaseStorage:
    return open_storage(plan.sweep.spec.storage, plan.sweep_dir)
