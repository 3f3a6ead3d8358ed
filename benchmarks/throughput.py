"""Training throughput: mtfw's trainer against bare PyTorch loops over the same tensors.

    .venv/bin/python benchmarks/throughput.py [--encoders mmoe ple ...] [--repeats 3]
        [--threads 2] [--batch-size 1024] [--overrides ...] [--json results.json]

For each encoder (default: every registered encoder that runs on census), one epoch of mtfw's
training steps (``mtfw.trainer.loop.train_epoch``: batches, task losses, the weighting's backward,
the optimizer) on fresh copies of the initial model, weighting and optimizer, alternating with
hand-written references of the same parameter count where one exists: "bare-batched" for
shared-bottom, OMoE, MMoE, CGC, PLE and cross-stitch (experts and columns as batched matmuls;
benchmarks/bare_models.py, bare_twins.py), and for MMoE "bare-loop" (a list of expert modules).
One data load per process; contestants alternate so machine load hits them alike.

Two ratios per reference: samples per wall second, and samples per CPU second of this process
(``time.process_time``). With ``--threads 1`` on a busy machine the CPU ratio is the steady one:
other processes' load stretches wall time, not this process's CPU time.
Target (issue 17): mtfw at least 1.0x its bare-batched twin on every encoder.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from bare_field_experts import BareAttentionBank, BareCNNBank
from bare_models import Bank, BareMMoE, BarePLE
from bare_twins import BareCrossStitch, BareOMoE, BareSharedBottom
from hydra import compose, initialize_config_dir
from tqdm import tqdm

from mtfw import registry
from mtfw.experiment import Experiment, build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.trainer.loop import train_epoch

TARGET = 1.0
CENSUS_ENCODERS = ["shared_bottom", "omoe", "mmoe", "cgc", "ple", "cross_stitch", "single_task"]


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def field_bank(exp: Experiment, expert: dict) -> tuple[Callable, int] | None:
    """``bank(n, d, h)`` building the twin of a cnn or self_attention expert bank, and its output
    width; None for other experts."""
    name = expert["name"]
    if name not in ("cnn", "self_attention"):
        return None
    pre, dim = exp.data.preprocessor, exp.cfg.embedding.dim
    spec = {k: p.default for k, p in registry.parameters("expert", name).items()} | expert
    fields = (len(pre.vocab_sizes), dim, len(pre.numeric))
    if name == "cnn":
        ch, k = list(spec["channels"]), spec["kernel_size"]
        return (lambda n, d, h: BareCNNBank(n, *fields, ch, k, h)), spec["out_dim"]
    heads, layers, a = spec["heads"], spec["layers"], spec["attention_dim"]
    return (lambda n, d, h: BareAttentionBank(n, *fields, heads, layers, a, h)), spec["out_dim"]


def bare_model(exp: Experiment, batched: bool) -> torch.nn.Module | None:
    """A hand-written twin of mtfw's model, or None. MLP experts (one layer; a shared bottom of
    any depth): every census encoder but single_task has a batched twin, MMoE a loop one too.
    cnn and self_attention experts: MMoE, CGC and PLE have batched twins."""
    cfg, pre, enc = exp.cfg, exp.data.preprocessor, exp.cfg.encoder
    node = enc.get("expert") or "mlp"  # a name, or a node with a name and settings
    expert = registry.check("expert", node) | {"name": node if isinstance(node, str) else node.name}
    torch.manual_seed(cfg.seed)
    base = (pre.vocab_sizes, len(pre.numeric), cfg.embedding.dim)
    specs = [t.tower for t in exp.tasks.values()]
    field = field_bank(exp, expert)
    if field is not None and batched and enc.name in ("mmoe", "ple", "cgc"):
        bank, h = field
    elif expert["name"] == "mlp" and (enc.name == "shared_bottom" or len(expert["hidden"]) == 1):
        bank, h = Bank, expert.get("hidden", [64])[0]
    else:
        return None
    if enc.name == "mmoe":
        model = BareMMoE(*base, enc.n_experts, h, specs, batched, bank)
    elif not batched:
        return None
    elif enc.name in ("ple", "cgc"):
        model = BarePLE(*base, enc.get("levels", 1), enc.n_specific, enc.n_shared, h, specs, bank)
    elif enc.name == "omoe":
        model = BareOMoE(*base, enc.n_experts, h, specs)
    elif enc.name == "shared_bottom":
        model = BareSharedBottom(*base, list(expert["hidden"]), specs)
    elif enc.name == "cross_stitch":
        model = BareCrossStitch(*base, [h, *enc.hidden], enc.self_weight, specs)
    else:
        return None
    assert n_params(model) == n_params(exp.model), "bare model and mtfw's differ in size"
    return model


def bare_epoch(exp: Experiment, batched: bool, batch_size: int) -> tuple[int, float, float]:
    """One epoch of a bare loop: shuffled permutation, index slices, Adam, weighted loss sum."""
    cfg, train = exp.cfg, exp.data.splits["train"]
    model = bare_model(exp, batched)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.optim.get("lr", 1e-3))
    labels = [train.labels[t.label] for t in exp.tasks.values()]
    weights = [t.weight for t in exp.tasks.values()]
    start, cpu = time.perf_counter(), time.process_time()
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(cfg.seed))
    steps = cfg.trainer.max_steps_per_epoch or len(train)  # as train_epoch: at most this many
    samples = min(len(train), steps * batch_size)
    for i in range(0, samples, batch_size):
        idx = order[i : i + batch_size]
        outs = model(train.cat[idx], train.num[idx])
        loss = sum(
            w * F.binary_cross_entropy_with_logits(o, y[idx])
            for w, o, y in zip(weights, outs, labels, strict=True)
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return samples, time.perf_counter() - start, time.process_time() - cpu


def mtfw_epoch(exp: Experiment) -> tuple[int, float, float]:
    """One epoch of mtfw's training steps (``train_epoch``, what ``fit`` runs between two
    validations) on fresh copies of the initial model, weighting and optimizer."""
    model, weighting = copy.deepcopy(exp.model), copy.deepcopy(exp.weighting)
    params = [*model.parameters(), *weighting.parameters()]
    opt = registry.build("optim", exp.cfg.optim, where="optim", params=params)
    run = dataclasses.replace(exp, model=model, weighting=weighting, optimizer=opt)
    state = {"step": 0, "train_samples": 0}
    model.train()
    with tqdm(disable=True) as bar:
        start, cpu = time.perf_counter(), time.process_time()
        train_epoch(run, 0, state, bar)
    return state["train_samples"], time.perf_counter() - start, time.process_time() - cpu


def bench_encoder(encoder: str, args: argparse.Namespace) -> dict:
    fixed = ["trainer.max_epochs=1", f"trainer.batch_size={args.batch_size}",
             f"trainer.num_threads={args.threads}", "trainer.progress=never"]  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"encoder={encoder}", "trainer.device=cpu",
                                          *args.overrides, *fixed])  # fmt: skip
    exp = build_experiment(cfg)
    contestants = {"mtfw": mtfw_epoch}
    for name, batched in (("bare-batched", True), ("bare-loop", False)):
        if bare_model(exp, batched) is not None:
            contestants[name] = lambda e, b=batched: bare_epoch(e, b, args.batch_size)
    runs = {name: [] for name in contestants}
    cpu_runs = {name: [] for name in contestants}
    for _ in range(args.repeats):
        for name, epoch in contestants.items():
            samples, seconds, cpu_seconds = epoch(exp)
            runs[name].append(samples / seconds)
            cpu_runs[name].append(samples / cpu_seconds)
    # The fastest of the alternating epochs: other processes' load only ever slows one down.
    best = {n: max(v) for n, v in runs.items()}
    cpu = {n: max(v) for n, v in cpu_runs.items()}
    return {
        "encoder": encoder, "n_params": n_params(exp.model), "runs": runs, "best": best,
        "cpu_runs": cpu_runs, "cpu_best": cpu,
        "ratios": {f"mtfw/{n}": best["mtfw"] / m for n, m in best.items() if n != "mtfw"},
        "cpu_ratios": {f"mtfw/{n}": cpu["mtfw"] / m for n, m in cpu.items() if n != "mtfw"},
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoders", nargs="*", default=CENSUS_ENCODERS)
    ap.add_argument("--overrides", nargs="*", default=[], help="Hydra overrides for every run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.use_deterministic_algorithms(True, warn_only=True)  # as mtfw train does by default
    print(f"census, batch {args.batch_size}, {args.threads} threads, torch {torch.__version__}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"\n{'encoder':<14}{'params':>9}{'mtfw/s':>10}{'bare-batched/s':>16}{'wall':>8}"
          f"{'cpu':>8}{'bare-loop/s':>13}{'wall':>8}{'cpu':>8}")  # fmt: skip
    results = []
    for encoder in args.encoders:
        r = bench_encoder(encoder, args)
        results.append(r)
        cells = []
        for name, width in (("bare-batched", 16), ("bare-loop", 13)):
            wall, cpu = (r[k].get(f"mtfw/{name}", 0) for k in ("ratios", "cpu_ratios"))
            cells.append(f"{r['best'].get(name, float('nan')):>{width},.0f}"
                         f"{wall:>7.3f}x{cpu:>7.3f}x")  # fmt: skip
        print(f"{encoder:<14}{r['n_params']:>9,}{r['best']['mtfw']:>10,.0f}{''.join(cells)}")
    print(f"(best of {args.repeats} alternating epochs; ratio = mtfw / reference in samples "
          f"per wall and per CPU second; 0.000x: no reference; load average now "
          f"{os.getloadavg()[0]:.2f})")  # fmt: skip
    for r in results:
        if "mtfw/bare-batched" in r["ratios"]:
            wall, cpu = r["ratios"]["mtfw/bare-batched"], r["cpu_ratios"]["mtfw/bare-batched"]
            # One thread: CPU seconds (other processes' load stretches wall time, not them).
            ok = "met" if (cpu if args.threads == 1 else wall) >= TARGET else "NOT met"
            print(
                f"{r['encoder']}: target mtfw >= {TARGET}x bare-batched {ok} "
                f"(wall {wall:.3f}x, cpu {cpu:.3f}x)"
            )
    if args.json:
        args.json.write_text(json.dumps({"config": vars(args) | {"json": str(args.json)},
                                         "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
