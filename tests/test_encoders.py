"""Every registered encoder x every expert network, enumerated from the registry, plus the
architecture-specific properties of the papers (gates, cross-stitch start, no sharing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_conf import overrides_for

from mtfw import registry
from mtfw.cli import main as cli_main
from mtfw.data import Inputs, InputSpec
from mtfw.models import InputEmbedding, PerTaskInputs
from mtfw.models.cross_stitch import identity_like
from mtfw.models.history import NoHistory

ENCODERS, EXPERTS = registry.names("encoder"), registry.names("expert")
VOCAB, N_NUM = [5, 7, 3], 2


def embedded(encoder: str, n_tasks: int, batch: int = 12):
    torch.manual_seed(0)
    cls = registry.get("encoder", encoder)
    spec = InputSpec(VOCAB, N_NUM)
    if cls.independent_inputs:
        emb = PerTaskInputs([InputEmbedding(spec, 4, NoHistory(4, 0)) for _ in range(n_tasks)])
    else:
        emb = InputEmbedding(spec, 4, NoHistory(4, 0))
    cat = torch.stack([torch.randint(0, v, (batch,)) for v in VOCAB], 1)
    return emb, emb(Inputs(cat, torch.randn(batch, N_NUM)))


def build(encoder: str, tasks: list[str], expert: str = "mlp", emb=None, **kwargs):
    params = registry.parameters("encoder", encoder)
    node = {"name": encoder, **kwargs}
    if "shared" in params:  # a wrapper (ESMM): the expert goes into its shared encoder
        node["shared"] = {"name": "mmoe", "expert": expert}
    else:
        node["expert"] = expert
    if "ctcvr" in params:  # funnel roles by position: ctr, ctcvr[, cvr]
        node.update(zip(["ctr", "ctcvr", "cvr"], tasks, strict=False))
    return registry.build("encoder", node, in_dim=emb.out_dim, task_names=tasks, layout=emb.layout)


@pytest.mark.parametrize("expert", EXPERTS)
@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("tasks", [["a", "b"], ["ctr", "cvr", "gmv"]], ids=["2tasks", "3tasks"])
def test_every_encoder_with_every_expert(encoder: str, expert: str, tasks: list[str]) -> None:
    emb, x = embedded(encoder, len(tasks))
    enc = build(encoder, tasks, expert, emb)
    out = enc(x)
    assert list(out) == [t for t in tasks if t not in enc.borrowed_heads()]  # ESMM's pCVR task
    for rep in out.values():
        assert rep.shape == (12, enc.out_dim) and torch.isfinite(rep).all()
    sum(rep.square().mean() for rep in out.values()).backward()
    for name, p in [*enc.named_parameters(), *emb.named_parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    if enc.shared_output is not None:  # computed by the shared parameters alone
        assert enc.shared_output.shape[0] == 12


@pytest.mark.parametrize("encoder", ENCODERS)
def test_gates_are_distributions(encoder: str) -> None:
    emb, x = embedded(encoder, 3)
    enc = build(encoder, ["a", "b", "c"], emb=emb)
    enc(x)
    for gates in (enc.last_gates or {}).values():
        assert bool((gates >= 0).all())
        torch.testing.assert_close(gates.sum(-1), torch.ones(12))


def test_gated_encoders_report_gates() -> None:
    for encoder in ("mmoe", "omoe", "cgc", "ple"):
        emb, x = embedded(encoder, 2)
        enc = build(encoder, ["a", "b"], emb=emb)
        enc(x)
        assert enc.last_gates is not None and set(enc.last_gates) == {"a", "b"}, encoder


def test_omoe_uses_one_gate_for_all_tasks() -> None:
    emb, x = embedded("omoe", 2)
    enc = build("omoe", ["a", "b"], emb=emb)
    out = enc(x)
    torch.testing.assert_close(out["a"], out["b"])
    torch.testing.assert_close(enc.last_gates["a"], enc.last_gates["b"])


def test_ple_levels_and_cgc_is_one_level() -> None:
    emb, x = embedded("ple", 2)
    assert len(build("ple", ["a", "b"], emb=emb, levels=3).levels) == 3
    cgc = build("cgc", ["a", "b"], emb=emb, n_specific=1, n_shared=3)
    assert len(cgc.levels) == 1 and cgc.levels[0].shared_gate is None
    cgc(x)
    assert cgc.last_gates["a"].shape == (12, 4)  # its own expert + the 3 shared ones


def test_cross_stitch_starts_identity_like_and_columns_are_separable() -> None:
    torch.testing.assert_close(
        identity_like(3, 0.8), torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])
    )
    emb, x = embedded("cross_stitch", 2)
    enc = build("cross_stitch", ["a", "b"], emb=emb, self_weight=0.9)
    for unit in enc.units:
        torch.testing.assert_close(unit.detach(), identity_like(2, 0.9))
    # with alpha = I the columns are independent: task a's output ignores column b's weights
    enc = build("cross_stitch", ["a", "b"], emb=emb, self_weight=1.0)
    enc(x)["a"].sum().backward()
    first = enc.blocks[0].weights[0].grad  # [columns, in, h]
    assert first[1].abs().sum() == 0 and first[0].abs().sum() > 0


def test_single_task_shares_nothing() -> None:
    emb, x = embedded("single_task", 2)
    enc = build("single_task", ["a", "b"], emb=emb)
    assert list(enc.shared_parameters()) == [] and list(emb.shared_parameters()) == []
    enc(x)["a"].sum().backward()
    other = emb.tables[1].fields.table.weight.grad  # task b's embedding
    assert other is None or other.abs().sum() == 0
    assert enc.networks.weights[0].grad[1].abs().sum() == 0  # task b's network: untouched
    assert enc.networks.weights[0].grad[0].abs().sum() > 0


def test_field_experts_refuse_a_flat_input() -> None:
    with pytest.raises(registry.ConfigError, match="field embeddings"):
        registry.build("expert", "cnn", n=2, in_dim=8, layout=None)


MATRIX = [(e, x) for e in ENCODERS for x in EXPERTS]


@pytest.mark.slow
@pytest.mark.parametrize(("encoder", "expert"), MATRIX, ids=[f"{e}-{x}" for e, x in MATRIX])
def test_every_encoder_and_expert_trains(encoder: str, expert: str, tmp_path: Path) -> None:
    """On census, or on the data of the experiment made for the encoder (ESMM's funnel)."""
    nested = "shared.expert" if "shared" in registry.parameters("encoder", encoder) else "expert"
    overrides = [
        *overrides_for("encoder", encoder),
        f"encoder.{nested}={expert}",
        "trainer.max_epochs=1",
        "trainer.max_steps_per_epoch=3",
        "trainer.batch_size=128",
    ]
    cli_main(["train", *overrides, f"hydra.run.dir={tmp_path / 'run'}"])  # the CLI, in-process
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    metrics = [v for k, v in summary.items() if k.startswith("test/")]
    assert metrics and all(v == v and abs(v) < float("inf") for v in metrics)
    assert summary["n_parameters"] > 0
    if registry.get("encoder", encoder).__name__ in ("MMoE", "OMoE", "PLE", "CGC"):
        assert any(k.startswith("gate/") for k in summary)
