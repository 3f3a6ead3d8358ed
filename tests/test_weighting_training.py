"""Weightings in real training runs: every method in every mode it offers trains census MMoE
through the training loop (conf/ files also train through ``run`` in test_conf.py), the per-step
weight rows and gradient-conflict keys of the run record, masked labels, other encoders, and exact
resume of a stateful method."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path

import pytest
import torch
from conftest import cli, composed, needs_shared, shared_path, summary
from omegaconf import OmegaConf
from weighting_cases import CASES

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.experiment import Experiment, build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.record import RunRecord
from mtfw.train import run
from mtfw.trainer.loop import fit

FEW = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=2", "trainer.batch_size=64"]
HILLSTROM = shared_path("hillstrom/hillstrom.csv.gz")


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These runs are small: one thread is as fast, and far faster when other processes load the
    machine (two threads on a busy two-core machine spin against each other)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def with_weighting(exp: Experiment, name: str, mode: str | None) -> Experiment:
    """A fresh copy of the experiment's initial model, trained with another weighting."""
    node = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "weighting" / f"{name}.yaml"))
    node.update({"mode": mode} if mode else {})
    trained = {n: t for n, t in exp.tasks.items() if t.train}
    weighting = registry.build("weighting", node, task_names=list(trained),
                               task_weights=[t.weight for t in trained.values()])  # fmt: skip
    model = copy.deepcopy(exp.model)
    params = [*model.parameters(), *weighting.parameters()]
    optimizer = registry.build("optim", exp.cfg.optim, params=params)
    return dataclasses.replace(exp, model=model, weighting=weighting, optimizer=optimizer)


@pytest.fixture(scope="module")
def census() -> Experiment:
    return build_experiment(composed("task.income.weight=2", *FEW))


@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{n}-{m}" if m else n for n, m in CASES])
def test_every_method_trains_census_mmoe(census, name: str, mode: str | None, tmp_path) -> None:
    fit(with_weighting(census, name, mode), record := RunRecord(tmp_path))
    steps, (evaluation,) = record.steps(), record.history()
    assert [r["step"] for r in steps] == [1, 2]
    for row in [*steps, evaluation]:
        assert all(math.isfinite(row[f"weight/{t}"]) for t in ("income", "marital"))
    if name == "static":  # the user's task.income.weight=2, at every step
        assert all((r["weight/income"], r["weight/marital"]) == (2, 1) for r in steps)
    assert all(math.isfinite(v) for k, v in evaluation.items() if k.startswith("val/"))
    assert -1 <= evaluation["grad_cos/income~marital"] <= 1  # for any method, static included


def test_ple_trains_on_its_shared_parameters_and_has_no_shared_output(tmp_path: Path) -> None:
    ple = build_experiment(composed("encoder=ple", *FEW))
    fit(with_weighting(ple, "cagrad", "parameters"), RunRecord(tmp_path / "parameters"))
    with pytest.raises(ConfigError, match=r"use weighting\.mode=parameters"):
        fit(with_weighting(ple, "cagrad", "representation"), RunRecord(tmp_path / "rep"))


def test_single_task_encoder_shares_nothing_and_trains(tmp_path: Path) -> None:
    result = run(composed("encoder=single_task", "weighting=mgda", *FEW), tmp_path / "run")
    assert result["status"] == "completed"
    assert (result["weight/income"], result["weight/marital"]) == (1, 1)  # nothing to combine
    assert not any(
        k.startswith("grad_cos/") for r in RunRecord(tmp_path / "run").history() for k in r
    )


def test_cli_run_logs_the_weights_of_every_step(workdir: Path) -> None:
    cli("train", "weighting=mgda", "weighting.mode=representation", "trainer.max_epochs=2",
        "trainer.num_threads=1",
        "trainer.max_steps_per_epoch=4", "trainer.batch_size=128", "trainer.patience=null",
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    rows = [json.loads(line) for line in (workdir / "run/metrics.jsonl").read_text().splitlines()]
    kinds = [r.get("kind", "evaluation") for r in rows]
    assert kinds == ["step"] * 4 + ["evaluation"] + ["step"] * 4 + ["evaluation"]
    steps = [r for r in rows if "kind" in r]
    for r in steps:  # MGDA: a convex combination
        assert r["weight/income"] + r["weight/marital"] == pytest.approx(1, abs=1e-6)
    assert len({r["weight/income"] for r in steps}) > 1  # the weights move from step to step
    for epoch, row in ((1, rows[4]), (2, rows[9])):
        mine = [r["weight/income"] for r in steps if r["epoch"] == epoch]
        assert row["weight/income"] == pytest.approx(sum(mine) / 4)  # the epoch's mean
        assert "grad_cos/income~marital" in row
    s = summary(workdir / "run")
    assert s["weight/income"] == pytest.approx(sum(r["weight/income"] for r in steps) / 8)


@needs_shared("hillstrom/hillstrom.csv.gz")
def test_masked_labels_train_with_a_gradient_method(tmp_path: Path) -> None:
    # Conversion among visitors: unlabelled for the ~85% of customers who did not visit; batches of
    # 8 often hold no visitor at all, so the task sits out of those steps (every method: see
    # test_weighting_properties.py).
    cfg = composed("data=hillstrom", f"data.path={HILLSTROM}", "task=[visit,conversion_visitors]",
                   "task.conversion_visitors.train=true", "weighting=pcgrad",
                   "trainer.max_epochs=1", "trainer.max_steps_per_epoch=12",
                   "trainer.batch_size=8")  # fmt: skip
    result = run(cfg, tmp_path / "run")
    assert result["status"] == "completed"
    assert all(math.isfinite(v) for k, v in result.items() if k.startswith(("test/", "weight/")))
    steps = RunRecord(tmp_path / "run").steps()
    assert any(r["train/conversion_visitors/loss"] == 0 for r in steps)  # a batch without labels
    assert all(math.isfinite(r["weight/conversion_visitors"]) for r in steps)


class Interrupt(Exception):
    pass


def stop_after(epoch: int):
    def on_eval(done: int, row: dict, last: bool) -> None:
        if done == epoch:
            raise Interrupt

    return on_eval


def test_a_stateful_method_resumes_exactly(tmp_path: Path) -> None:
    # GradVac keeps target similarities in a buffer and draws task orders from torch's generator;
    # an interrupted run resumed from its checkpoint must match the uninterrupted one exactly
    # (every method's state_dict round trip: test_weighting_properties.py).
    cfg = composed("experiment=synthetic", "data.n_samples=800", "weighting=gradvac",
                   "trainer.max_epochs=3", "trainer.patience=null", "trainer.batch_size=64",
                   "trainer.max_steps_per_epoch=4", "encoder.expert.dropout=0.1")  # fmt: skip
    full = run(cfg, tmp_path / "full")
    with pytest.raises(Interrupt):
        run(cfg, tmp_path / "cut", on_eval=stop_after(2))
    resumed = run(cfg, tmp_path / "cut", resume=True)
    metrics = {k: v for k, v in full.items() if k.startswith(("val/", "test/", "weight/"))}
    assert metrics == {k: resumed[k] for k in metrics}
    assert RunRecord(tmp_path / "cut").steps() == RunRecord(tmp_path / "full").steps()
