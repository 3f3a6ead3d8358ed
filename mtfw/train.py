"""``mtfw train`` / ``python -m mtfw.train`` (``torchrun ... -m mtfw.train``: one run over many
processes, ``mtfw/torchrun.py``): compose a config with Hydra and run it.

A run writes into its own directory (DESIGN §8): ``.hydra/`` (by Hydra), ``train.log``,
``metrics.jsonl``, ``preprocess.json``, ``checkpoint.pt`` (resumable), ``best.pt`` (the selected
network) or ``baseline.pt`` (a fitted classical recommender) and ``summary.json``.
``resume=<run_dir>`` continues an interrupted run in its directory.

Every run follows one lifecycle: check -> build -> fit -> select -> test once -> summary, with its
status and error written in one place (:func:`recorded`).
"""

from __future__ import annotations

import logging
import resource
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

import hydra
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from mtfw import distributed, torchrun
from mtfw.cross_validation import expand_cv
from mtfw.errors import CheckpointError, ConfigError, MtfwError, exit_on_error
from mtfw.experiment import build_experiment, check_config
from mtfw.preflight import CONF_DIR, preflight, refuse_used
from mtfw.record import RunRecord, environment
from mtfw.run_files import discard_unused, read_config, read_summary
from mtfw.run_guard import Terminated, claimed, sigterm_as_interrupt
from mtfw.run_logging import run_logging
from mtfw.run_status import recorded
from mtfw.torch_settings import torch_settings
from mtfw.tracking import warn_if_dirty
from mtfw.trainer.checkpoint import check_resumable
from mtfw.trainer.config import TrainerConfig
from mtfw.trainer.evaluate import eval_mode
from mtfw.trainer.table import UNDEFINED, check_measured, format_results, undefined_metrics
from mtfw.user_config import run_record

log = logging.getLogger("mtfw")
RSS_UNIT = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux


def run(
    cfg: DictConfig,
    run_dir: Path,
    resume: bool = False,
    on_eval: Callable[[int, dict, bool], None] | None = None,
) -> dict:
    """Train, select on validation, test once, and write the run record. Returns the summary.

    ``on_eval(epoch, metrics, last)`` is called after every validation pass (see ``fit``). The run
    claims ``run_dir`` first (a second process is refused, not mixed into its record) and stops
    on SIGTERM as on Ctrl-C (status "interrupted", resumable)."""
    with claimed(run_dir), sigterm_as_interrupt():
        try:
            return _run(cfg, run_dir, resume, on_eval)
        except Terminated:
            log.warning("stopped by SIGTERM; `mtfw train resume=%s` continues the run", run_dir)
            raise


def _run(cfg: DictConfig, run_dir: Path, resume: bool, on_eval: Callable | None) -> dict:
    trainer, _, _ = check_config(cfg)  # fail on a bad config before loading any data
    torchrun.start(cfg, trainer)  # under torchrun: join the process group (else nothing)
    record = torchrun.record(cfg, run_dir)  # the local record; mirrored to wandb if logger=wandb
    if not resume and (record.metrics_path.exists() or record.summary_path.exists()):
        raise ConfigError(f"{run_dir} already holds a run; nothing was overwritten")
    with torch_settings(trainer, cfg.seed) as threads:
        return fit_and_record(cfg, trainer, record, run_dir, resume, on_eval, threads)


