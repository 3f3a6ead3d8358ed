"""Training interactions/s of mtfw with a history encoder against a bare all-positions SASRec.

    .venv/bin/python benchmarks/sasrec_twin.py [--root DIR] [--repeats 3] [--threads 2]
        [--lengths 50] [--histories sasrec] [--steps N] [--overrides ...]
    .venv/bin/python benchmarks/sasrec_twin.py --lengths 25 50 100 200 --histories sasrec mean

For each ``data.history_length`` L and history encoder, one epoch (or ``--steps`` batches) of
``experiment=ml100k_mtl history=<h>`` through ``mtfw.trainer.loop.fit`` (samples/s:
``train_samples / train_seconds``, validation excluded), alternating in one process with the bare
twin: SASRec as its paper trains it, written here in plain PyTorch with mtfw's sizes (d =
``embedding.dim``, ``blocks`` pre-norm blocks, ``heads`` heads, window L, dropout, Adam at the same
lr), on each user's training sequence cut into non-overlapping windows of L where every position
is a target (the next item) against ``negatives`` uniform negatives, BCE; ``batch_size //
L`` windows per step, so a step holds about as many targets as mtfw's. Interactions/s counts
targets, per wall second (medians over the alternating runs) and per CPU second of the process
(mtfw: the fit without its validation; meaningful with ``--threads 1`` on a busy machine). The
twin has no user features, experts or interest task: it is the floor cost of the history part.
Run it on the code before a change and after (same command) to compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from torch import nn

from mtfw.experiment import build_experiment
from mtfw.preflight import CONF_DIR
from mtfw.record import RunRecord
from mtfw.trainer.loop import fit


class BareSASRec(nn.Module):
    def __init__(self, n_items: int, dim: int, length: int, blocks: int, heads: int, p: float):
        super().__init__()
        self.items = nn.Embedding(n_items, dim, padding_idx=0)
        self.positions = nn.Embedding(length, dim)
        self.dropout = nn.Dropout(p)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, heads, dim, p, batch_first=True, norm_first=True)
            for _ in range(blocks)
        )
        self.norm = nn.LayerNorm(dim)
        self.dim = dim

    def forward(self, window: torch.Tensor) -> torch.Tensor:
        present = (window > 0).unsqueeze(-1).float()
        x = self.items(window) * self.dim**0.5 + self.positions.weight[: window.shape[1]]
        x = self.dropout(x * present)
        mask = nn.Transformer.generate_square_subsequent_mask(window.shape[1])
        for block in self.blocks:
            x = block(x, src_mask=mask, is_causal=True) * present
        return self.norm(x)


def twin_windows(uid: torch.Tensor, item: torch.Tensor, length: int):
    """Inputs ``[0, s_1 .. s_{n-1}]`` and targets ``[s_1 .. s_n]`` of each user, cut from the
    newest item back into windows of ``length`` (right-aligned, 0-padded)."""
    inputs, targets = [], []
    bounds = torch.nonzero(torch.diff(uid, prepend=uid[:1] - 1)).flatten().tolist()
    for lo, hi in zip(bounds, [*bounds[1:], len(uid)], strict=True):
        seq = item[lo:hi]
        x, y = torch.cat([seq.new_zeros(1), seq[:-1]]), seq
        for end in range(len(seq), 0, -length):
            start = max(0, end - length)
            pad = length - (end - start)
            inputs.append(F.pad(x[start:end], (pad, 0)))
            targets.append(F.pad(y[start:end], (pad, 0)))
    return torch.stack(inputs), torch.stack(targets)


def twin_epoch(exp, length: int, steps: int | None, seed: int) -> tuple[int, float, float]:
    cfg, train = exp.cfg, exp.data.splits["train"]
    hist = cfg.history
    n_items = len(exp.data.context.items)
    inputs, targets = twin_windows(train.uid.cpu(), train.item.cpu(), length)
    torch.manual_seed(seed)
    model = BareSASRec(n_items, cfg.embedding.dim, length, hist.get("blocks", 2),
                       hist.get("heads", 1), hist.get("dropout", 0.2))  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=cfg.optim.get("lr", 1e-3))
    negatives, per_step = cfg.task.ranking.negatives, max(cfg.trainer.batch_size // length, 1)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(inputs), generator=generator)
    done, start, cpu = 0, time.perf_counter(), time.process_time()
    for k, lo in enumerate(range(0, len(order), per_step)):
        if steps is not None and k == steps:
            break
        rows = order[lo : lo + per_step]
        x, y = inputs[rows], targets[rows]
        states = model(x)  # [B, L, d]
        neg = torch.randint(1, n_items, (*y.shape, negatives), generator=generator)
        candidates = torch.cat([y.unsqueeze(-1), neg], -1)  # [B, L, 1 + negatives]
        logits = torch.einsum("bld,blcd->blc", states, model.items(candidates))
        label = torch.zeros_like(logits)
        label[..., 0] = 1.0
        valid = (y > 0).float()
        loss = F.binary_cross_entropy_with_logits(logits, label, reduction="none").mean(-1)
        loss = (loss * valid).sum() / valid.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        done += int(valid.sum())
    return done, time.perf_counter() - start, time.process_time() - cpu


def mtfw_epoch(exp) -> tuple[int, float, float]:
    """Interactions, wall seconds of training (mtfw's own count) and CPU seconds of the fit
    without its validation (what a busy machine does not distort, with one thread)."""
    evaluate, spent = exp.evaluate, [0.0]

    def timed(split: str) -> dict:
        start = time.process_time()
        try:
            return evaluate(split)
        finally:
            spent[0] += time.process_time() - start

    exp.evaluate = timed
    start = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        state = fit(exp, RunRecord(Path(tmp)))
    exp.evaluate = evaluate
    return state["train_samples"], state["train_seconds"], time.process_time() - start - spent[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("MTFW_DATA", "/tmp/mtfw-test-data"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lengths", type=int, nargs="+", default=[50])
    parser.add_argument("--histories", nargs="+", default=["sasrec"])
    parser.add_argument("--steps", type=int, default=None, help="batches per epoch (all: None)")
    parser.add_argument("--overrides", nargs="*", default=[])
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    print(f"load average {os.getloadavg()[0]:.2f}, {args.threads} threads")
    print(f"{'history':8} {'L':>4} {'mtfw/s':>9} {'twin/s':>9} {'ratio':>6} {'mtfw/cpu-s':>9} "
          f"{'twin/cpu-s':>9} {'ratio':>6}  wall runs (mtfw | twin)")  # fmt: skip
    for length in args.lengths:
        for history in args.histories:
            overrides = ["experiment=ml100k_mtl", f"history={history}", f"data.root={args.root}",
                         "data.download=false", f"data.history_length={length}",
                         "trainer.max_epochs=1", "trainer.progress=never", "trainer.patience=null",
                         *([f"trainer.max_steps_per_epoch={args.steps}"] if args.steps else []),
                         *args.overrides]  # fmt: skip
            with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
                cfg = compose("train", overrides=overrides)
            exp = build_experiment(cfg)
            rates: dict[str, list[float]] = {
                k: [] for k in ("ours", "twin", "ours_cpu", "twin_cpu")
            }
            for repeat in range(args.repeats):  # alternating: load hits both alike
                for who, (n, wall, cpu) in (
                    ("ours", mtfw_epoch(exp)),
                    ("twin", twin_epoch(exp, length, args.steps, cfg.seed + repeat)),
                ):
                    rates[who].append(n / wall)
                    rates[f"{who}_cpu"].append(n / cpu)
            a, b, c, d = (statistics.median(rates[k]) for k in rates)
            runs = (
                " ".join(f"{v:.0f}" for v in rates["ours"])
                + " | "
                + " ".join(f"{v:.0f}" for v in rates["twin"])
            )
            print(f"{history:8} {length:>4} {a:>9.0f} {b:>9.0f} {a / b:>6.3f} {c:>9.0f} {d:>9.0f} "
                  f"{c / d:>6.3f}  {runs}", flush=True)  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
