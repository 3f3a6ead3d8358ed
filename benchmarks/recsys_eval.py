"""Full-catalogue evaluation and training throughput on MovieLens-100K.

    .venv/bin/python benchmarks/recsys_eval.py [--root DIR] [--repeats 3] [--threads 2]
        [--overrides experiment=ml100k_mtl history=sasrec ...]

Builds the ``ml100k_mtl`` experiment (943 users x 1,682 items) and times, alternating in one
process: mtfw's batched evaluation of the test split (``Experiment.evaluate``: user batches
against every item at once) and a reference that scores and ranks one user at a time in a Python
loop (what many recommender scripts do), checking that both give the same NDCG@10; and the
beyond-accuracy metrics of the test lists alone (ild, ild_embedding, novelty, gini, long_tail at
5, 10, 20: batched tensor work over all users' lists), as a share of the batched evaluation; and
the same evaluation with ``candidates.source=union`` (the GAN's scores of every item, both
models' candidate sets and the union ranked by the MTL model, batched), with the generator of
``--gan-run DIR`` (a baseline=cfgan run) or, without one, an untrained generator of the paper's
size (the work is the same). Then one training epoch through ``mtfw.trainer.loop.fit`` for
training samples/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

from mtfw.baselines.cfgan import CFGAN
from mtfw.candidates.gan_source import CandidateMix, build_candidates
from mtfw.candidates.settings import CandidateSettings
from mtfw.experiment import build_experiment
from mtfw.metrics.list_metrics import list_metrics
from mtfw.metrics.ranking import top_k, user_metrics
from mtfw.preflight import CONF_DIR
from mtfw.record import RunRecord
from mtfw.trainer.evaluate import eval_mode
from mtfw.trainer.loop import fit


@torch.no_grad()
def per_user_loop(exp) -> float:
    """NDCG@10 of the test split, one user at a time (the reference)."""
    data, model = exp.data.splits["test"], exp.model
    head = model.heads["ranking"]
    values = []
    with eval_mode(model):
        vectors = model.items.all()
        for row in range(len(data)):
            batch = data.take(slice(row, row + 1))
            rep = model.represent(batch.inputs)["ranking"]
            scores = head.tower(rep) @ vectors.T + head.bias.weight.T + head.offset
            top = top_k(scores, batch.inputs.known, 10)
            values.append(user_metrics(top, batch.labels["next_items"], [10]))
    return float(torch.cat([v["ndcg@10"] for v in values]).mean())


@torch.no_grad()
def list_metrics_seconds(exp) -> float:
    """Seconds of the beyond-accuracy metrics alone, on the test split's top-20 lists."""
    task, context = exp.tasks["ranking"], exp.data.context
    with eval_mode(exp.model):
        parts = [task.collect(exp.model.eval_outputs(b)["ranking"], b)["top"]
                 for b in exp.data.splits["test"].batches(exp.trainer.eval_batch_size)]  # fmt: skip
        vectors = exp.model.item_vectors()
    context = replace(context, item_vectors=vectors)
    start = time.perf_counter()
    list_metrics(torch.cat(parts), context, task.k)
    return time.perf_counter() - start


def union_mix(exp, gan_run: str | None) -> CandidateMix:
    """The union of the MTL model's 5 and the GAN's 50 best items, ranked by the MTL model."""
    settings = CandidateSettings(source="union", gan_run=gan_run, n_mtl=5, n_gan=50)
    if gan_run is not None:
        return build_candidates(exp.cfg, settings, exp.data, ["ranking"])
    generator, _ = CFGAN().networks(len(exp.data.context.items))
    return CandidateMix(settings, generator.eval(), ["ranking"])


def timed_evaluation(exp, candidates: CandidateMix | None) -> float:
    exp.candidates = candidates
    start = time.perf_counter()
    exp.evaluate("test")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("MTFW_DATA", "/tmp/mtfw-test-data"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--overrides", nargs="*", default=[])
    parser.add_argument("--gan-run", default=None, help="a baseline=cfgan run on the same split")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    overrides = ["experiment=ml100k_mtl", f"data.root={args.root}", "data.download=false",
                 "trainer.max_epochs=1", "trainer.progress=never", *args.overrides]  # fmt: skip
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    exp = build_experiment(cfg)
    print(f"load average {os.getloadavg()[0]:.2f}, {args.threads} threads; {' '.join(overrides)}")
    batched, looped, lists, union, mix = [], [], [], [], union_mix(exp, args.gan_run)
    for _ in range(args.repeats):
        union.append(timed_evaluation(exp, mix))
        exp.candidates = None
        lists.append(list_metrics_seconds(exp))
        start = time.perf_counter()
        ndcg = exp.evaluate("test")["test/ranking/ndcg@10"]
        batched.append(time.perf_counter() - start)
        start = time.perf_counter()
        reference = per_user_loop(exp)
        looped.append(time.perf_counter() - start)
        assert abs(ndcg - reference) < 1e-6, (ndcg, reference)
    b, lo = statistics.median(batched), statistics.median(looped)
    print(f"test evaluation, 943 users x 1,682 items, ranking + interest: batched {b:.3f} s, "
          f"per-user loop (ranking only) {lo:.3f} s, loop / batched = {lo / b:.1f}x")  # fmt: skip
    m = statistics.median(lists)
    print(f"beyond-accuracy metrics of the test lists: {m * 1000:.1f} ms, "
          f"{100 * m / b:.1f}% of the batched evaluation")  # fmt: skip
    u = statistics.median(union)
    print(f"test evaluation with candidates.source=union (n_mtl 5, n_gan 50, "
          f"{'the GAN of ' + args.gan_run if args.gan_run else 'an untrained generator'}): "
          f"{u:.3f} s, {u / b:.2f}x the MTL model's own lists")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        state = fit(exp, RunRecord(Path(tmp)))
    print(f"training: {state['train_samples'] / state['train_seconds']:.0f} samples/s "
          f"({state['train_samples']} interactions, {exp.cfg.task.ranking.negatives} negatives "
          f"each), epoch {state['train_seconds']:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
