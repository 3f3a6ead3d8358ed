"""Training throughput: mtfw's trainer against bare PyTorch loops over the same tensors.

    .venv/bin/python benchmarks/throughput.py [--repeats 3] [--threads 2] [--batch-size 1024]
        [--overrides encoder=shared_bottom ...] [--json results.json]

One process, one data load. Each repeat trains one epoch with ``mtfw.trainer.loop.fit`` (fresh
copies of the initial model, weighting and optimizer), then with two hand-written MMoE models of
the same parameter count: "bare-batched" (all experts as one matmul, all gates as one Linear) and
"bare-loop" (a Python list of expert modules, one gate per task). Contestants alternate, so load on
the machine hits them alike; the medians and ratios are what to read. Target (issue): mtfw at least
0.9x bare-batched.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from torch import Tensor, nn

from mtfw import registry
from mtfw.experiment import Experiment, build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.record import RunRecord
from mtfw.trainer.loop import fit

TARGET = 0.9


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers)


class BareMMoE(nn.Module):
    """Embedding -> MMoE -> towers, written without mtfw's model classes."""

    def __init__(self, vocab: list[int], n_num: int, dim: int, n_experts: int,
                 hidden: list[int], towers: list[list[int]], batched: bool):  # fmt: skip
        super().__init__()
        offsets = torch.tensor([0, *vocab[:-1]]).cumsum(0)[: len(vocab)]
        self.register_buffer("offsets", offsets, persistent=False)
        self.table = nn.Embedding(max(sum(vocab), 1), dim)  # one row even without fields
        d = len(vocab) * dim + n_num
        self.n_experts, self.n_tasks, self.batched = n_experts, len(towers), batched
        if batched:
            sizes = [d, *hidden]
            self.w = nn.ParameterList(nn.Parameter(torch.randn(n_experts, a, b) / a**0.5)
                                      for a, b in itertools.pairwise(sizes))  # fmt: skip
            self.b = nn.ParameterList(nn.Parameter(torch.zeros(n_experts, b)) for b in hidden)
            self.gate = nn.Linear(d, len(towers) * n_experts)
        else:
            self.experts = nn.ModuleList(mlp([d, *hidden]) for _ in range(n_experts))
            self.gates = nn.ModuleList(nn.Linear(d, n_experts) for _ in towers)
        self.towers = nn.ModuleList(
            nn.Sequential(mlp([hidden[-1], *t]), nn.Linear([hidden[-1], *t][-1], 1)) for t in towers
        )

    def forward(self, cat: Tensor, num: Tensor) -> list[Tensor]:
        x = torch.cat([self.table(cat + self.offsets).flatten(1), num], 1)
        if self.batched:
            w0 = self.w[0]
            h = (x @ w0.transpose(0, 1).reshape(w0.shape[1], -1)).view(len(x), self.n_experts, -1)
            h = torch.relu(h + self.b[0])
            for w, b in zip(self.w[1:], self.b[1:], strict=True):
                h = torch.relu(torch.bmm(h.transpose(0, 1), w).transpose(0, 1) + b)
            gates = self.gate(x).view(len(x), self.n_tasks, self.n_experts).softmax(-1)
            mixed = torch.bmm(gates, h).unbind(1)  # [B, T, h] -> T x [B, h]
        else:
            h = torch.stack([expert(x) for expert in self.experts], 1)  # [B, E, h]
            mixed = [(g(x).softmax(-1).unsqueeze(1) @ h).squeeze(1) for g in self.gates]
        return [tower(m).squeeze(-1) for tower, m in zip(self.towers, mixed, strict=True)]


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def bare_model(exp: Experiment, batched: bool) -> BareMMoE:
    """The bare MMoE with the sizes of the composed config (parameter count checked)."""
    cfg, pre, enc = exp.cfg, exp.data.preprocessor, exp.cfg.encoder
    torch.manual_seed(cfg.seed)
    towers = [t.tower for t in exp.tasks.values()]
    model = BareMMoE(pre.vocab_sizes, len(pre.numeric), cfg.embedding.dim, enc.n_experts,
                     list(enc.expert_hidden), towers, batched)  # fmt: skip
    mine, theirs = n_params(model), n_params(exp.model)
    assert mine == theirs, f"bare model has {mine} parameters, mtfw's {theirs}"
    return model


