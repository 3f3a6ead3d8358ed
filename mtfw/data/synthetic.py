"""The synthetic two-task regression data of the MMoE paper (Ma et al., KDD 2018, §3.2).

Two orthogonal unit vectors u1, u2; task weights w1 = c*u1 and w2 = c*(p*u1 + sqrt(1-p^2)*u2);
inputs x ~ N(0, I_d); labels y_i = w_i.x + sum_j sin(alpha_j * w_i.x + beta_j) + noise.
The cosine between w1 and w2 is exactly p; the realised Pearson correlation of the labels (which the
non-linear terms move away from p) is measured and recorded with the run.
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
    ):
        super().__init__(split)
        if not -1.0 <= correlation <= 1.0:
            raise ConfigError(f"data.correlation must be in [-1, 1], got {correlation}")
        rng = np.random.default_rng(seed)
        self.alpha = np.asarray(alpha if alpha is not None else rng.normal(size=m), np.float64)
        self.beta = np.asarray(beta if beta is not None else rng.normal(size=m), np.float64)
        if self.alpha.shape != (m,) or self.beta.shape != (m,):
            raise ConfigError(f"data.alpha and data.beta need m={m} values each")
        self.n, self.d, self.c, self.sigma, self.p = n_samples, input_dim, c, sigma, correlation
        self.seed = seed

    def generate(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed + 1)
        # Orthonormal u1, u2 from the QR decomposition of a random d x 2 matrix.
        u, _ = np.linalg.qr(rng.normal(size=(self.d, 2)))
        w1 = self.c * u[:, 0]
        w2 = self.c * (self.p * u[:, 0] + np.sqrt(1 - self.p**2) * u[:, 1])
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
        return Table(
            frame=frame,
            categorical=[],
            numeric=features,
            labels=["y1", "y2"],
            checksum=hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest(),
            source=f"synthetic(p={self.p}, seed={self.seed})",
            info={"label_pearson": pearson, "weight_cosine": self.p},
        )
