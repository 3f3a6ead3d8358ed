"""``optim.sparse_embeddings``: only the batch's rows move, SparseAdam's lazy Adam equals Adam where
every row is in every batch, gradient-space weightings in parameters mode see the same gradients,
checkpoints resume bit-identically, and the refused combinations are refused before data loads
(under torchrun: tests/test_distributed_sparse.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from conftest import cli, composed, summary
from torch import nn

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.experiment import build_experiment
from mtfw.models.embedding import FeatureEmbedding
from mtfw.trainer.config import TrainerConfig
from mtfw.trainer.evaluate import batch_losses
from mtfw.trainer.sparse_embeddings import DenseAndSparse, build_optimizer, check_sparse_embeddings

CTR = ["data=synthetic_ctr", "task=[click,purchase]", "data.rows=2000", "trainer.batch_size=64",
       "optim.sparse_embeddings=true", "trainer.max_epochs=1"]  # fmt: skip


class Tiny(nn.Module):
    """An input module (two categorical fields) and a linear head per task."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.inputs = FeatureEmbedding([6, 4], 1, dim=3)
        self.heads = nn.ModuleList(nn.Linear(self.inputs.out_dim, 1) for _ in range(2))

    def losses(self, cat: torch.Tensor, num: torch.Tensor) -> torch.Tensor:
        x = self.inputs(cat, num)
        return torch.stack(
            [(head(x).squeeze(1) - t) ** 2 for t, head in enumerate(self.heads)]
        ).mean(1)


def optimizer(model: nn.Module, sparse: bool) -> object:
    cfg = composed(f"optim.sparse_embeddings={str(sparse).lower()}")
    return build_optimizer(cfg, model, [])


