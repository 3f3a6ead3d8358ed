"""The synthetic two-task regression data of the MMoE paper (Ma et al., KDD 2018, §3.2).

Two orthogonal unit vectors u1, u2; task weights w1 = c*u1 and w2 = c*(p*u1 + sqrt(1-p^2)*u2);
inputs x ~ N(0, I_d); labels y_i = w_i.x + sum_j sin(alpha_j * w_i.x + beta_j) + noise.
The cosine between w1 and w2 is exactly p; the realised Pearson correlation of the labels (which the
non-linear terms move away from p) is measured and recorded with the run.

With ``fields: {shared: S, per_task: K}`` each task depends on a known subset of the inputs, the
ground truth for attribution methods (``mtfw explain``): ``x0..x{S-1}`` drive both tasks, the next
K only y1, the K after them only y2, and the rest neither. Then ``w_i = c (sqrt(p) s + sqrt(1-p)
o_i)``, with ``s`` and ``o_i`` unit vectors of equal-magnitude, random-sign entries on the shared
and on task i's own features: the cosine of w1 and w2 is still p, the shared part's share.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from mtfw.data.flat import TableDataset
from mtfw.data.table import Table
from mtfw.registry import ConfigError, register


@register("data", "synthetic")
class SyntheticMMoE(TableDataset):
    """MMoE paper §3.2 generator: two regression tasks whose correlation p is set in config."""

    def __init__(
        self,
        n_samples: int = 20000,
        input_dim: int = 100,
        c: float = 1.0,
        m: int = 10,
        alpha: list[float] | None = None,
        beta: list[float] | None = None,
        sigma: float = 0.1,
        correlation: float = 0.5,
        seed: int = 0,
        split: dict | None = None,
        fields: dict | None = None,
    ):
        super().__init__(split)
        if not -1.0 <= correlation <= 1.0:
            raise ConfigError(f"data.correlation must be in [-1, 1], got {correlation}")
        self.fields = None if fields is None else check_fields(dict(fields), input_dim, correlation)
        rng = np.random.default_rng(seed)
        self.alpha = np.asarray(alpha if alpha is not None else rng.normal(size=m), np.float64)
        self.beta = np.asarray(beta if beta is not None else rng.normal(size=m), np.float64)
        if self.alpha.shape != (m,) or self.beta.shape != (m,):
            raise ConfigError(f"data.alpha and data.beta need m={m} values each")
        self.n, self.d, self.c, self.sigma, self.p = n_samples, input_dim, c, sigma, correlation
        self.seed = seed

    def weights(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.fields is not None:
            return field_weights(rng, self.d, self.c, self.p, **self.fields)
        # Orthonormal u1, u2 from the QR decomposition of a random d x 2 matrix.
        u, _ = np.linalg.qr(rng.normal(size=(self.d, 2)))
        w1 = self.c * u[:, 0]
        return w1, self.c * (self.p * u[:, 0] + np.sqrt(1 - self.p**2) * u[:, 1])

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed + 1)
        w1, w2 = self.weights(rng)
        x = rng.normal(size=(self.n, self.d))
        ys = []
        for w in (w1, w2):
            z = x @ w
            nonlinear = np.sin(np.outer(z, self.alpha) + self.beta).sum(axis=1)
            ys.append(z + nonlinear + rng.normal(scale=self.sigma, size=self.n))
        return x.astype(np.float32), np.stack(ys, axis=1).astype(np.float32)

    def load(self) -> Table:
        x, y = self.generate()
        features = [f"x{i}" for i in range(self.d)]
        frame = pd.DataFrame(x, columns=features)
        frame["y1"], frame["y2"] = y[:, 0], y[:, 1]
        pearson = float(np.corrcoef(y[:, 0], y[:, 1])[0, 1])
        shared = self.fields is None or self.fields["shared"] > 0
        info = {"label_pearson": pearson, "weight_cosine": self.p if shared else 0.0}
        if self.fields is not None:  # the ground truth: which inputs each task depends on
            s, k = self.fields["shared"], self.fields["per_task"]
            info["fields/shared"] = features[:s]
            info["fields/y1"], info["fields/y2"] = features[s : s + k], features[s + k : s + 2 * k]
        return Table(
            frame=frame,
            categorical=[],
            numeric=features,
            labels=["y1", "y2"],
            checksum=hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest(),
            source=f"synthetic(p={self.p}, seed={self.seed})",
            info=info,
        )


def check_fields(fields: dict, input_dim: int, correlation: float) -> dict[str, int]:
    """``data.fields``: whole numbers ``shared`` >= 0 and ``per_task`` >= 1 that fit in
    ``input_dim``; with shared fields, ``correlation`` (their share) strictly inside (0, 1)."""
    if set(fields) != {"shared", "per_task"}:
        raise ConfigError(
            f"data.fields={fields}: give exactly {{shared: S, per_task: K}} (the inputs both "
            "tasks depend on, and those each task alone depends on)"
        )
    shared, per_task = fields["shared"], fields["per_task"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (shared, per_task)):
        raise ConfigError(f"data.fields={fields}: shared and per_task are whole numbers")
    if shared < 0 or per_task < 1 or shared + 2 * per_task > input_dim:
        raise ConfigError(
            f"data.fields={fields}: need shared >= 0, per_task >= 1 and shared + 2 x per_task "
            f"<= data.input_dim ({input_dim})"
        )
    if shared and not 0.0 < correlation < 1.0:
        raise ConfigError(
            f"data.correlation={correlation} with data.fields: the correlation is the shared "
            "inputs' share of each task's weights and must lie strictly between 0 and 1"
        )
    return {"shared": shared, "per_task": per_task}


def field_weights(
    rng: np.random.Generator, d: int, c: float, p: float, shared: int, per_task: int
) -> tuple[np.ndarray, np.ndarray]:
    """w1, w2 on known supports: the first ``shared`` inputs (weight share p), then each task's
    own ``per_task`` inputs; equal magnitudes within each part, random signs."""

    def part(start: int, size: int) -> np.ndarray:
        w = np.zeros(d)
        w[start : start + size] = rng.choice([-1.0, 1.0], size=size) / np.sqrt(size)
        return w

    common = part(0, shared) if shared else np.zeros(d)
    a, b = (np.sqrt(p), np.sqrt(1 - p)) if shared else (0.0, 1.0)
    own = [part(shared + i * per_task, per_task) for i in range(2)]
    return c * (a * common + b * own[0]), c * (a * common + b * own[1])
