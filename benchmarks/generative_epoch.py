"""Training time per epoch of Mult-VAE and CFGAN on MovieLens-100K: mtfw's baselines against bare
PyTorch loops of the same models (written here without mtfw's classes), in one process.

    .venv/bin/python benchmarks/generative_epoch.py [--models mult_vae cfgan] [--repeats 3]
        [--threads 2] [--overrides baseline.g_steps=1 ...]

mtfw: one epoch of the baseline's own ``fit`` (``baseline.epochs=1``, no validation: building
the user matrix, the networks, the epoch, keeping the state). Bare: the same layer sizes,
batches, masks and losses, one epoch. Contestants alternate so machine load hits them alike;
the medians and their ratio (mtfw / bare, seconds; 1.0 = no overhead) are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from torch import nn

from mtfw.data.movielens import fetch_recbole_wheel
from mtfw.experiment import build_experiment
from mtfw.preflight import CONF_DIR


def mlp(sizes: list[int], act: type[nn.Module], last: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers, *([last] if last is not None else []))


def bare_vae_epoch(x: torch.Tensor, b) -> None:
    n = x.shape[1]
    enc = mlp([n, *b.hidden, 2 * b.latent], nn.Tanh)
    dec = mlp([b.latent, *b.hidden[::-1], n], nn.Tanh)
    opt = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=b.lr)
    for rows in torch.randperm(len(x)).split(b.batch_size):
        xb = x[rows]
        h = enc(F.dropout(F.normalize(xb, dim=1), b.dropout))
        mu, logvar = h[:, : b.latent], h[:, b.latent :]
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
        nll = -(torch.log_softmax(dec(z), 1) * xb).sum(1).mean()
        kl = (0.5 * (-logvar + logvar.exp() + mu.pow(2) - 1)).sum(1).mean()
        loss = nll + b.beta_max * kl
        opt.zero_grad()
        loss.backward()
        opt.step()


def sample(x: torch.Tensor, ratio: float) -> torch.Tensor:
    free = x == 0
    count = (free.sum(1) * ratio).floor()
    rank = torch.rand(x.shape).masked_fill(~free, 2.0).argsort(1).argsort(1)
    return (rank < count[:, None]).float()


def bare_cfgan_epoch(x: torch.Tensor, b) -> None:
    n = x.shape[1]
    gen = mlp([n, *b.g_hidden, n], nn.Sigmoid, nn.Sigmoid())
    dis = mlp([2 * n, *b.d_hidden, 1], nn.Sigmoid)
    g_opt = torch.optim.Adam(gen.parameters(), lr=b.g_lr)
    d_opt = torch.optim.Adam(dis.parameters(), lr=b.d_lr)
    shown, zero = x + sample(x, b.pm_ratio), sample(x, b.zr_ratio)
    for _ in range(b.d_steps):
        for rows in torch.randperm(len(x)).split(b.d_batch_size):
            c = x[rows]
            with torch.no_grad():
                fake = gen(c) * shown[rows]
            real_logit, fake_logit = dis(torch.cat([c, c], 1)), dis(torch.cat([c, fake], 1))
            ones, zeros = torch.ones_like(real_logit), torch.zeros_like(fake_logit)
            loss = F.binary_cross_entropy_with_logits(real_logit, ones)
            loss = loss + F.binary_cross_entropy_with_logits(fake_logit, zeros)
            d_opt.zero_grad()
            loss.backward()
            d_opt.step()
    for _ in range(b.g_steps):
        for rows in torch.randperm(len(x)).split(b.g_batch_size):
            c = x[rows]
            out = gen(c)
            logit = dis(torch.cat([c, out * shown[rows]], 1))
            loss = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
            loss = loss + b.zr_coefficient * (out.pow(2) * zero[rows]).sum(1).mean()
            loss = loss + b.g_reg * 0.5 * sum(p.pow(2).sum() for p in gen.parameters())
            g_opt.zero_grad()
            loss.backward()
            g_opt.step()


BARE = {"mult_vae": bare_vae_epoch, "cfgan": bare_cfgan_epoch}


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(exp, name: str, repeats: int) -> dict[str, list[float]]:
    """Seconds of ``repeats`` epochs of mtfw's baseline and of the bare loop, alternating."""
    model, train = exp.model, exp.data.splits["train"]
    x = torch.zeros(len(exp.data.context.users.ids) + 1, len(exp.data.context.items))
    x[train.uid, train.item] = 1.0
    x[:, 0] = 0.0
    x = x[x.sum(1) > 0]  # the users with training items, as the baseline trains on
    times: dict[str, list[float]] = {"mtfw": [], "bare": []}
    for _ in range(repeats):
        times["mtfw"].append(timed(lambda: model.fit(exp.data, None)))
        times["bare"].append(timed(lambda: BARE[name](x, model)))
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=list(BARE), choices=list(BARE))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--overrides", nargs="*", default=[])
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = os.environ.get("MTFW_TEST_ML100K")
    root = Path("/tmp/mtfw-test-data")  # the tests' copy: the recbole wheel, fetched once
    if not data:
        fetch_recbole_wheel(root)
    where = [f"data.path={data}"] if data else [f"data.root={root}", "data.download=false"]
    print(f"threads {args.threads}, load average {os.getloadavg()[0]:.1f}")
    for name in args.models:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("train", overrides=[f"experiment=ml100k_{name}", *where,
                                              "baseline.epochs=1", *args.overrides])  # fmt: skip
        times = alternate(build_experiment(cfg), name, args.repeats)
        mtfw, bare = (statistics.median(times[k]) for k in ("mtfw", "bare"))
        print(f"{name:9s} epoch seconds: mtfw {mtfw:.2f}  bare {bare:.2f}  ratio {mtfw / bare:.2f}"
              f"  (runs: mtfw {[round(t, 2) for t in times['mtfw']]}, "
              f"bare {[round(t, 2) for t in times['bare']]})")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