def step(model: Tiny, opt: object, cat: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    model.losses(cat, torch.ones(len(cat), 1)).sum().backward()
    opt.step()


def test_only_the_batch_rows_of_the_tables_change() -> None:
    model = Tiny()
    opt = optimizer(model, sparse=True)
    assert isinstance(opt, DenseAndSparse) and model.inputs.table.sparse
    before = model.inputs.table.weight.detach().clone()
    cat = torch.tensor([[1, 0], [3, 2]])  # rows 1, 3 of field 0; rows 6 + 0, 6 + 2 of field 1
    step(model, opt, cat)
    assert model.inputs.table.weight.grad.is_sparse  # only the looked-up rows
    changed = (model.inputs.table.weight.detach() != before).any(1).nonzero().flatten().tolist()
    assert changed == [1, 3, 6, 8]
    head = model.heads[0].weight
    assert head in opt.dense.param_groups[0]["params"]  # the rest: the configured optimizer


def test_sparse_adam_is_adam_when_every_row_is_in_every_batch() -> None:
    """SparseAdam's moments of a row advance only at steps whose batch holds it (lazy Adam) and
    eps sits under the bias-corrected root in Adam, above it in SparseAdam: with every row in
    every batch the two agree to float tolerance."""
    dense, sparse = Tiny(), Tiny()
    opts = optimizer(dense, sparse=False), optimizer(sparse, sparse=True)
    every = torch.tensor([[i, i % 4] for i in range(6)] + [[0, j] for j in range(4)])
    for k in range(20):
        for model, opt in zip((dense, sparse), opts, strict=True):
            step(model, opt, every.roll(k, 0))
    torch.testing.assert_close(sparse.inputs.table.weight, dense.inputs.table.weight,
                               atol=1e-5, rtol=1e-4)  # fmt: skip
    torch.testing.assert_close(sparse.heads[0].weight, dense.heads[0].weight, atol=1e-5, rtol=1e-4)


def test_a_row_outside_the_batch_keeps_its_moments() -> None:
    model = Tiny()
    opt = optimizer(model, sparse=True)
    step(model, opt, torch.tensor([[1, 0], [2, 1]]))
    state = opt.sparse.state[model.inputs.table.weight]
    moments = state["exp_avg"].clone(), state["exp_avg_sq"].clone()
    step(model, opt, torch.tensor([[3, 0]]))  # row 1 and 2 absent: not decayed (lazy)
    assert state["exp_avg"][1:3].equal(moments[0][1:3]) and state["exp_avg_sq"][1:3].equal(
        moments[1][1:3]
    )
    assert not state["exp_avg"][3].equal(moments[0][3])


@pytest.mark.parametrize("name", ["mgda", "pcgrad", "upgrad"])
def test_parameters_mode_sees_the_dense_gradients_and_returns_rows(name: str) -> None:
    """Embeddings are shared parameters: the per-task gradients of a sparse table, read densely,
    are the dense table's, so the combined gradient is the same; it comes back sparse, its rows
    the batch's."""
    grads = []
    for sparse in (False, True):
        model = Tiny()
        model.inputs.table.sparse = sparse
        weighting = registry.build("weighting", {"name": name}, task_names=["a", "b"],
                                   task_weights=[1.0, 1.0])  # fmt: skip
        losses = model.losses(torch.tensor([[1, 0], [3, 2], [1, 1]]), torch.ones(3, 1))
        weighting.backward(losses, list(model.inputs.parameters()))
        grad = model.inputs.table.weight.grad
        assert grad.is_sparse == sparse
        if sparse:
            assert sorted(grad.coalesce().indices()[0].tolist()) == [1, 3, 6, 7, 8]
        grads.append(grad.to_dense() if sparse else grad)
    torch.testing.assert_close(grads[1], grads[0])


def train_steps(exp, batches: list) -> None:
    shared = list(exp.model.shared_parameters())
    for batch in batches:
        losses = batch_losses(exp.model, exp.tasks, batch)
        exp.optimizer.zero_grad(set_to_none=True)
        exp.weighting.backward(losses, shared, representation=exp.model.shared_representation())
        exp.optimizer.step()


@pytest.mark.parametrize("weighting", ["static", "mgda"])
def test_a_checkpoint_resumes_both_optimizers_bit_identically(weighting: str, tmp_path) -> None:
    cfg = composed(*CTR, f"weighting={weighting}", f"data.cache={tmp_path}")
    exp = build_experiment(cfg)
    train = exp.data.splits["train"]
    batches = [train.take(slice(i * 64, (i + 1) * 64)) for i in range(6)]
    train_steps(exp, batches[:3])
    saved = io.BytesIO()
    torch.save({"model": exp.model.state_dict(), "optimizer": exp.optimizer.state_dict()}, saved)
    train_steps(exp, batches[3:])
    saved.seek(0)
    state = torch.load(saved, weights_only=True)  # as checkpoint.load reads it
    assert set(state["optimizer"]) == {"dense", "sparse"}
    again = build_experiment(cfg)
    again.model.load_state_dict(state["model"])
    again.optimizer.load_state_dict(state["optimizer"])
    train_steps(again, batches[3:])
    for (name, a), b in zip(exp.model.state_dict().items(), again.model.state_dict().values(),
                            strict=True):  # fmt: skip
        assert a.equal(b), name


def test_refused_combinations_name_what_works(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = composed("optim.sparse_embeddings=true")
    base = TrainerConfig.from_config(cfg.trainer)
    for trainer in (
        TrainerConfig.from_config({**cfg.trainer, "grad_clip": 1.0}),
        TrainerConfig.from_config({**cfg.trainer, "compile": True}),
    ):
        with pytest.raises(ConfigError, match="Sparse embedding updates work with every weighting"):
            check_sparse_embeddings(cfg, trainer)
    monkeypatch.setenv("WORLD_SIZE", "2")
    check_sparse_embeddings(cfg, base)  # torchrun: accepted (tests/test_distributed_sparse.py)


@pytest.mark.slow  # trains through the real CLI (two runs)
@pytest.mark.parametrize("weighting", [["weighting=mgda"], ["weighting=pcgrad",
                                        "weighting.mode=representation"]])  # fmt: skip
def test_the_cli_trains_with_sparse_embeddings(weighting: list[str], tmp_path: Path) -> None:
    cli("train", *CTR, *weighting, f"data.cache={tmp_path}", "hydra.run.dir=run", cwd=tmp_path)
    result = summary(tmp_path / "run")
    assert result["status"] == "completed" and 0 < result["test/click/auc"] < 1
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert set(saved["optimizer"]) == {"dense", "sparse"}


@pytest.mark.slow  # the real CLI
def test_the_cli_refuses_grad_clip_before_data_loads(tmp_path: Path) -> None:
    proc = cli("train", *CTR, "trainer.grad_clip=1.0", f"data.cache={tmp_path / 'c'}",
               "hydra.run.dir=run", cwd=tmp_path, check=False)  # fmt: skip
    assert proc.returncode == 2 and "trainer.grad_clip" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "run").exists()
    assert not (tmp_path / "c").exists()  # no data generated
