"""The training loop: one screen, top to bottom.

Each epoch walks a seeded permutation of the train split in index-sliced batches, computes every
task's loss, lets the weighting method back-propagate them in one call, and steps the optimizer.
After each epoch it evaluates on validation, keeps the best model by the monitored validation key,
and writes a checkpoint that ``resume`` continues from exactly.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from mtfw.errors import TrainingDiverged
from mtfw.experiment import Experiment, fingerprint
from mtfw.record import RunRecord
from mtfw.trainer import checkpoint
from mtfw.trainer.evaluate import batch_losses, gradient_conflict

log = logging.getLogger("mtfw")


def fit(
    exp: Experiment,
    record: RunRecord,
    resume: bool = False,
    on_eval: Callable[[int, dict], None] | None = None,
) -> dict:
    """Train until ``max_epochs`` or early stopping; return the final training state.

    ``on_eval(epoch, row)`` is called after each validation (e.g. a sweep reporting to its pruner;
    it may raise to stop the run)."""
    cfg, model, opt = exp.trainer, exp.model, exp.optimizer
    tasks = {n: t for n, t in exp.tasks.items() if t.train}  # the others are only evaluated
    train = exp.data.splits["train"]
    shared = list(model.shared_parameters())
    names = list(tasks)
    config_hash = fingerprint(exp.cfg)  # ties checkpoints to this config
    ckpt_path, best_path = record.dir / "checkpoint.pt", record.dir / "best.pt"
    state = {"epoch": 0, "step": 0, "best": None, "best_epoch": -1, "bad_epochs": 0,
             "train_seconds": 0.0, "train_samples": 0}  # fmt: skip
    if resume:
        saved = checkpoint.load(ckpt_path, config_hash)
        model.load_state_dict(saved["model"])
        exp.weighting.load_state_dict(saved["weighting"])
        opt.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])  # dropout continues as if never interrupted
        state = saved["state"]
        record.truncate_after(state["epoch"])
        log.info("resumed from %s at epoch %d", ckpt_path, state["epoch"])
    show_bar = cfg.progress == "always" or (cfg.progress == "auto" and sys.stdout.isatty())

    for epoch in range(state["epoch"], cfg.max_epochs):
        model.train()
        # The shuffle depends on (seed, epoch) only, so a resumed run sees the same batches.
        order = torch.Generator().manual_seed(exp.cfg.seed * 100_003 + epoch)
        step_losses, step_weights, n_steps = [], [], 0  # per step, written after the epoch
        samples_before = state["train_samples"]
        n_batches = -(-len(train) // cfg.batch_size)
        total = min(n_batches, cfg.max_steps_per_epoch or n_batches)
        bar = tqdm(
            total=min(len(train), total * cfg.batch_size), desc=f"epoch {epoch + 1}",
            unit="sample", unit_scale=True, disable=not show_bar, file=sys.stdout,
        )  # fmt: skip
        start = time.perf_counter()
        for batch in train.batches(cfg.batch_size, order):
            if n_steps == total:
                break
            losses = batch_losses(model, tasks, batch)
            if not torch.isfinite(losses).all():
                bad = [
                    n for n, v in zip(names, losses.tolist(), strict=True) if not math.isfinite(v)
                ]
                kept = (
                    f"{ckpt_path.name} of epoch {state['epoch']}" if state["epoch"] else "none yet"
                )
                raise TrainingDiverged(
                    f"loss of task(s) {', '.join(bad)} is {losses.tolist()} in epoch {epoch + 1}, "
                    f"step {state['step']}. Kept: the last good checkpoint ({kept}) and the "
                    "metrics so far. Lower optim.lr or set trainer.grad_clip"
                )
            opt.zero_grad(set_to_none=True)
            # Fills .grad of every parameter; returns the [T] weights it used.
            weights = exp.weighting.backward(
                losses, shared, representation=model.shared_representation()
            )
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step_losses.append(losses.detach())
            step_weights.append(weights)
            n_steps += 1
            state["step"] += 1
            state["train_samples"] += len(batch)
            if show_bar:
                bar.update(len(batch))
                if n_steps % 20 == 0:
                    bar.set_postfix(loss=f"{torch.stack(step_losses[-20:]).sum(1).mean():.4f}")
        bar.close()
        seconds = time.perf_counter() - start
        state["train_seconds"] += seconds

        # One row per step (the weights the method used), then the epoch's evaluation row.
        step_loss = torch.stack(step_losses).cpu() if n_steps else torch.zeros(0, len(names))
        step_weight = torch.stack(step_weights).cpu() if n_steps else torch.zeros(0, len(names))
        record.log_steps(epoch + 1, state["step"] - n_steps, names, step_loss, step_weight)
        loss_sum, weight_sum = step_loss.sum(0), step_weight.sum(0)
        run_weights = torch.tensor(state.get("weight_sum", [0.0] * len(names))) + weight_sum
        state["weight_sum"] = run_weights.tolist()  # the run's mean weights go to summary.json
        state["weight_steps"] = state.get("weight_steps", 0) + n_steps

        # Evaluate on validation only; test is touched once, on the selected model, at the end.
        row = {"epoch": epoch + 1, "step": state["step"]}
        for i, n in enumerate(names):
            row[f"train/{n}/loss"] = loss_sum[i].item() / max(n_steps, 1)
            row[f"weight/{n}"] = weight_sum[i].item() / max(n_steps, 1)
        row.update(exp.evaluate("val"))
        row.update(gradient_conflict(model, tasks, train, cfg.batch_size))
        row["epoch_seconds"] = seconds
        record.log(row)
        value = row[cfg.monitor]
        improved = state["best"] is None or (
            value > state["best"] + cfg.min_delta if exp.higher_is_better
            else value < state["best"] - cfg.min_delta
        )  # fmt: skip
        if improved:
            state.update(best=value, best_epoch=epoch + 1, bad_epochs=0)
            torch.save({"model": model.state_dict()}, best_path)
        else:
            state["bad_epochs"] += 1
        log.info(
            "epoch %d  train loss %.4f  %s %.5f%s  (%.0f samples/s)",
            epoch + 1, loss_sum.sum().item() / max(n_steps, 1), cfg.monitor, value,
            " *" if improved else "",
            (state["train_samples"] - samples_before) / max(seconds, 1e-9),
        )  # fmt: skip
        state["epoch"] = epoch + 1
        checkpoint.save(
            ckpt_path, model=model.state_dict(), weighting=exp.weighting.state_dict(),
            optimizer=opt.state_dict(), rng=torch.get_rng_state(), state=state,
            fingerprint=config_hash,
        )  # fmt: skip
        if on_eval is not None:
            on_eval(epoch + 1, row)
        if cfg.patience is not None and state["bad_epochs"] >= cfg.patience:
            log.info("early stop: no improvement of %s for %d epochs", cfg.monitor, cfg.patience)
            break
    return state


def load_best(exp: Experiment, run_dir: Path) -> None:
    """Load the selected model's weights (best validation epoch) for the final evaluation."""
    best = torch.load(run_dir / "best.pt", map_location=exp.device, weights_only=True)
    exp.model.load_state_dict(best["model"])
