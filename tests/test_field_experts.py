"""The batched cnn and self_attention expert banks against n separate torch modules: the same
initial weights (same random draws), the same outputs, and checkpoints of the per-module layout
(mtfw before 2026-12) loading into the batched parameters."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mtfw.models.field_experts import CNNExperts, SelfAttentionExperts
from mtfw.models.layout import FieldView, InputLayout

LAYOUT = InputLayout(n_fields=5, dim=8, n_numeric=3)
IN_DIM = 5 * 8 + 3


class LoopCNN(nn.Module):
    """The per-expert formulation: one Conv1d stack and one Linear per expert, in a loop."""

    def __init__(self, n: int, channels: list[int], k: int = 3, out: int = 64):
        super().__init__()
        self.view = FieldView(LAYOUT)
        widths = list(zip([LAYOUT.dim, *channels], channels, strict=False))

        def net() -> nn.Sequential:
            layers = [(nn.Conv1d(a, b, k, padding=k // 2), nn.ReLU()) for a, b in widths]
            return nn.Sequential(*[m for pair in layers for m in pair])

        self.nets = nn.ModuleList(net() for _ in range(n))
        self.project = nn.ModuleList(nn.Linear(2 * channels[-1], out) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for e, (net, project) in enumerate(zip(self.nets, self.project, strict=True)):
            h = net(self.view(x if x.dim() == 2 else x[:, e]).transpose(1, 2))
            outs.append(torch.relu(project(torch.cat([h.amax(2), h.mean(2)], 1))))
        return torch.stack(outs, 1)


class LoopAttention(nn.Module):
    """AutoInt per expert: nn.MultiheadAttention blocks with residual + ReLU, then a Linear."""

    def __init__(self, n: int, heads: int, layers: int, a: int = 16, out: int = 64):
        super().__init__()
        self.view = FieldView(LAYOUT)
        fields = LAYOUT.n_fields + LAYOUT.n_numeric
        self.inputs = nn.ModuleList(nn.Linear(LAYOUT.dim, a) for _ in range(n))
        self.blocks = nn.ModuleList(
            nn.ModuleList(nn.MultiheadAttention(a, heads, batch_first=True) for _ in range(layers))
            for _ in range(n)
        )
        self.project = nn.ModuleList(nn.Linear(fields * a, out) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for e in range(len(self.inputs)):
            h = self.inputs[e](self.view(x if x.dim() == 2 else x[:, e]))
            for attention in self.blocks[e]:
                h = torch.relu(h + attention(h, h, h, need_weights=False)[0])
            outs.append(torch.relu(self.project[e](h.flatten(1))))
        return torch.stack(outs, 1)


CASES = [
    ("cnn-1-layer", lambda: CNNExperts(4, IN_DIM, LAYOUT), lambda: LoopCNN(4, [32])),
    ("cnn-2-layers", lambda: CNNExperts(3, IN_DIM, LAYOUT, channels=[16, 8], kernel_size=5),
     lambda: LoopCNN(3, [16, 8], k=5)),
    ("attention", lambda: SelfAttentionExperts(4, IN_DIM, LAYOUT), lambda: LoopAttention(4, 2, 2)),
    ("attention-3-layers-4-heads",
     lambda: SelfAttentionExperts(2, IN_DIM, LAYOUT, heads=4, layers=3),
     lambda: LoopAttention(2, 4, 3)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "batched", "loop"), CASES, ids=[c[0] for c in CASES])
def test_the_batched_bank_equals_its_experts_one_by_one(name, batched, loop):
    torch.manual_seed(0)
    bank = batched()
    torch.manual_seed(0)
    reference = loop()  # the same draws in the same order: the same initial weights
    assert sum(p.numel() for p in bank.parameters()) == sum(
        p.numel() for p in reference.parameters()
    )
    n = bank.n
    for x in (torch.randn(6, IN_DIM), torch.randn(6, n, IN_DIM)):  # shared, per-expert input
        torch.testing.assert_close(bank(x), reference(x), rtol=1e-5, atol=1e-6)
    # The gradient flows to the same weights: one expert's output depends on its weights only.
    out = bank(torch.randn(6, IN_DIM))
    out[:, 0].sum().backward()
    grads = [p.grad for p in bank.parameters() if p.grad is not None and p.dim() > 1]
    assert grads and all(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize(("name", "batched", "loop"), CASES, ids=[c[0] for c in CASES])
def test_a_checkpoint_of_per_expert_modules_loads_into_the_bank(name, batched, loop):
    torch.manual_seed(1)
    reference = loop()
    torch.manual_seed(2)
    bank = batched()  # other weights: loading must replace every one of them
    bank.load_state_dict(reference.state_dict())
    x = torch.randn(5, bank.n, IN_DIM)
    torch.testing.assert_close(bank(x), reference(x), rtol=1e-5, atol=1e-6)
    bank.load_state_dict(bank.state_dict())  # the bank's own layout loads as it is


def test_a_checkpoint_of_another_shape_is_refused_as_torch_refuses_it():
    saved = LoopCNN(2, [32]).state_dict()
    with pytest.raises(RuntimeError, match=r"size mismatch|Missing key"):
        CNNExperts(3, IN_DIM, LAYOUT).load_state_dict(saved)
