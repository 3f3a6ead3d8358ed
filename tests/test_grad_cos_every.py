"""``trainer.grad_cos_every=N``: the tasks' gradient cosine every N optimisation steps, in the
step rows of metrics.jsonl; training is the same with and without it, the random state too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import TINY, cli, metric_values, summary

from mtfw.errors import ConfigError
from mtfw.trainer.config import TrainerConfig

COSINE = "grad_cos/income~marital"


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def without(row: dict, *prefixes: str) -> dict:
    return {k: v for k, v in row.items() if not k.startswith(prefixes)}


@pytest.mark.slow  # trains two tiny census runs in-process (several seconds each)
def test_cosines_every_n_steps_leave_training_unchanged(workdir: Path) -> None:
    # dropout on, so that a draw from the random state would change the numbers
    budget = [*TINY, "encoder=shared_bottom", "encoder.expert.dropout=0.3"]
    cli("train", *budget, "hydra.run.dir=plain", cwd=workdir)
    cli("train", *budget, "trainer.grad_cos_every=3", "hydra.run.dir=every3", cwd=workdir)
    plain, every = rows(workdir / "plain"), rows(workdir / "every3")
    steps = [r for r in every if r.get("kind") == "step"]
    assert [r["step"] for r in steps] == list(range(1, 11))  # 2 epochs x 5 steps
    assert [r["step"] for r in steps if COSINE in r] == [3, 6, 9]
    assert all(-1.0 <= r[COSINE] <= 1.0 for r in steps if COSINE in r)
    # the same numbers otherwise: every step row, every epoch row, every metric, the RNG state
    assert [without(r, "grad_cos/") for r in steps] == [r for r in plain if r.get("kind")]
    assert [without(r, "epoch_seconds") for r in every if "kind" not in r] == [
        without(r, "epoch_seconds") for r in plain if "kind" not in r
    ]  # the once-an-epoch cosine is there as before
    assert metric_values(summary(workdir / "every3")) == metric_values(summary(workdir / "plain"))
    rng = [torch.load(workdir / d / "checkpoint.pt", weights_only=True)["rng"]
           for d in ("plain", "every3")]  # fmt: skip
    assert torch.equal(rng[0], rng[1])


@pytest.mark.parametrize("value", [0, -2])
def test_grad_cos_every_must_be_at_least_one(value: int) -> None:
    with pytest.raises(ConfigError, match=r"trainer\.grad_cos_every"):
        TrainerConfig.from_config({"grad_cos_every": value})
