"""How a classical recommender is fitted in the run lifecycle: its own ``fit`` replaces the
gradient loop; a trained one (BPR-MF, Mult-VAE, CFGAN) selects its epoch on validation through the
same evaluation, and every validation is a row of ``metrics.jsonl`` like a network's epochs (with
the training losses it passes). One that diverges leaves its last good state as ``baseline.pt``."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from mtfw.baselines.trained import BaselineDiverged
from mtfw.errors import CheckpointError
from mtfw.record import RunRecord
from mtfw.trainer.experiment import Experiment, OnEval


class BaselineFitter:
    def fit(self, exp: Experiment, record: RunRecord, resume: bool, on_eval: OnEval | None) -> dict:
        """Fit from scratch (a resumed baseline run refits: fitting is quick and deterministic)."""
        record.truncate_after(0)
        monitor, sign = exp.trainer.monitor, 1.0 if exp.higher_is_better else -1.0
        history: list[dict] = []

        def validate(epoch: int, last: bool = False, **train: float) -> float:
            row = {"epoch": epoch, **train, **exp.evaluate("val")}
            record.log(row)
            history.append(row)
            if on_eval is not None:
                on_eval(epoch, row, last)
            return sign * row[monitor]  # larger is better, for the baseline's own selection

        start = time.perf_counter()
        try:
            exp.model.fit(exp.data, validate)
        except BaselineDiverged as err:  # the last good state stays, as a network's checkpoint
            if err.kept is not None:
                torch.save(err.kept, record.dir / "baseline.pt")
            raise
        seconds = time.perf_counter() - start
        if not history:  # nothing trained per epoch: one validation row for the record
            validate(1, last=True)
        torch.save(exp.model.state(), record.dir / "baseline.pt")
        best = max(history, key=lambda r: sign * r[monitor])
        epochs = history[-1]["epoch"]  # validated after the last epoch, not after every one
        return {
            "epoch": epochs,
            "best": best[monitor],
            "best_epoch": best["epoch"],
            "train_seconds": seconds,
            "train_samples": len(exp.data.splits["train"]) * epochs,
        }

    def restore(self, exp: Experiment, run_dir: Path) -> None:
        path = run_dir / "baseline.pt"
        if not path.is_file():
            raise CheckpointError(f"{path} is missing: the run has no fitted baseline")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # a truncated or foreign file: say which, not a pickle trace
            raise CheckpointError(f"{path} is not a readable mtfw checkpoint: {err}") from err
        exp.model.load_state(state)
