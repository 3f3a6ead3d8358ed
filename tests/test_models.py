"""Models (mtfw/models): expert banks, encoders, feature embedding."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from mtfw.errors import ConfigError
from mtfw.models.embedding import FeatureEmbedding
from mtfw.models.encoder import Encoder
from mtfw.models.experts import MLPExperts
from mtfw.models.mmoe import MMoE
from mtfw.models.shared_bottom import SharedBottom

CONF = Path(__file__).resolve().parents[1] / "conf" / "encoder"
ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def separate_stacks(bank: MLPExperts, act: str) -> list[nn.Sequential]:
    """E ordinary nn.Linear stacks holding the bank's weights (nn.Linear stores [out, in])."""
    stacks = []
    for e in range(bank.n):
        layers: list[nn.Module] = []
        for w, b in zip(bank.weights, bank.biases, strict=True):
            linear = nn.Linear(w.shape[1], w.shape[2])
            with torch.no_grad():
                linear.weight.copy_(w[e].T)
                linear.bias.copy_(b[e])
            layers += [linear, ACTS[act]()]
        stacks.append(nn.Sequential(*layers))
    return stacks


@pytest.mark.parametrize("hidden", [[6], [6, 3]])
@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_expert_mlps_equal_separate_linear_stacks(hidden: list[int], act: str) -> None:
    torch.manual_seed(0)
    bank = MLPExperts(4, 5, None, hidden, act)
    x = torch.randn(9, 5)
    out = bank(x)
    assert out.shape == (9, 4, hidden[-1])
    assert bank.out_dim == hidden[-1]
    for e, stack in enumerate(separate_stacks(bank, act)):
        torch.testing.assert_close(out[:, e], stack(x), rtol=1e-5, atol=1e-6)


def test_expert_mlps_experts_are_independent() -> None:
    torch.manual_seed(0)
    bank = MLPExperts(3, 4, None, [5, 2])
    x = torch.randn(6, 4)
    before = bank(x).detach()
    with torch.no_grad():
        bank.weights[1][2].add_(1.0)  # change the second layer of expert 2 only
    after = bank(x).detach()
    torch.testing.assert_close(before[:, :2], after[:, :2])
    assert not torch.allclose(before[:, 2], after[:, 2])


def test_expert_mlps_reject_bad_shapes() -> None:
    with pytest.raises(ConfigError):
        MLPExperts(0, 4, None, [3])
    with pytest.raises(ConfigError):
        MLPExperts(2, 4, None, [])


@pytest.mark.parametrize("tasks", [["a", "b"], ["ctr", "cvr", "gmv"]])
@pytest.mark.parametrize("kind", ["mmoe", "shared_bottom"])
def test_encoders_output_one_tensor_per_task(kind: str, tasks: list[str]) -> None:
    torch.manual_seed(0)
    if kind == "mmoe":
        enc: Encoder = MMoE(10, tasks, n_experts=3, expert={"name": "mlp", "hidden": [8, 6]})
    else:
        enc = SharedBottom(10, tasks, expert={"name": "mlp", "hidden": [12, 6]})
    out = enc(torch.randn(7, 10))
    assert list(out) == tasks
    assert enc.out_dim == 6
    for rep in out.values():
        assert rep.shape == (7, 6)


def test_shared_bottom_gives_every_task_the_same_representation() -> None:
    out = SharedBottom(4, ["a", "b"], expert={"name": "mlp", "hidden": [3]})(torch.randn(5, 4))
    torch.testing.assert_close(out["a"], out["b"])


def test_mmoe_gates_sum_to_one_and_mix_the_experts() -> None:
    torch.manual_seed(0)
    tasks = ["a", "b", "c"]
    enc = MMoE(6, tasks, n_experts=4, expert={"name": "mlp", "hidden": [5]})
    with torch.no_grad():
        enc.gates.weight.mul_(5.0)  # make the gates clearly different per task
    x = torch.randn(8, 6)
    out = enc(x)
    assert enc.last_gates is not None and list(enc.last_gates) == tasks
    experts = enc.bank(x)  # [B, E, h]
    for task in tasks:
        gates = enc.last_gates[task]
        assert gates.shape == (8, 4)
        assert bool((gates >= 0).all())
        torch.testing.assert_close(gates.sum(-1), torch.ones(8))
        # h_t = sum_e g_te * f_e(x)
        torch.testing.assert_close(out[task], (gates.unsqueeze(-1) * experts).sum(1))
    assert not torch.allclose(out["a"], out["b"])


@pytest.mark.parametrize(
    ("vocab", "n_num", "dim"), [([3, 5, 2], 4, 8), ([7], 0, 3), ([4, 4], 1, 1), ([], 3, 8)]
)
def test_feature_embedding_output_dim(vocab: list[int], n_num: int, dim: int) -> None:
    emb = FeatureEmbedding(vocab, n_num, dim)
    batch = 6
    cat = torch.zeros(batch, len(vocab), dtype=torch.long)
    for j, size in enumerate(vocab):
        cat[:, j] = torch.randint(0, size, (batch,))
    num = torch.randn(batch, n_num)
    out = emb(cat, num)
    assert emb.out_dim == len(vocab) * dim + n_num
    assert out.shape == (batch, len(vocab) * dim + n_num)
    torch.testing.assert_close(out[:, len(vocab) * dim :], num)  # numeric features pass through


def test_feature_embedding_fields_use_separate_rows() -> None:
    vocab = [3, 5, 2]
    emb = FeatureEmbedding(vocab, 0, dim=4)
    cat = torch.tensor([[0, 0, 0], [2, 4, 1]])
    fields = emb.fields(cat)
    starts = [0, 3, 8]  # field j's id k lives in row starts[j] + k of the one table
    for b in range(2):
        for j in range(3):
            torch.testing.assert_close(fields[b, j], emb.table.weight[starts[j] + cat[b, j]])
    # id 0 of different fields are different embeddings
    assert not torch.allclose(fields[0, 0], fields[0, 1])
    assert emb.table.num_embeddings == sum(vocab)


# Every registered encoder x expert network: tests/test_encoders.py (enumerated from the registry).
