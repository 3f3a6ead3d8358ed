"""Properties every registered weighting has, in every mode it offers (enumerated from the
registry, so a new method is covered without touching this file): finite weights and gradients,
heads trained on their own task's gradient, plain training with one task, weights that are the
ones actually used, per-task sample masks, exact resume from a state_dict, clear config errors."""

from __future__ import annotations

import copy
import importlib
import re
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from weighting_cases import CASES, modes

from mtfw import registry
from mtfw.errors import ConfigError
from mtfw.weighting import GradientWeighting, LossWeighting, Weighting

CONF = Path(__file__).resolve().parents[1] / "conf" / "weighting"
NONLINEAR = {"graddrop", "db_mtl"}  # their update is not sum_t weight_t * grad L_t


IDS = [f"{name}-{mode}" if mode else name for name, mode in CASES]
GRADIENT_NAMES = [n for n in registry.names("weighting") if modes(n) != [None]]


def build(name: str, mode: str | None, task_weights: list[float], **options) -> Weighting:
    node = OmegaConf.to_container(OmegaConf.load(CONF / f"{name}.yaml"))
    node.update(options)
    if mode is not None:
        node["mode"] = mode
    names = ["a", "b", "c", "d"][: len(task_weights)]
    return registry.build("weighting", node, task_names=names, task_weights=task_weights)


class Tiny(nn.Module):
    """A shared trunk (its output is the shared representation) and one small tower per task."""

    def __init__(self, n_tasks: int) -> None:
        super().__init__()
        self.shared = nn.Sequential(nn.Linear(4, 6), nn.Tanh())
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(6, 3), nn.Tanh(), nn.Linear(3, 1)) for _ in range(n_tasks)
        )
        self.representation: torch.Tensor | None = None

    def losses(self, x: torch.Tensor, y: torch.Tensor, masks: list | None = None) -> torch.Tensor:
        h = self.representation = self.shared(x)
        out = []
        for t, head in enumerate(self.heads):
            per_sample = (head(h).squeeze(-1) - y[:, t]) ** 2
            mask = None if masks is None else masks[t]
            out.append(
                per_sample.mean() if mask is None
                else (per_sample * mask).sum() / mask.sum().clamp(min=1)
            )  # fmt: skip
        return torch.stack(out)


def setup(n_tasks: int, seed: int = 0) -> tuple[Tiny, torch.Tensor, torch.Tensor]:
    torch.manual_seed(seed)
    return Tiny(n_tasks), torch.randn(16, 4), torch.randn(16, n_tasks)


def step(model: Tiny, weighting: Weighting, x, y, masks=None) -> tuple[torch.Tensor, torch.Tensor]:
    model.zero_grad(set_to_none=True)
    weighting.zero_grad(set_to_none=True)
    losses = model.losses(x, y, masks)
    weights = weighting.backward(losses, list(model.shared.parameters()), model.representation)
    return losses.detach(), weights


def shared_grad(model: Tiny) -> torch.Tensor:
    return torch.cat([p.grad.flatten() for p in model.shared.parameters()])


def task_grad(model: Tiny, x, y, t: int, masks=None) -> torch.Tensor:
    grads = torch.autograd.grad(model.losses(x, y, masks)[t], list(model.shared.parameters()))
    return torch.cat([g.flatten() for g in grads])


def assert_positive_multiple(actual: torch.Tensor, expected: torch.Tensor) -> None:
    cosine = torch.nn.functional.cosine_similarity(actual, expected, dim=0)
    assert cosine > 1 - 1e-5, f"cosine {cosine.item()}: not the task's own gradient direction"


@pytest.mark.parametrize(("name", "mode"), CASES, ids=IDS)
def test_weights_and_gradients_are_finite(name: str, mode: str | None) -> None:
    model, x, y = setup(3)
    weighting = build(name, mode, [1.0, 0.5, 2.0])
    for _ in range(3):  # stateful methods (histories, moving averages) see later steps too
        _, weights = step(model, weighting, x, y)
        assert weights.shape == (3,) and not weights.requires_grad
        assert torch.isfinite(weights).all(), weights
        for pname, param in model.named_parameters():
            assert param.grad is not None and torch.isfinite(param.grad).all(), pname
        assert shared_grad(model).abs().sum() > 0
        for param in weighting.parameters():
            assert param.grad is None or torch.isfinite(param.grad).all()


