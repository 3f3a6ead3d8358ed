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
from mtfw.trainer import checkpoint
from mtfw.trainer.divergence import check_diverged, divergence_limit
from mtfw.trainer.evaluate import batch_losses, gradient_conflict, gradient_cosines, label_counts
from mtfw.trainer.experiment import Experiment, OnEval

log = logging.getLogger("mtfw")


def train_epoch(exp: Experiment, epoch: int, state: dict, bar: tqdm) -> dict:
    """One epoch of gradient steps; returns the per-step losses and weights ``[steps, T]`` and,
    every ``grad_cos_every`` steps, the gradient cosines on that step's batch before its update
    (``{index in the epoch: {grad_cos/<a>~<b>: value}}``)."""
    cfg, model, opt = exp.trainer, exp.model, exp.optimizer
    tasks = {n: t for n, t in exp.tasks.items() if t.train}  # the others are only evaluated
    train, shared = exp.data.splits["train"], list(model.shared_parameters())
    trained = [*model.parameters(), *exp.weighting.parameters()]
    # The shuffle (and any negatives) depend on (seed, epoch) only: a resumed run sees the same.
    order = torch.Generator().manual_seed(exp.cfg.seed * 100_003 + epoch)
    total = min(-(-len(train) // cfg.batch_size), cfg.max_steps_per_epoch or len(train))
    losses_seen, weights_used, limit, cosines = [], [], None, {}
    for batch in train.batches(cfg.batch_size, order):
        if len(losses_seen) == total:
            break
        if cfg.grad_cos_every and (state["step"] + 1) % cfg.grad_cos_every == 0:
            cosines[len(losses_seen)] = gradient_cosines(model, tasks, batch)
        share, rows = rank_share(batch)  # under torchrun: this rank's rows of the global batch
        losses = batch_losses(model, tasks, share)
        if distributed.active():  # the global batch's losses: counts cost a step otherwise
            losses = distributed.global_losses(losses, label_counts(tasks, share) * (rows > 0))
        if limit is None:  # once per epoch, not per step: the first losses never change
            limit = divergence_limit(state, list(tasks), losses)
        check_diverged(losses, limit, list(tasks), epoch, state)  # NaN/inf, or 1e6 x the first
        opt.zero_grad(set_to_none=True)
        # Fills .grad of every parameter; returns the [T] weights it used.
        weights = exp.weighting.backward(
            losses, shared, representation=model.shared_representation()
        )
        distributed.average_gradients(trained, skip=exp.weighting.global_parameters)
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        losses_seen.append(losses.detach())
        weights_used.append(weights)
        state["step"] += 1
        state["train_samples"] += len(batch)
        bar.update(len(batch))
        if len(losses_seen) % 20 == 0 and not bar.disable:
            recent = torch.stack(losses_seen[-20:]) * torch.stack(weights_used[-20:])
            bar.set_postfix(loss=f"{recent.sum(1).mean():.4f}")  # the weighted objective
    empty = torch.zeros(0, len(tasks))
    return {
        "loss": torch.stack(losses_seen).cpu() if losses_seen else empty,
        "weight": torch.stack(weights_used).cpu() if weights_used else empty,
        "grad_cos": cosines,
    }


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
    if resume and not distributed.broadcast_object(ckpt_path.exists()):  # stopped in epoch 1
        log.info("no checkpoint yet in %s (the run stopped before its first one): training from "
                 "scratch in the same directory", record.dir)  # fmt: skip
        record.truncate_after(0)
    elif resume:
        saved = checkpoint.load_on_every_rank(ckpt_path, config_hash)
        model.load_state_dict(saved["model"])
        exp.weighting.load_state_dict(saved["weighting"])
        exp.optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])  # dropout continues as if never interrupted
        state = saved["state"]
        if cfg.num_threads is None and state.get("num_threads"):  # float sums depend on it
            torch.set_num_threads(state["num_threads"])  # the count the run began with
        record.truncate_after(state["epoch"])
        log.info("resumed from %s at epoch %d", ckpt_path, state["epoch"])
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
        samples_before, start = state["train_samples"], time.perf_counter()
        batches = min(-(-len(train) // cfg.batch_size), cfg.max_steps_per_epoch or len(train))
        with tqdm(total=min(len(train), batches * cfg.batch_size), desc=f"epoch {epoch + 1}",
                  unit="sample", unit_scale=True, disable=not show_bar,
                  file=sys.stdout) as bar:  # fmt: skip
            steps = train_epoch(exp, epoch, state, bar)
        seconds = time.perf_counter() - start
        state["train_seconds"] += seconds
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
        checkpoint.save(
            ckpt_path, model=model.state_dict(), weighting=exp.weighting.state_dict(),
            optimizer=exp.optimizer.state_dict(), rng=torch.get_rng_state(), state=state,
            fingerprint=config_hash,
        )  # fmt: skip
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
