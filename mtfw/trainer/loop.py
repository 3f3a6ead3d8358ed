"""The training loop: one screen per step, top to bottom.

``fit`` runs epochs until ``max_epochs`` or early stopping. ``train_epoch`` walks a seeded
permutation of the train split in batches, computes every task's loss, lets the weighting method
back-propagate them in one call and steps the optimizer. ``select`` evaluates on validation, keeps
the best model by the monitored validation key, and a checkpoint lets ``resume`` continue exactly.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from mtfw import distributed
from mtfw.data.batch import rank_share
from mtfw.errors import CheckpointError
from mtfw.record import RunRecord
from mtfw.run_control import fingerprint
from mtfw.trainer import checkpoint, step_checkpoint
from mtfw.trainer.divergence import check_diverged, divergence_limit
from mtfw.trainer.evaluate import batch_losses, gradient_conflict, gradient_cosines, label_counts
from mtfw.trainer.experiment import Experiment, OnEval
from mtfw.trainer.precision import Precision
from mtfw.trainer.step_checkpoint import EpochProgress, RunSteps, StepCheckpoints, remaining

log = logging.getLogger("mtfw")


def train_epoch(exp: Experiment, epoch: int, state: dict, bar: tqdm, run: RunSteps | None = None,
                position: dict | None = None) -> dict:  # fmt: skip
    """One epoch of gradient steps (from a checkpoint's data ``position`` in it, if given);
    returns the per-step losses and weights ``[steps, T]``, every ``grad_cos_every`` steps the
    gradient cosines on that step's batch before its update (``{index in the epoch: {...}}``) and
    the epoch's training ``seconds``. ``run``: the run's precision and step checkpoints."""
    cfg, model, opt = exp.trainer, exp.model, exp.optimizer
    run = run or RunSteps(Precision(cfg.precision, exp.device), StepCheckpoints(None))
    progress = EpochProgress.at(position, epoch, exp.device)
    tasks = {n: t for n, t in exp.tasks.items() if t.train}  # the others are only evaluated
    train, shared = exp.data.splits["train"], list(model.shared_parameters())
    trained = [*model.parameters(), *exp.weighting.parameters()]
    # The shuffle (and any negatives) depend on (seed, epoch) only: a resumed run sees the same.
    order = torch.Generator().manual_seed(exp.cfg.seed * 100_003 + epoch)
    total = min(-(-len(train) // cfg.batch_size), cfg.max_steps_per_epoch or len(train))
    limit, start = None, time.perf_counter()
    bar.update(min(len(train), progress.steps * cfg.batch_size))
    for batch in remaining(train.batches(cfg.batch_size, order), progress.steps):
        if progress.steps == total:
            break
        if cfg.grad_cos_every and (state["step"] + 1) % cfg.grad_cos_every == 0:
            progress.cosines[progress.steps] = gradient_cosines(model, tasks, batch)
        share, rows = rank_share(batch)  # under torchrun: this rank's rows of the global batch
        with run.precision.autocast():
            losses = batch_losses(model, tasks, share)
        if distributed.active():  # the global batch's losses: counts cost a step otherwise
            losses = distributed.global_losses(losses, label_counts(tasks, share) * (rows > 0))
        if limit is None:  # once per epoch, not per step: the first losses never change
            limit = divergence_limit(state, list(tasks), losses)
        check_diverged(losses, limit, list(tasks), epoch, state)  # NaN/inf, or 1e6 x the first
        opt.zero_grad(set_to_none=True)
        # Fills .grad of every parameter; returns the [T] weights it used.
        weights = run.precision.backward(
            exp.weighting, losses, shared, model.shared_representation()
        )
        distributed.average_gradients(trained, skip=exp.weighting.global_parameters)
        run.precision.step(opt, exp.weighting, model.parameters(), cfg.grad_clip)
        progress.losses.append(losses.detach())
        progress.weights.append(weights)
        state["step"] += 1
        state["train_samples"] += len(batch)
        bar.update(len(batch))
        if progress.steps % 20 == 0 and not bar.disable:
            recent = torch.stack(progress.losses[-20:]) * torch.stack(progress.weights[-20:])
            bar.set_postfix(loss=f"{recent.sum(1).mean():.4f}")  # the weighted objective
        run.checkpoints.after_step(exp, state, progress, time.perf_counter() - start,
                                   last=progress.steps == total)  # fmt: skip
    progress.seconds += time.perf_counter() - start
    return progress.rows()


def select(exp: Experiment, state: dict, row: dict, best_path: Path) -> bool:
    """Keep the model if the monitored validation value improved; True when it did."""
    cfg, value = exp.trainer, row[exp.trainer.monitor]
    improved = state["best"] is None or (
        value > state["best"] + cfg.min_delta if exp.higher_is_better
        else value < state["best"] - cfg.min_delta
    )  # fmt: skip
    if improved:
        state.update(best=value, best_epoch=row["epoch"], bad_epochs=0)
        torch.save({"model": exp.model.state_dict(), "format": checkpoint.FORMAT}, best_path)
    else:
        state["bad_epochs"] += 1
    return improved


def fit(
    exp: Experiment, record: RunRecord, resume: bool = False, on_eval: OnEval | None = None
) -> dict:
    """Train until ``max_epochs`` or early stopping; return the final training state.

    ``on_eval(epoch, row, last)`` is called after each validation (e.g. a sweep reporting to its
    pruner; it may raise to stop the run); ``last`` says no epoch follows (the budget is spent or
    early stopping ends the run), so a pruner there would save nothing and lose the test metrics."""
    cfg, model = exp.trainer, exp.model
    names = [n for n, t in exp.tasks.items() if t.train]
    config_hash = fingerprint(exp.cfg)  # ties checkpoints to this config
    ckpt_path, best_path = record.dir / "checkpoint.pt", record.dir / "best.pt"
    state = {"epoch": 0, "step": 0, "best": None, "best_epoch": -1, "bad_epochs": 0,
             "train_seconds": 0.0, "train_samples": 0, "weight_steps": 0,
             "weight_sum": [0.0] * len(names),
             "num_threads": torch.get_num_threads()}  # fmt: skip
    precision, position = Precision(cfg.precision, exp.device), None
    if resume:  # the checkpoint's state, loaded into the model, weighting, optimizer, RNGs
        state, position = step_checkpoint.resumed(exp, record, config_hash, precision, state)
    run = RunSteps(precision, StepCheckpoints(cfg.checkpoint_every_steps, ckpt_path, config_hash,
                                              precision.state_dict))  # fmt: skip
    show_bar = cfg.progress == "always" or (cfg.progress == "auto" and sys.stdout.isatty())
    train = exp.data.splits["train"]
    # The checkpoint carries an early stop ("stopped"; derived for a checkpoint without it):
    # a run resumed after its stop trains no further epoch, it goes on to select and test.
    stopped = state.get("stopped") or (cfg.patience is not None and state["epoch"] > 0
                                       and state["bad_epochs"] >= cfg.patience)  # fmt: skip
    if resume and stopped:
        log.info(
            "the checkpoint records an early stop after epoch %d: no more epochs", state["epoch"]
        )
    for epoch in range(cfg.max_epochs if stopped else state["epoch"], cfg.max_epochs):
        model.train()
        samples_before = state["train_samples"]
        batches = min(-(-len(train) // cfg.batch_size), cfg.max_steps_per_epoch or len(train))
        with tqdm(total=min(len(train), batches * cfg.batch_size), desc=f"epoch {epoch + 1}",
                  unit="sample", unit_scale=True, disable=not show_bar,
                  file=sys.stdout) as bar:  # fmt: skip
            steps = train_epoch(exp, epoch, state, bar, run, position)
        seconds = steps["seconds"]  # of the whole epoch, before a resume too
        state["train_seconds"] += seconds
        state["skipped_steps"] = precision.skipped_steps  # 16-mixed: overflows (summary.json)
        n_steps = len(steps["loss"])
        # One row per step (the weights the method used), then the epoch's evaluation row.
        record.log_steps(epoch + 1, state["step"] - n_steps, names, steps["loss"], steps["weight"],
                         steps["grad_cos"])  # fmt: skip
        loss_sum, weight_sum = steps["loss"].sum(0), steps["weight"].sum(0)
        weighted = (steps["loss"] * steps["weight"]).sum().item() / max(n_steps, 1)  # optimised
        state["weight_sum"] = (torch.tensor(state["weight_sum"]) + weight_sum).tolist()
        state["weight_steps"] += n_steps  # the run's mean weights go to summary.json
        row = {"epoch": epoch + 1, "step": state["step"], "train/weighted/loss": weighted}
        for i, n in enumerate(names):
            row[f"train/{n}/loss"] = loss_sum[i].item() / max(n_steps, 1)
            row[f"weight/{n}"] = weight_sum[i].item() / max(n_steps, 1)
        # Evaluate on validation only; test is touched once, on the selected model, at the end.
        row.update(exp.evaluate("val"))
        trained = {n: exp.tasks[n] for n in names}
        row.update(gradient_conflict(model, trained, train, cfg.batch_size))
        row["epoch_seconds"] = seconds
        record.log(row)
        improved = select(exp, state, row, best_path)
        speed = (state["train_samples"] - samples_before) / max(seconds, 1e-9)
        log.info(
            "epoch %d  train loss %.4f  %s %.5f%s  (%.0f samples/s)",
            epoch + 1, weighted, cfg.monitor, row[cfg.monitor],
            " *" if improved else "", speed,
        )  # fmt: skip
        state["epoch"] = epoch + 1
        state["stopped"] = cfg.patience is not None and state["bad_epochs"] >= cfg.patience
        saved = step_checkpoint.capture(exp, state, precision.state_dict())
        checkpoint.save(ckpt_path, **saved, position=None, fingerprint=config_hash)
        if on_eval is not None:
            on_eval(epoch + 1, row, state["stopped"] or epoch + 1 == cfg.max_epochs)
        if state["stopped"]:
            log.info("early stop: no improvement of %s for %d epochs", cfg.monitor, cfg.patience)
            break
    return state


class GradientFitter:
    """Fits a network with the gradient loop; restores the epoch selected on validation."""

    def fit(self, exp: Experiment, record: RunRecord, resume: bool, on_eval: OnEval | None) -> dict:
        return fit(exp, record, resume, on_eval)

    def restore(self, exp: Experiment, run_dir: Path) -> None:
        best = checkpoint.load_model(run_dir / "best.pt", exp.device)
        try:
            exp.model.load_state_dict(best)
        except (KeyError, RuntimeError) as err:
            raise CheckpointError(
                f"{run_dir}/best.pt does not fit this run's model: {err}"
            ) from err
