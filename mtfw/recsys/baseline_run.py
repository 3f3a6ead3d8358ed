"""``mtfw train baseline=<name>``: fit a classical recommender on the same split and score it with
the same evaluation as the neural models (``experiment=ml100k_popularity`` and friends)."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from omegaconf import DictConfig

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.experiment import check_config
from mtfw.record import RunRecord, environment
from mtfw.recsys.evaluate import evaluate_scores
from mtfw.recsys.experiment import prepare_data
from mtfw.recsys.tasks import RankingTask
from mtfw.tracking import warn_if_dirty


def run_baseline(cfg: DictConfig, run_dir: Path, record: RunRecord) -> dict:
    trainer, tasks, higher = check_config(cfg)
    dataset = registry.build("data", cfg.data, where="data")
    if not getattr(dataset, "interactions", False):
        raise ConfigError(
            f"baseline={cfg.baseline.name} recommends items: it needs interaction "
            f"data (data=movielens100k), not data={cfg.data.name}"
        )
    others = [n for n, t in tasks.items() if not isinstance(t, RankingTask)]
    if others:
        raise ConfigError(
            f"baseline={cfg.baseline.name} produces rankings only; drop task(s) "
            f"{', '.join(others)} (use 'task=[ranking]')"
        )
    data = prepare_data(dataset, tasks)
    data.preprocessor.save(run_dir / "preprocess.json")
    baseline = registry.build("baseline", cfg.baseline, where="baseline", seed=cfg.seed)
    batch = trainer.eval_batch_size
    history: list[dict] = []

    def validate(epoch: int, fitted) -> float:
        """Validation after each epoch of a trained baseline: recorded, and returned (larger is
        better) for its model selection."""
        row = {
            "epoch": epoch,
            **evaluate_scores(fitted.score, tasks, data.splits["val"], "val", batch),
        }
        record.log(row)
        history.append(row)
        return row[trainer.monitor] if higher else -row[trainer.monitor]

    summary = {
        "status": "running",
        "seed": cfg.seed,
        "baseline": cfg.baseline.name,
        "monitor": trainer.monitor,
        **data.info,
        **environment(),
    }
    warn_if_dirty(summary)
    start = time.perf_counter()
    try:
        baseline.fit(data, validate)
    except BaseException as err:  # failed or interrupted: say so in the record, then re-raise
        from mtfw.train import stopped_status

        record.write_summary({**summary, "status": stopped_status(err),
                              "error": f"{type(err).__name__}: {err}"})  # fmt: skip
        raise
    seconds = time.perf_counter() - start
    if not history:  # nothing trained per epoch: one validation row for the record
        validate(1, baseline)
    torch.save(baseline.state(), run_dir / "baseline.pt")
    best = max(history, key=lambda r: r[trainer.monitor] if higher else -r[trainer.monitor])
    for split in ("val", "test"):  # test: once, on the selected model
        summary.update(evaluate_scores(baseline.score, tasks, data.splits[split], split, batch))
    summary.update(
        status="completed",
        best_epoch=best["epoch"],
        epochs_trained=len(history),
        monitor_value=summary[trainer.monitor],
        train_seconds=seconds,
        samples_per_second=len(data.splits["train"]) * len(history) / max(seconds, 1e-9),
    )
    record.write_summary(summary)
    return summary