def fit_and_record(
    cfg: DictConfig, trainer: TrainerConfig, record: RunRecord, run_dir: Path, resume: bool,
    on_eval: Callable[[int, dict, bool], None] | None, threads: int,
) -> dict:  # fmt: skip
    """The lifecycle after the checks: build, fit, select, test once, write the summary."""
    exp = build_experiment(cfg)
    distributed.broadcast_module(exp.model)  # under torchrun: every rank starts from rank 0's
    exp.data.preprocessor.save(run_dir / "preprocess.json")
    n_params = sum(p.numel() for p in exp.model.parameters())
    log.info("run dir %s, %d parameters, device %s", run_dir, n_params, exp.device)
    recorded_as = run_record.read(run_dir)  # the command and config folders, from the start
    summary = {"status": "running", "seed": cfg.seed, "n_parameters": n_params,
               "monitor": trainer.monitor, "num_threads": threads, **exp.data.info,
               **environment(recorded_as.get("command")),
               "config_dirs": recorded_as.get("config_dirs", [])}  # fmt: skip
    if cfg.get("baseline") is not None:
        summary["baseline"] = cfg.baseline.name
    warn_if_dirty(summary)  # a warning, not an error: git_sha alone no longer describes the code
    with recorded(record, summary):
        state = exp.fitter.fit(exp, record, resume, on_eval)
        summary["num_threads"] = torch.get_num_threads()  # a resumed run: the count it began with
        torchrun.restore(exp, run_dir)  # the model selected on validation
        # Counted again: a baseline builds its networks in fit (the count above was 0).
        summary["n_parameters"] = sum(p.numel() for p in exp.model.parameters())
        with eval_mode(exp.model):
            val = exp.data.splits["val"]
            summary.update(exp.model.gate_utilisation(val, trainer.eval_batch_size))
        for split in ("val", "test"):  # test: once, on the model selected on validation
            summary.update(exp.evaluate(split))
        check_measured(summary)  # all null: not "completed"
    summary.update(
        status="completed",
        best_epoch=state["best_epoch"],
        epochs_trained=state["epoch"],
        monitor_value=state["best"],
        train_seconds=state["train_seconds"],
        samples_per_second=state["train_samples"] / max(state["train_seconds"], 1e-9),
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RSS_UNIT,
    )
    if exp.weighting is not None:  # mean weight per task over all training steps
        steps = max(state.get("weight_steps", 0), 1)
        weights = zip(exp.weighting.task_names, state.get("weight_sum", []), strict=False)
        summary.update({f"weight/{task}": total / steps for task, total in weights})
        # 16-mixed: the steps an fp16 overflow skipped (no update; the loss scale backed off)
        summary.update(precision=trainer.precision, skipped_steps=state.get("skipped_steps", 0))
    record.write_summary(summary)
    undefined = undefined_metrics(summary)
    if undefined:  # a constant label, an empty mask: say so, not a silent null
        log.warning("%d metrics are %s: %s", len(undefined), UNDEFINED, ", ".join(undefined))
    if distributed.is_main():
        print(format_results(summary, list(exp.tasks), run_dir))
    return summary


def resume_run(run_dir: Path, extra: list[str]) -> dict:
    if extra:
        raise ConfigError(f"resume=<run_dir> continues the saved config; drop {' '.join(extra)}")
    cfg = read_config(run_dir)
    if (read_summary(run_dir) or {}).get("status") == "completed":
        raise CheckpointError(f"{run_dir} finished already; there is nothing to resume")
    check_resumable(run_dir, cfg)  # a damaged checkpoint is refused before anything is written
    own = torchrun.own_dir(run_dir)  # torchrun's other ranks read run_dir, write elsewhere
    with claimed(own), run_logging(own):  # after the claim: a live run's log is not ours
        return run(cfg, own, resume=True)


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def hydra_main(cfg: DictConfig) -> None:
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    sweep_dir = Path(hydra_cfg.sweep.dir) if hydra_cfg.mode == RunMode.MULTIRUN else None
    with exit_on_error():  # inside Hydra, which would print a traceback instead of the message
        try:
            run_record.record_hydra_run(run_dir, sys.argv[1:])  # .mtfw/: command, user files
            run(cfg, run_dir)
        except MtfwError:  # refused before it started (config, data files): leave nothing
            discard_unused(run_dir, sweep_dir)
            raise


def main(argv: list[str] | None = None) -> None:
    """Entry point: pre-flight checks, then Hydra (or a resume, which bypasses composition).
    mtfw's errors propagate to the CLI, which prints them once."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if any(a.startswith("sweep=") for a in argv):
        raise ConfigError("sweep=<name> is an Optuna study: run `mtfw sweep sweep=<name> ...`")
    resume = [a for a in argv if a.startswith("resume=")]
    if resume:
        others = [a for a in argv if a not in resume]
        resume_run(Path(resume[0].split("=", 1)[1]), others)
        return
    argv = torchrun.rank_argv(expand_cv(argv))  # cv=K: every fold, one multirun
    run_dir = preflight(argv)  # the resolved hydra.run.dir of a single run, when it is stable
    sys.argv = [sys.argv[0], *argv]
    with claimed(run_dir) if run_dir is not None else nullcontext():  # before Hydra writes there
        if run_dir is not None:
            refuse_used(run_dir)  # filled between the pre-flight check and the claim
        hydra_main()


if __name__ == "__main__":
    from mtfw.cli import main as cli_main

    cli_main(["train", *sys.argv[1:]])