def bare_epoch(exp: Experiment, batched: bool, batch_size: int) -> tuple[int, float, float]:
    """One epoch of a bare loop: shuffled permutation, index slices, Adam, weighted loss sum."""
    cfg, train = exp.cfg, exp.data.splits["train"]
    model = bare_model(exp, batched)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.optim.get("lr", 1e-3))
    losses = [F.binary_cross_entropy_with_logits if cfg.task[n].name == "binary" else F.mse_loss
              for n in exp.tasks]  # fmt: skip
    labels = [train.labels[t.label] for t in exp.tasks.values()]
    weights = [t.weight for t in exp.tasks.values()]
    start = time.perf_counter()
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(cfg.seed))
    for i in range(0, len(train), batch_size):
        idx = order[i : i + batch_size]
        outs = model(train.cat[idx], train.num[idx])
        loss = sum(
            w * fn(o, y[idx]) for w, fn, o, y in zip(weights, losses, outs, labels, strict=True)
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - start
    return len(train), seconds, seconds


def mtfw_epoch(exp: Experiment) -> tuple[int, float, float]:
    """One epoch through ``fit`` on fresh copies of the initial model, weighting and optimizer."""
    model, weighting = copy.deepcopy(exp.model), copy.deepcopy(exp.weighting)
    params = [*model.parameters(), *weighting.parameters()]
    opt = registry.build("optim", exp.cfg.optim, where="optim", params=params)
    run = dataclasses.replace(exp, model=model, weighting=weighting, optimizer=opt)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        state = fit(run, RunRecord(Path(tmp)))
        wall = time.perf_counter() - start
    return state["train_samples"], state["train_seconds"], wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--overrides", nargs="*", default=[], help="Hydra overrides, e.g. encoder.n_experts=4"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    fixed = ["trainer.max_epochs=1", f"trainer.batch_size={args.batch_size}",
             f"trainer.num_threads={args.threads}", "trainer.progress=never"]  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["trainer.device=cpu", *args.overrides, *fixed])
    exp = build_experiment(cfg)
    if exp.trainer.deterministic:  # as mtfw.train.run does; a global setting, so it applies to all
        torch.use_deterministic_algorithms(True, warn_only=True)
    count = n_params(exp.model)
    print(f"data={cfg.data.name} encoder={cfg.encoder.name} tasks={','.join(exp.tasks)} "
          f"train rows={len(exp.data.splits['train'])} batch={args.batch_size} "
          f"threads={args.threads} params={count} torch={torch.__version__} "
          f"load average={os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    contestants = {"mtfw": mtfw_epoch}
    if cfg.encoder.name == "mmoe":
        for name, batched in (("bare-batched", True), ("bare-loop", False)):
            contestants[name] = lambda e, b=batched: bare_epoch(e, b, args.batch_size)
            print(f"{name}: {n_params(bare_model(exp, batched))} parameters, as mtfw's model")
    else:
        print(f"note: no hand-written reference for encoder '{cfg.encoder.name}' (MMoE only)")
    runs: list[dict] = []
    print(f"\n{'repeat':>6}  {'contestant':<13}{'samples/s':>11}{'train s':>9}{'wall s':>9}")
    for r in range(args.repeats):
        for name, epoch in contestants.items():
            samples, seconds, wall = epoch(exp)
            runs.append(dict(repeat=r, contestant=name, samples=samples, train_seconds=seconds,
                             wall_seconds=wall, samples_per_s=samples / seconds))  # fmt: skip
            print(f"{r + 1:>6}  {name:<13}{samples / seconds:>11,.0f}{seconds:>9.2f}{wall:>9.2f}")
    stats = {f: {n: f([x["samples_per_s"] for x in runs if x["contestant"] == n])
                 for n in contestants} for f in (statistics.median, max)}  # fmt: skip
    median, best = stats[statistics.median], stats[max]
    wall = statistics.median(x["wall_seconds"] for x in runs if x["contestant"] == "mtfw")
    ratios = {f"mtfw/{n}": {"median": median["mtfw"] / median[n], "best": best["mtfw"] / best[n]}
              for n in contestants if n != "mtfw"}  # fmt: skip
    print(f"\n{'contestant':<13}{'median/s':>10}{'best/s':>10}  mtfw ratio (median, best)")
    for n in contestants:
        r = ratios.get(f"mtfw/{n}")
        ratio = f"{r['median']:.3f}x  {r['best']:.3f}x" if r else ""
        print(f"{n:<13}{median[n]:>10,.0f}{best[n]:>10,.0f}  {ratio}")
    print(f"mtfw epoch wall time incl. validation + checkpoint: {wall:.2f} s (median); "
          f"load average now {os.getloadavg()[0]:.2f}")  # fmt: skip
    if r := ratios.get("mtfw/bare-batched"):
        verdict = {k: "met" if v >= TARGET else "NOT met" for k, v in r.items()}
        print(f"target mtfw >= {TARGET}x bare-batched: {verdict['median']} on medians, "
              f"{verdict['best']} on best runs")  # fmt: skip
    if args.json:
        config = dict(vars(args), json=str(args.json), encoder=cfg.encoder.name, n_params=count)
        result = dict(config=config, runs=runs, median_samples_per_s=median,
                      best_samples_per_s=best, mtfw_wall_seconds=wall, ratios=ratios)  # fmt: skip
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