@pytest.mark.parametrize(("name", "mode"), CASES, ids=IDS)
def test_heads_receive_their_own_task_gradient(name: str, mode: str | None) -> None:
    model, x, y = setup(3)
    weighting = build(name, mode, [1.0, 0.5, 2.0])
    for _ in range(2):
        _, weights = step(model, weighting, x, y)
        for t, head in enumerate(model.heads):
            params = list(head.parameters())
            if isinstance(weighting, GradientWeighting):  # unscaled by the combination
                objective = weighting.task_objectives(model.losses(x, y))[t]
            else:  # loss space: the head's task weight scales it, as in the weighted sum
                objective = weights[t] * model.losses(x, y)[t]
            for param, expected in zip(params, torch.autograd.grad(objective, params), strict=True):
                torch.testing.assert_close(param.grad, expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(("name", "mode"), CASES, ids=IDS)
def test_a_single_task_trains_on_its_own_gradient(name: str, mode: str | None) -> None:
    model, x, y = setup(1)
    weighting = build(name, mode, [1.0])
    for _ in range(3):
        _, weights = step(model, weighting, x, y)
        assert weights.shape == (1,) and weights[0] > 0
        assert_positive_multiple(shared_grad(model), task_grad(model, x, y, 0))


@pytest.mark.parametrize(("name", "mode"), [c for c in CASES if c[0] not in NONLINEAR], ids=str)
def test_the_weights_returned_are_the_weights_used(name: str, mode: str | None) -> None:
    model, x, y = setup(3)
    weighting = build(name, mode, [1.0, 0.5, 2.0])
    for _ in range(2):
        _, weights = step(model, weighting, x, y)
        combined = sum(weights[t] * task_grad(model, x, y, t) for t in range(3))
        torch.testing.assert_close(shared_grad(model), combined, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(("name", "mode"), CASES, ids=IDS)
def test_a_task_without_labelled_samples_sits_out(name: str, mode: str | None) -> None:
    model, x, y = setup(2)
    weighting = build(name, mode, [1.0, 1.0])
    present, absent = torch.ones(16), torch.zeros(16)
    losses, weights = step(model, weighting, x, y, [present, absent])
    assert losses[1] == 0 and torch.isfinite(weights).all()
    assert_positive_multiple(shared_grad(model), task_grad(model, x, y, 0, [present, absent]))
    for masks in ([absent, present], [present, present]):  # then the other task, then both
        _, weights = step(model, weighting, x, y, masks)
        assert torch.isfinite(weights).all()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize(("name", "mode"), CASES, ids=IDS)
def test_a_reloaded_state_continues_exactly(name: str, mode: str | None) -> None:
    model, x, y = setup(2)
    weighting = build(name, mode, [1.0, 2.0])
    for i in range(3):
        step(model, weighting, x + i, y)
    reloaded = build(name, mode, [1.0, 2.0])
    reloaded.load_state_dict(copy.deepcopy(weighting.state_dict()))
    model.representation = None  # a graph tensor: not copyable
    twin = copy.deepcopy(model)
    torch.manual_seed(7)  # random methods (RLW, PCGrad's orders, GradDrop) draw the same
    _, weights = step(model, weighting, x - 1, y)
    torch.manual_seed(7)
    _, weights_again = step(twin, reloaded, x - 1, y)
    assert torch.equal(weights, weights_again)
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        assert torch.equal(p.grad, q.grad)


DEGENERATE = {
    "identical": [(1.0, 2.0), (1.0, 2.0)],
    "opposite": [(1.0, 2.0), (-1.0, -2.0)],
    "tiny": [(1e-12, 0.0), (0.0, 3e-12)],
    "huge": [(1e6, 0.0), (-1e6, 1e5)],
    "one_zero": [(0.0, 0.0), (1.0, -1.0)],
}


@pytest.mark.parametrize("case", DEGENERATE)
@pytest.mark.parametrize(("name", "mode"), CASES, ids=IDS)
def test_degenerate_gradients_give_finite_updates(name: str, mode: str | None, case: str) -> None:
    # Linear losses g_t . theta + 10 (positive, for the methods that take logs): gradients g_t.
    theta = nn.Parameter(torch.ones(2))
    z = theta * 1.0  # an identity "encoder": the representation gradients are the g_t too
    grads = torch.tensor(DEGENERATE[case])
    weighting = build(name, mode, [1.0, 1.0])
    for _ in range(2):
        theta.grad = None
        weights = weighting.backward(grads @ z + 10, [theta], z)
        assert torch.isfinite(weights).all(), weights
        assert torch.isfinite(theta.grad).all(), theta.grad
        z = theta * 1.0


@pytest.mark.parametrize("name", GRADIENT_NAMES)
def test_a_misspelt_mode_names_the_choices(name: str) -> None:
    with pytest.raises(ConfigError, match="Did you mean 'representation'"):
        build(name, "representaton", [1.0, 1.0])


@pytest.mark.parametrize("name", [n for n in GRADIENT_NAMES if "representation" in modes(n)])
def test_representation_mode_without_a_representation_is_a_clear_error(name: str) -> None:
    model, x, y = setup(2)
    weighting = build(name, "representation", [1.0, 1.0])
    with pytest.raises(ConfigError, match=r"use weighting\.mode=parameters"):
        weighting.backward(model.losses(x, y), list(model.shared.parameters()), None)


def test_methods_whose_state_spans_batches_refuse_representation_mode() -> None:
    refusing = [n for n in GRADIENT_NAMES if "representation" not in modes(n)]
    assert refusing == ["db_mtl"]
    with pytest.raises(ConfigError, match="representation gradients belong to one batch"):
        build("db_mtl", "representation", [1.0, 1.0])


@pytest.mark.parametrize("name", registry.names("weighting"))
def test_each_method_file_opens_with_its_paper_or_definition(name: str) -> None:
    cls = registry.get("weighting", name)
    assert issubclass(cls, LossWeighting | GradientWeighting)
    doc = importlib.import_module(cls.__module__).__doc__ or ""
    assert cls.__module__ == f"mtfw.weighting.{name}"
    first = doc.strip().split("\n\n")[0]
    assert name in {"static"} or re.search(r"(19|20)\d\d", first), first
