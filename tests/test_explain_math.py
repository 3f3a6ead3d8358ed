"""The arithmetic of ``mtfw explain`` on models whose answer is known: permutation importance
of a linear two-task model, integrated gradients' completeness and exact linear attributions,
the expert x field table, and the reductions of a task's output to one number per row."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

from mtfw import registry
from mtfw.data.batch import Batch, Inputs
from mtfw.data.columns import Columns
from mtfw.data.prepared import DataContext, InputSpec
from mtfw.errors import ConfigError
from mtfw.explain.embedded import row_scalar, tiled
from mtfw.explain.experts import expert_response
from mtfw.explain.fields import input_fields, select_fields
from mtfw.explain.gradients import importances, integrated_gradients
from mtfw.explain.permutation import field_generator, permutation_importance
from mtfw.models import InputEmbedding, MultiTaskModel
from mtfw.models.encoder import Encoder
from mtfw.models.heads import TowerHead

N = 600
NAMES = ["a", "b", "c"]


class PassThrough(Encoder):
    """Every task reads the embedded input itself; two 'experts' that read one field each."""

    def __init__(self, in_dim: int, task_names: list[str]):
        super().__init__(in_dim, task_names)
        self.out_dim = in_dim

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        return {t: x for t in self.task_names}

    def field_experts(self, x: Tensor) -> tuple[list[str], Tensor]:
        return ["on_a", "on_b"], torch.stack([3 * x[:, :1], x[:, 1:2] ** 2], dim=1)


def linear_head(weights: list[float], hidden: list[int] | None = None) -> TowerHead:
    head = TowerHead(len(weights), hidden or [], "tanh", 0.0)
    if not hidden:
        with torch.no_grad():
            head.tower[-1].weight.copy_(torch.tensor([weights]))
            head.tower[-1].bias.zero_()
    return head


def setup(hidden: list[int] | None = None):
    """y1 = 2a + b and y2 = -c (regression, labels exactly the model's answers): a, b, c
    numeric inputs, standard normal."""
    torch.manual_seed(0)
    x = torch.randn(N, 3)
    labels = {"y1": 2 * x[:, 0] + x[:, 1], "y2": -x[:, 2]}
    history = registry.build("history", {"name": "none"}, dim=4, length=0)
    inputs = InputEmbedding(InputSpec([], 3, names=NAMES), 4, history)
    heads = {"y1": linear_head([2.0, 1.0, 0.0], hidden),
             "y2": linear_head([0.0, 0.0, -1.0], hidden)}  # fmt: skip
    model = MultiTaskModel(inputs, PassThrough(3, ["y1", "y2"]), heads)
    tasks = {}
    for name in labels:
        node = {"name": "regression", "label": name, "standardize": False, "metrics": ["mse"]}
        task = registry.build("task", node, where=f"task.{name}", name=name)
        task.fit_labels({"train": Batch(Inputs(torch.zeros(N, 0), x), labels, {})})
        tasks[name] = task
    split = Columns(torch.zeros(N, 0, dtype=torch.long), x, labels, {})
    return model, tasks, split, x


def test_fields_are_named_by_the_input_module_and_unknown_names_are_refused() -> None:
    model, *_ = setup()
    fields = input_fields(model)
    assert [(f.name, f.columns) for f in fields] == [
        ("a", slice(0, 1)), ("b", slice(1, 2)), ("c", slice(2, 3))
    ]  # fmt: skip
    assert [f.name for f in select_fields(fields, ["c", "a"])] == ["a", "c"]
    with pytest.raises(ConfigError, match=r"unknown field\(s\) 'bb'.*Did you mean 'b'.*a, b, c"):
        select_fields(fields, ["bb"])


def test_permutation_importance_is_the_rise_of_the_tasks_mse_under_the_seeded_shuffle() -> None:
    """The model is exact (mse 0), so shuffling a field raises y1's mse by exactly
    mean((w (x_perm - x))^2) for its weight w, and leaves the other task's at 0."""
    model, tasks, split, x = setup()
    fields = input_fields(model)
    found = permutation_importance(model, tasks, split, DataContext(InputSpec([], 3)), fields,
                                   repeats=3, seed=7, batch_size=128)  # fmt: skip
    got = {(i.task, i.field): i for i in found}
    for field, weight in (("a", 2.0), ("b", 1.0)):
        generator = field_generator(7, fields[NAMES.index(field)])
        rises = []
        for _ in range(3):
            order = torch.randperm(N, generator=generator)
            column = x[:, NAMES.index(field)]
            rises.append(float(((weight * (column[order] - column)) ** 2).mean()))
        expected = torch.tensor(rises, dtype=torch.float64)
        assert got[("y1", field)].value == pytest.approx(float(expected.mean()), rel=1e-4)
        assert got[("y1", field)].std == pytest.approx(float(expected.std()), rel=1e-3)
        assert got[("y2", field)].value == pytest.approx(0.0, abs=1e-9)
    assert got[("y1", "a")].value > 3 * got[("y1", "b")].value  # weight 2 vs 1: about 4x
    assert got[("y2", "c")].value > 1.0 and got[("y1", "c")].value == pytest.approx(0, abs=1e-9)
    assert got[("y1", "a")].metric == "mse"


def test_integrated_gradients_of_a_linear_model_are_weight_times_input() -> None:
    """For f = w.x and a zero baseline, IG gives w_i x_i exactly: y1's shares are
    mean|2a| : mean|b| : 0."""
    pytest.importorskip("captum")
    model, tasks, split, x = setup()
    fields = input_fields(model)
    found = integrated_gradients(model, list(tasks), split, fields, batch_size=256)
    shares = {(i.task, i.field): i.value for i in importances(found, fields, fields)}
    a, b = (2 * x[:, 0]).abs().mean(), x[:, 1].abs().mean()
    assert shares[("y1", "a")] == pytest.approx(float(a / (a + b)), rel=1e-4)
    assert shares[("y1", "c")] == pytest.approx(0.0, abs=1e-7)
    assert shares[("y2", "c")] == pytest.approx(1.0, rel=1e-6)
    assert found["y1"].gap < 1e-4 and found["y1"].rows == N


def test_integrated_gradients_are_complete_on_a_nonlinear_model() -> None:
    """Completeness (Sundararajan et al., axiom): a row's attributions sum to f(x) - f(0)."""
    pytest.importorskip("captum")
    model, tasks, split, _ = setup(hidden=[16])
    fields = input_fields(model)
    found = integrated_gradients(model, list(tasks), split, fields, batch_size=200)
    for record in found.values():
        assert record.gap < 5e-3  # of the mean |f(x) - f(0)|, with 32 Gauss-Legendre points


def test_experts_respond_to_the_field_they_read() -> None:
    model, _, split, _ = setup()
    names, response = expert_response(model, split, input_fields(model), batch_size=256)
    assert names == ["on_a", "on_b"]
    assert torch.allclose(response, torch.tensor([[1.0, 0, 0], [0, 1.0, 0]], dtype=response.dtype))


def test_one_number_per_row_of_every_kind_of_output() -> None:
    inputs = Inputs(torch.zeros(2, 0), torch.zeros(2, 0))
    assert torch.equal(row_scalar(torch.tensor([1.0, 2.0]), inputs, 2), torch.tensor([1.0, 2.0]))
    inputs.pair_row, inputs.pair_item = torch.tensor([0, 0, 1]), torch.tensor([3, 4, 5])
    pairs = row_scalar(torch.tensor([1.0, 3.0, 5.0]), inputs, 2)
    assert torch.equal(pairs, torch.tensor([2.0, 5.0]))  # the mean of each row's pairs
    scores = torch.tensor([[0.0, 1.0, 5.0], [2.0, 2.0, 8.0]])
    inputs.known = torch.tensor([[False, False, True], [False, False, False]])
    margin = row_scalar(scores, inputs, 2)  # best minus mean, known items left out
    assert torch.allclose(margin, torch.tensor([0.5, 4.0]))
    assert torch.allclose(row_scalar(scores + 10, inputs, 2), margin)  # a shift changes nothing
    stacked = tiled(Batch(inputs, {}, {}), 3).inputs
    assert stacked.known.shape == (6, 3)
    assert stacked.pair_row.tolist() == [0, 0, 1, 2, 2, 3, 4, 4, 5]
    assert stacked.pair_item.tolist() == [3, 4, 5] * 3
