"""Sequential funnel models (ESMM, AITM) and the declared-in-YAML tabular datasets they train on."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import cli, composed, needs_shared, shared, shared_path, summary
from omegaconf import OmegaConf

from mtfw import registry
from mtfw.data import DataNeeds
from mtfw.experiment import build_experiment
from mtfw.models.aitm import calibrator_loss
from mtfw.models.esmm import logit_of_product

HILLSTROM = shared_path("hillstrom/hillstrom.csv.gz")
SAMPLES = shared_path("samples")
needs_hillstrom = needs_shared("hillstrom/hillstrom.csv.gz")
needs_samples = needs_shared("samples")


def test_logit_of_product_is_stable_and_exact() -> None:
    a, b = torch.tensor([-30.0, -2.0, 0.0, 3.0, 30.0]), torch.tensor([1.0, 0.5, -1.0, 2.0, 30.0])
    expected = torch.logit(torch.sigmoid(a.double()) * torch.sigmoid(b.double()))
    torch.testing.assert_close(logit_of_product(a, b).double(), expected, rtol=1e-4, atol=1e-4)
    assert torch.isfinite(logit_of_product(torch.tensor([80.0]), torch.tensor([80.0]))).all()


def test_calibrator_is_zero_unless_a_later_step_is_more_likely() -> None:
    earlier, later = torch.tensor([0.5, 0.2, 0.9]), torch.tensor([0.1, 0.2, 0.3])
    assert calibrator_loss([earlier, later], alpha=0.6) == 0
    # later exceeds earlier by 0.3 on one of 3 samples: 0.6 * 0.3 / 3 = 0.06
    bad = torch.tensor([0.1, 0.5, 0.3])
    assert calibrator_loss([earlier, bad], alpha=0.6).item() == pytest.approx(0.06)


@needs_hillstrom
def test_esmm_ctcvr_below_ctr_and_cvr_tower_learns_only_through_ctcvr() -> None:
    cfg = composed("experiment=hillstrom_esmm", f"data.path={HILLSTROM}")
    exp = build_experiment(cfg)
    batch = exp.data.splits["train"].take(slice(0, 256))
    out = exp.model.outputs(batch)
    assert bool((out["conversion"].sigmoid() <= out["visit"].sigmoid() + 1e-6).all())
    torch.testing.assert_close(  # pCTCVR = pCTR * pCVR
        out["conversion"].sigmoid(), out["visit"].sigmoid() * out["conversion_visitors"].sigmoid()
    )
    cvr_tower = list(exp.model.heads["conversion"].parameters())
    assert "conversion_visitors" not in exp.model.heads  # pCVR is the CVR tower, not a new head
    exp.tasks["visit"].loss(out["visit"], batch).backward(retain_graph=True)
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in cvr_tower)  # CTR loss: no grad
    exp.tasks["conversion"].loss(out["conversion"], batch).backward()
    assert any(p.grad.abs().sum() > 0 for p in cvr_tower)  # the CTCVR loss trains it
    assert [n for n, t in exp.tasks.items() if t.train] == ["visit", "conversion"]


@needs_hillstrom
@pytest.mark.parametrize("model", ["esmm", "aitm", "mmoe"])
def test_funnel_experiments_train_through_the_cli(model: str, workdir: Path) -> None:
    cli("train", f"experiment=hillstrom_{model}", f"data.path={HILLSTROM}", "trainer.max_epochs=1",
        "trainer.max_steps_per_epoch=20", "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    for key in ("test/visit/auc", "test/conversion/auc"):
        assert 0 <= s[key] <= 1
    if model == "esmm":  # CVR over visitors only, from the CVR tower
        assert 0 <= s["test/conversion_visitors/auc"] <= 1


def test_tabular_hillstrom_labels_and_masks() -> None:
    shared("hillstrom/hillstrom.csv.gz")
    node = OmegaConf.to_container(composed("data=hillstrom", f"data.path={HILLSTROM}").data)
    data = registry.build("data", node).prepare(
        DataNeeds(labels={"visit": False, "conversion_visitors": True})
    )
    train = data.splits["train"]
    mask = train.masks["conversion_visitors"]
    torch.testing.assert_close(mask.float(), train.labels["visit"])  # labelled exactly on visits
    assert 0.12 < float(train.labels["visit"].mean()) < 0.17


@pytest.mark.parametrize(
    ("data", "files", "labels"),
    [
        ("ali_ccp", {s: f"ali-ccp/ali_ccp_{s}_sample.csv" for s in ("train", "val", "test")},
         ["click", "purchase"]),
        ("aliexpress", {s: f"aliexpress/aliexpress_{s}_sample.csv" for s in ("train", "test")},
         ["click", "purchase"]),
    ],
)  # fmt: skip
@needs_samples
def test_shipped_schemas_load_the_real_samples(data: str, files: dict, labels: list[str]) -> None:
    overrides = [f"data={data}", *(f"data.files.{s}={SAMPLES / p}" for s, p in files.items())]
    node = OmegaConf.to_container(composed(*overrides).data, resolve=True)
    prepared = registry.build("data", node).prepare(DataNeeds(dict.fromkeys(labels, False)))
    train = prepared.splits["train"]
    assert train.cat.shape[1] > 10 and train.num.shape[1] > 5
    assert set(train.labels) == set(labels)
    if "val" not in files:  # carved from the train file
        assert prepared.info["data/n_val"] == round(100 * 0.1)


def test_tabular_errors_name_the_column() -> None:
    node = {"name": "tabular", "path": str(HILLSTROM), "categorical": ["zipcode"],
            "labels": {"visit": "visit"}}  # fmt: skip
    shared("hillstrom/hillstrom.csv.gz")
    with pytest.raises(registry.ConfigError, match="Did you mean 'zip_code'"):
        registry.build("data", node).load()
    node = {**node, "categorical": [], "labels": {"visit": {"column": "visits"}}}
    with pytest.raises(registry.ConfigError, match="no column 'visits'"):
        registry.build("data", node).load()


@needs_hillstrom
def test_output_of_reports_another_tasks_output_on_its_own_label() -> None:
    cfg = composed("experiment=hillstrom_mmoe", f"data.path={HILLSTROM}")
    exp = build_experiment(cfg)
    assert "conversion_on_visits" not in exp.model.heads
    assert not exp.tasks["conversion_on_visits"].train
    batch = exp.data.splits["val"].take(slice(0, 128))
    out = exp.model.outputs(batch)
    torch.testing.assert_close(out["conversion_on_visits"], out["conversion"])
    with pytest.raises(registry.ConfigError, match="output_of='nope'"):
        build_experiment(composed("experiment=hillstrom_mmoe", f"data.path={HILLSTROM}",
                                  "task.conversion_on_visits.output_of=nope"))  # fmt: skip


ALI_CCP = [
    f"data.files.{s}={SAMPLES}/ali-ccp/ali_ccp_{s}_sample.csv" for s in ("train", "val", "test")
]


@pytest.mark.parametrize(
    "encoder",
    [["encoder=esmm", "encoder.ctr=click", "encoder.ctcvr=purchase", "encoder.cvr=null"],
     ["encoder=aitm"], ["encoder=mmoe"]],
    ids=["esmm", "aitm", "mmoe"],
)  # fmt: skip
@needs_samples
def test_funnel_models_on_the_ali_ccp_schema(encoder: list[str], workdir: Path) -> None:
    """A schema smoke test on the real Ali-CCP sample files (too small to mean anything else)."""
    from mtfw.cli import main as cli_main

    cli_main(["train", "data=ali_ccp", "task=[click,purchase]", *encoder, *ALI_CCP,
                "trainer.max_epochs=1", "trainer.batch_size=32", "hydra.run.dir=run"])  # fmt: skip
    s = summary(workdir / "run")
    assert s["status"] == "completed" and s["data/n_train"] == 100 and s["data/n_test"] == 50
    assert 0 <= s["test/click/auc"] <= 1
