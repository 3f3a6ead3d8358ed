"""Hand-written twins of the field-aware expert banks (``encoder.expert=cnn | self_attention``),
for benchmarks/throughput.py: ``n`` experts over the ``[B, fields, dim]`` matrix of the embedded
features, batched the way a careful engineer writes them (a grouped convolution; attention with an
expert axis and one ``scaled_dot_product_attention`` call). Each maps the flat input ``[B, D]`` to
``[B, n, out]``; the benchmark checks the parameter count equals mtfw's model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Fields(nn.Module):
    """``[B, F*d + N]`` -> ``[B, F + N, d]``: a numeric value times its own vector, plus a bias."""

    def __init__(self, n_fields: int, dim: int, n_num: int):
        super().__init__()
        self.f, self.d = n_fields, dim
        self.vectors = nn.Parameter(torch.randn(n_num, dim) * 0.05)
        self.bias = nn.Parameter(torch.zeros(n_num, dim))

    def forward(self, x: Tensor) -> Tensor:
        cat = x[:, : self.f * self.d].view(len(x), self.f, self.d)
        return torch.cat([cat, x[:, self.f * self.d :, None] * self.vectors + self.bias], 1)


class BareCNNBank(nn.Module):
    """n CNN experts: the first layer one convolution with n * c output channels, later layers
    grouped (groups=n), max+mean pooling over fields, one batched projection."""

    def __init__(self, n, n_fields, dim, n_num, channels: list[int], k: int, out: int):
        super().__init__()
        self.fields, self.n = Fields(n_fields, dim, n_num), n
        convs, width = [nn.Conv1d(dim, n * channels[0], k, padding=k // 2)], channels[0]
        for c in channels[1:]:
            convs.append(nn.Conv1d(n * width, n * c, k, padding=k // 2, groups=n))
            width = c
        self.convs = nn.ModuleList(convs)
        self.w = nn.Parameter(torch.randn(n, 2 * width, out) / (2 * width) ** 0.5)
        self.b = nn.Parameter(torch.zeros(n, out))

    def forward(self, x: Tensor) -> Tensor:
        h = self.fields(x).transpose(1, 2)  # [B, d, fields]
        for conv in self.convs:
            h = torch.relu(conv(h))
        h = h.view(len(x), self.n, -1, h.shape[-1])
        pooled = torch.cat([h.amax(3), h.mean(3)], 2)  # [B, n, 2c]
        return torch.relu(torch.einsum("bnc,nco->bno", pooled, self.w) + self.b)


class BareAttentionBank(nn.Module):
    """n AutoInt experts: input projection for all experts in one matmul, per layer batched
    q/k/v and output projections with residual + ReLU, a batched flattening projection."""

    def __init__(self, n, n_fields, dim, n_num, heads: int, layers: int, a: int, out: int):
        super().__init__()
        self.fields, self.n, self.heads, self.a = Fields(n_fields, dim, n_num), n, heads, a
        f = n_fields + n_num
        self.inp = nn.Linear(dim, n * a)
        self.qkv = nn.ParameterList(nn.Parameter(torch.randn(n, a, 3 * a) / a**0.5)
                                    for _ in range(layers))  # fmt: skip
        self.qkv_b = nn.ParameterList(nn.Parameter(torch.zeros(n, 3 * a)) for _ in range(layers))
        self.o = nn.ParameterList(nn.Parameter(torch.randn(n, a, a) / a**0.5)
                                  for _ in range(layers))  # fmt: skip
        self.o_b = nn.ParameterList(nn.Parameter(torch.zeros(n, a)) for _ in range(layers))
        self.w = nn.Parameter(torch.randn(n, f * a, out) / (f * a) ** 0.5)
        self.b = nn.Parameter(torch.zeros(n, out))

    def forward(self, x: Tensor) -> Tensor:
        fields = self.fields(x)
        b, f, n, a, heads = len(x), fields.shape[1], self.n, self.a, self.heads
        h = self.inp(fields).view(b, f, n, a).permute(2, 0, 1, 3)  # [n, B, F, A]
        for w, wb, o, ob in zip(self.qkv, self.qkv_b, self.o, self.o_b, strict=True):
            qkv = torch.einsum("nbfa,nac->nbfc", h, w) + wb[:, None, None]
            qkv = qkv.view(n, b, f, 3, heads, a // heads).permute(3, 0, 1, 4, 2, 5)
            q, k, v = (t.reshape(n * b, heads, f, a // heads) for t in qkv)
            att = F.scaled_dot_product_attention(q, k, v).view(n, b, heads, f, -1)
            att = att.transpose(2, 3).reshape(n, b, f, a)
            h = torch.relu(h + torch.einsum("nbfa,nac->nbfc", att, o) + ob[:, None, None])
        out = torch.einsum("nbk,nko->bno", h.reshape(n, b, f * a), self.w) + self.b
        return torch.relu(out)
