"""``trainer.precision``: 16-mixed gives every gradient weighting the combined gradient of fp32
(within a stated tolerance), an fp16 overflow skips the step and leaves the state as it was, bf16
runs through the CLI (census, MovieLens-100K), bad precisions are refused before data loads."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import TINY, cli, metric_values, summary
from distributed_support import CONFIG, experiment, with_weighting
from recsys_support import ml100k
from weighting_cases import CASES

from mtfw.errors import ConfigError
from mtfw.experiment import Experiment
from mtfw.trainer import precision as precision_module
from mtfw.trainer.evaluate import batch_losses
from mtfw.trainer.precision import Precision, ScaleGradient, check_precision

# fp16 keeps 11 significant bits (relative rounding 2^-11 ~ 5e-4 per operation); through the
# forward and backward passes of the small MMoE the combined gradient stays within 2e-3 of fp32's
# (relative L2 norm of the difference, over every model parameter).
TOLERANCE = 2e-3


@pytest.fixture(scope="module")
def small() -> Experiment:
    torch.set_num_threads(1)
    return experiment(CONFIG)


def one_backward(exp: Experiment, name: str, mode: str | None, precision: str,
                 scale: float | None = None) -> tuple[Experiment, Precision, bool]:  # fmt: skip
    """One real training step's backward and optimizer step (``lr=0``: the gradients are what is
    compared) of a fresh copy of the model and weighting, in ``precision``."""
    run = with_weighting(exp, name, mode)
    run.optimizer = torch.optim.SGD([*run.model.parameters(), *run.weighting.parameters()], lr=0)
    prec = Precision(precision, torch.device("cpu"))
    if scale is not None:
        prec.scaler = torch.amp.GradScaler("cpu", init_scale=scale)
    tasks = {n: t for n, t in run.tasks.items() if t.train}
    batch = run.data.splits["train"].take(slice(0, 64))
    torch.manual_seed(3)
    run.model.train()
    with prec.autocast():
        losses = batch_losses(run.model, tasks, batch)
    run.optimizer.zero_grad(set_to_none=True)
    shared = list(run.model.shared_parameters())
    prec.backward(run.weighting, losses, shared, run.model.shared_representation())
    stepped = prec.step(run.optimizer, run.weighting, run.model.parameters(), None)
    return run, prec, stepped


def gradient(run: Experiment) -> torch.Tensor:
    return torch.cat([
        (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
        for p in [*run.model.parameters(), *run.weighting.parameters()]
    ])  # fmt: skip


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_16_mixed_gives_every_weighting_the_fp32_combined_gradient(
    name: str, mode: str | None, small: Experiment
) -> None:
    fp32, _, _ = one_backward(small, name, mode, "32")
    mixed, prec, stepped = one_backward(small, name, mode, "16-mixed")
    assert stepped and prec.scaler.get_scale() == 2.0**16  # scaled by 65536, no overflow
    exact, half = gradient(fp32), gradient(mixed)
    assert torch.isfinite(half).all() and exact.norm() > 0
    assert (half - exact).norm() / exact.norm() < TOLERANCE


@pytest.mark.parametrize(("name", "mode"), CASES)
def test_an_fp16_overflow_skips_the_step_and_keeps_the_state(
    name: str, mode: str | None, small: Experiment
) -> None:
    run = with_weighting(small, name, mode)
    before = copy.deepcopy(run.weighting.state_dict())
    params = [p.detach().clone() for p in run.model.parameters()]
    # A scale of 2^100: every gradient overflows fp16 (max 65504) in the backward pass.
    overflowed, prec, stepped = one_backward(small, name, mode, "16-mixed", scale=2.0**100)
    assert not stepped and prec.skipped_steps == 1
    assert prec.scaler.get_scale() == 2.0**99  # backed off
    after = overflowed.weighting.state_dict()
    assert before.keys() == after.keys()
    for key, value in before.items():
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(value, after[key], rtol=0, atol=0, equal_nan=True)
        else:  # the weighting's own generator
            assert torch.equal(value["generator"], after[key]["generator"]), key
    assert all(torch.equal(a, b) for a, b in zip(params, run.model.parameters(), strict=True))


def test_scale_gradient_is_the_identity_forward_and_scales_backward() -> None:
    losses = torch.tensor([0.5, 2.0], requires_grad=True)
    scaled = ScaleGradient.apply(losses, 8.0)
    assert torch.equal(scaled, losses)
    (scaled * torch.tensor([1.0, 3.0])).sum().backward()
    assert losses.grad.tolist() == [8.0, 24.0]


def test_precisions_a_device_cannot_train_in_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    check_precision("bf16", torch.device("cpu"))  # the CPU has bf16 and fp16 autocast
    check_precision("16-mixed", torch.device("cpu"))
    with pytest.raises(ConfigError, match="no autocast on device 'meta'"):
        check_precision("16-mixed", torch.device("meta"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    with pytest.raises(ConfigError, match="bf16 on Tesla T4, which has no bfloat16 support"):
        check_precision("bf16", torch.device("cuda"))


def test_bf16_on_a_gpu_without_it_is_refused_by_the_cli_before_data_loads(
    workdir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    monkeypatch.setattr(precision_module.torch.amp, "is_autocast_available", lambda t: True)
    proc = cli("train", "trainer.precision=bf16", "trainer.device=cuda", "data.path=nowhere",
               cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "trainer.precision=bf16 on Tesla T4" in proc.stderr
    assert "nowhere" not in proc.stderr  # refused before the data was looked for


def test_an_unknown_precision_is_refused(workdir) -> None:
    proc = cli("train", "trainer.precision=fp8", cwd=workdir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "trainer.precision must be 32, bf16 or 16-mixed, not 'fp8'" in proc.stderr


def close_metrics(bf16: dict, fp32: dict, tolerance: float) -> None:
    """The same metrics, each within ``tolerance`` of fp32's, absolute or relative (not equal:
    bf16 rounds; relative for unbounded metrics such as novelty, in bits, about 5)."""
    assert bf16.keys() == fp32.keys()
    for key, value in fp32.items():
        if value is not None:
            assert bf16[key] == pytest.approx(value, abs=tolerance, rel=tolerance), key


# Census twice through the CLI in process (fp32, bf16): ~15 s.
@pytest.mark.slow
def test_bf16_census_run_through_the_cli(workdir) -> None:
    cli("train", *TINY, "weighting=pcgrad", "hydra.run.dir=fp32", cwd=workdir)
    cli("train", *TINY, "weighting=pcgrad", "trainer.precision=bf16", "hydra.run.dir=bf16",
        cwd=workdir)  # fmt: skip
    s = summary(workdir / "bf16")
    assert s["status"] == "completed" and s["precision"] == "bf16" and s["skipped_steps"] == 0
    assert summary(workdir / "fp32")["precision"] == "32"
    assert metric_values(s) != metric_values(summary(workdir / "fp32"))  # it ran in bf16
    close_metrics(metric_values(s), metric_values(summary(workdir / "fp32")), 0.02)


# MovieLens-100K with SASRec twice (fp32, bf16): ~30 s.
@pytest.mark.slow
def test_bf16_movielens_sasrec_run_through_the_cli(workdir) -> None:
    args = ["experiment=ml100k_mtl", "history=sasrec", *ml100k(), "trainer.max_epochs=1",
            "trainer.max_steps_per_epoch=10"]  # fmt: skip
    cli("train", *args, "hydra.run.dir=fp32", cwd=workdir)
    cli("train", *args, "trainer.precision=bf16", "hydra.run.dir=bf16", cwd=workdir)
    s = summary(workdir / "bf16")
    assert s["status"] == "completed" and s["precision"] == "bf16"
    close_metrics(metric_values(s), metric_values(summary(workdir / "fp32")), 0.02)
