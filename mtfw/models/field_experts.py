"""Experts over the field embeddings: a CNN (as in CCPM/FGCNN) and self-attention (AutoInt).

Both read the ``[B, fields, dim]`` matrix of the embedded features (numeric features become fields
too), so they serve the first layer of an encoder, where the input is the embedded features.

The ``n`` experts of a bank run together, as MLP experts do: the CNN's layers as grouped
convolutions (expert ``e`` owns channel group ``e``), the attention's projections as batched
matmuls over an expert axis and its heads as one ``scaled_dot_product_attention`` call. Weights
are initialised with the same random draws, in the same order, as ``n`` separate ``nn.Conv1d`` /
``nn.MultiheadAttention`` / ``nn.Linear`` modules, and checkpoints saved with such modules (mtfw
before 2026-12) load into the batched parameters (``stacked_experts.py``).
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mtfw.models.experts import require_fields
from mtfw.models.layout import FieldView, InputLayout
from mtfw.models.mlp import activation as make_activation
from mtfw.models.stacked_experts import LegacyKeys, stacked
from mtfw.registry import ConfigError, register
from mtfw.value_types import Count, Fraction


def field_matrix(view: FieldView, x: Tensor, n: int) -> Tensor:
    """``[B, D]`` (one input for all) -> ``[B, F, d]``; ``[B, n, D]`` -> ``[n, B, F, d]``."""
    if x.dim() == 2:
        return view(x)
    b = x.shape[0]
    return view(x.reshape(b * n, -1)).view(b, n, view.n_fields, -1).transpose(0, 1)


@register("expert", "cnn")
class CNNExperts(nn.Module):
    """1-D convolutions along the field axis, then max- and mean-pooling over fields."""

    def __init__(
        self,
        n: int,
        in_dim: int,
        layout: InputLayout | None,
        channels: list[Count] = (32,),
        kernel_size: Count = 3,
        activation: str = "relu",
        out_dim: Count = 64,
    ):
        super().__init__()
        self.view = FieldView(require_fields(layout, "cnn"))
        self.n, self.out_dim, self.padding = n, out_dim, kernel_size // 2
        widths = list(itertools.pairwise([self.view.layout.dim, *channels]))
        nets = [[nn.Conv1d(a, b, kernel_size, padding=self.padding) for a, b in widths]
                for _ in range(n)]  # fmt: skip
        project = [nn.Linear(2 * widths[-1][1], out_dim) for _ in range(n)]
        # Layer l's weight [n * c_out, c_in, k] is the grouped convolution's (expert-major).
        self.conv_weight = nn.ParameterList(stacked([e[i].weight for e in nets], flat=True)
                                            for i in range(len(widths)))  # fmt: skip
        self.conv_bias = nn.ParameterList(stacked([e[i].bias for e in nets], flat=True)
                                          for i in range(len(widths)))  # fmt: skip
        self.project_weight = stacked([p.weight.T for p in project])  # [n, 2c, out]
        self.project_bias = stacked([p.bias for p in project])  # [n, out]
        self.act = make_activation(activation)
        legacy = {f"conv_weight.{i}": [f"nets.{e}.{2 * i}.weight" for e in range(n)]
                  for i in range(len(widths))}  # fmt: skip
        legacy |= {f"conv_bias.{i}": [f"nets.{e}.{2 * i}.bias" for e in range(n)]
                   for i in range(len(widths))}  # fmt: skip
        legacy["project_weight"] = [f"project.{e}.weight" for e in range(n)]
        legacy["project_bias"] = [f"project.{e}.bias" for e in range(n)]
        flat = {k for k in legacy if k.startswith("conv_")}
        self.register_load_state_dict_pre_hook(LegacyKeys(legacy, flat, {"project_weight"}))

    def forward(self, x: Tensor) -> Tensor:
        fields = field_matrix(self.view, x, self.n)
        b = fields.shape[-3]
        # [B, channels, fields]: shared input, or the experts' inputs as channel groups.
        h = fields.transpose(-1, -2) if x.dim() == 2 else fields.permute(1, 0, 3, 2)
        groups = 1 if x.dim() == 2 else self.n
        h = h.reshape(b, -1, fields.shape[-2])
        for w, bias in zip(self.conv_weight, self.conv_bias, strict=True):
            h = self.act(F.conv1d(h, w, bias, padding=self.padding, groups=groups))
            groups = self.n  # every later layer maps each expert's channels to its own
        h = h.view(b, self.n, -1, h.shape[-1])  # [B, n, c, fields]
        pooled = torch.cat([h.amax(dim=3), h.mean(dim=3)], dim=2).transpose(0, 1)
        out = torch.baddbmm(self.project_bias[:, None], pooled, self.project_weight)
        return self.act(out).transpose(0, 1)  # [B, n, out]


@register("expert", "self_attention")
class SelfAttentionExperts(nn.Module):
    """AutoInt: multi-head self-attention over fields with residual connections, flattened."""

    def __init__(
        self,
        n: int,
        in_dim: int,
        layout: InputLayout | None,
        heads: Count = 2,
        layers: Count = 2,
        attention_dim: Count = 16,
        out_dim: Count = 64,
        dropout: Fraction = 0.0,
    ):
        super().__init__()
        if attention_dim % heads:
            raise ConfigError(f"self_attention: attention_dim={attention_dim} must be a multiple "
                              f"of heads={heads}")  # fmt: skip
        self.view = FieldView(require_fields(layout, "self_attention"))
        self.n, self.out_dim, self.heads, self.dropout = n, out_dim, heads, dropout
        dim, fields = self.view.layout.dim, self.view.n_fields
        inputs = [nn.Linear(dim, attention_dim) for _ in range(n)]
        blocks = [[nn.MultiheadAttention(attention_dim, heads, dropout=dropout, batch_first=True)
                   for _ in range(layers)] for _ in range(n)]  # fmt: skip
        project = [nn.Linear(fields * attention_dim, out_dim) for _ in range(n)]
        self.input_weight = stacked([m.weight.T for m in inputs])  # [n, d, A]
        self.input_bias = stacked([m.bias for m in inputs])
        self.qkv_weight = nn.ParameterList(
            stacked([e[i].in_proj_weight.T for e in blocks]) for i in range(layers)
        )  # fmt: skip  [n, A, 3A]
        self.qkv_bias = nn.ParameterList(stacked([e[i].in_proj_bias for e in blocks])
                                         for i in range(layers))  # fmt: skip
        self.out_weight = nn.ParameterList(stacked([e[i].out_proj.weight.T for e in blocks])
                                           for i in range(layers))  # fmt: skip
        self.out_bias = nn.ParameterList(stacked([e[i].out_proj.bias for e in blocks])
                                         for i in range(layers))  # fmt: skip
        self.project_weight = stacked([m.weight.T for m in project])  # [n, F * A, out]
        self.project_bias = stacked([m.bias for m in project])
        self.register_load_state_dict_pre_hook(self.legacy_keys(n, layers))

    @staticmethod
    def legacy_keys(n: int, layers: int) -> LegacyKeys:
        old = {
            "input_weight": "inputs.{e}.weight",
            "input_bias": "inputs.{e}.bias",
            "project_weight": "project.{e}.weight",
            "project_bias": "project.{e}.bias",
        }
        for i in range(layers):
            old |= {f"qkv_weight.{i}": f"blocks.{{e}}.{i}.in_proj_weight",
                    f"qkv_bias.{i}": f"blocks.{{e}}.{i}.in_proj_bias",
                    f"out_weight.{i}": f"blocks.{{e}}.{i}.out_proj.weight",
                    f"out_bias.{i}": f"blocks.{{e}}.{i}.out_proj.bias"}  # fmt: skip
        keys = {new: [pattern.format(e=e) for e in range(n)] for new, pattern in old.items()}
        return LegacyKeys(keys, transposed={k for k in keys if "weight" in k})

    def forward(self, x: Tensor) -> Tensor:
        fields = field_matrix(self.view, x, self.n)  # [B, F, d] or [n, B, F, d]
        b, f, n, a = fields.shape[-3], fields.shape[-2], self.n, self.input_weight.shape[2]
        if x.dim() == 2:  # one [d, n * A] matmul for every expert's input projection
            w = self.input_weight.permute(1, 0, 2).reshape(fields.shape[-1], n * a)
            h = torch.addmm(self.input_bias.reshape(-1), fields.reshape(b * f, -1), w)
            h = h.view(b * f, n, a).transpose(0, 1).contiguous()  # [n, B * F, A]
        else:
            h = torch.baddbmm(self.input_bias[:, None], fields.reshape(n, b * f, -1),
                              self.input_weight)  # fmt: skip
        hd, p = a // self.heads, self.dropout if self.training else 0.0
        layers = zip(self.qkv_weight, self.qkv_bias, self.out_weight, self.out_bias, strict=True)
        for qkv_w, qkv_b, out_w, out_b in layers:
            qkv = torch.baddbmm(qkv_b[:, None], h, qkv_w)  # [n, B * F, 3A]
            q, k, v = (
                qkv.view(n, b, f, 3, self.heads, hd)
                .permute(3, 0, 1, 4, 2, 5)
                .reshape(3, n * b, self.heads, f, hd)
            )  # each [n * B, heads, F, hd]
            att = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
            att = att.view(n, b, self.heads, f, hd).transpose(2, 3).reshape(n, b * f, a)
            h = torch.relu(h + torch.baddbmm(out_b[:, None], att, out_w))
        out = torch.baddbmm(self.project_bias[:, None], h.view(n, b, f * a), self.project_weight)
        return torch.relu(out).transpose(0, 1)  # [B, n, out]
