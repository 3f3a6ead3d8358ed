"""Data moving to the device: pinned memory and non-blocking copies to CUDA, nothing on the CPU."""

from __future__ import annotations

from unittest import mock

import torch

from mtfw.data.batch import Inputs
from mtfw.data.columns import Columns
from mtfw.data.transfer import to_device


def test_on_the_cpu_nothing_is_copied() -> None:
    t = torch.arange(6)
    assert to_device(t, torch.device("cpu")) is t
    inputs = Inputs(torch.zeros(3, 2, dtype=torch.long), torch.ones(3, 1))
    moved = inputs.to(torch.device("cpu"))
    assert moved.cat is inputs.cat and moved.num is inputs.num
    split = Columns(inputs.cat, inputs.num, {"y": torch.ones(3)}, {})
    on_cpu = split.to(torch.device("cpu"))
    assert on_cpu.cat is split.cat and on_cpu.labels["y"] is split.labels["y"]


def test_a_cpu_tensor_bound_for_cuda_is_pinned_and_sent_without_blocking() -> None:
    t = mock.MagicMock(spec=torch.Tensor)
    t.device = torch.device("cpu")
    moved = to_device(t, "cuda:0")
    t.pin_memory.assert_called_once_with()
    t.pin_memory.return_value.to.assert_called_once_with(torch.device("cuda:0"), non_blocking=True)
    assert moved is t.pin_memory.return_value.to.return_value
    t.to.assert_not_called()


def test_a_tensor_already_on_a_gpu_is_not_pinned() -> None:
    t = mock.MagicMock(spec=torch.Tensor)
    t.device = torch.device("cuda:0")
    to_device(t, "cuda:0")
    t.pin_memory.assert_not_called()
    t.to.assert_called_once_with(torch.device("cuda:0"))
