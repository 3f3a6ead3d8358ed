"""Data and embedding tables that grow: MMoE on ``data=synthetic_ctr`` (the Ali-CCP sample's
schema, Zipf ids up to 500k per field), one epoch, one thread, per size, storage and variant.

    nice .venv/bin/python benchmarks/scale.py [--rows 1000000 10000000] [--variants dense sparse
        min_count sparse_min_count disk disk_sparse] [--min-count 5] [--steps N] [--cache DIR]
        [--json results.json]

Each run is the real ``mtfw train`` in a fresh process (``trainer.num_threads=1``, one epoch,
batch 1024); the data of each size is generated first, once, into the cache (its time reported
apart). Reported per run, from its ``summary.json``: parameters, training samples/s (the epoch's
gradient steps only), peak RSS of the process, and the wall time of the whole command
(preprocessing, training, validation and test included). Variants: ``dense`` (Adam on every
row), ``sparse`` (``optim.sparse_embeddings=true``), ``min_count`` (``data.min_count=N``) and both,
in memory; ``disk`` and ``disk_sparse``: the same on ``data.storage=disk`` (the cache under
``--cache``; its build time and size are reported when a run builds it, so run a disk variant
twice to see a reuse). ``--steps N`` caps every epoch at N steps (``trainer.max_steps_per_epoch``),
so samples/s at 50M rows is measured on as many steps as at 1M.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {
    "dense": [],
    "sparse": ["optim.sparse_embeddings=true"],
    "min_count": ["data.min_count={n}"],
    "sparse_min_count": ["optim.sparse_embeddings=true", "data.min_count={n}"],
    "disk": ["data.storage=disk", "data.disk.cache_dir={cache}/columns"],
    "disk_sparse": [
        "data.storage=disk",
        "data.disk.cache_dir={cache}/columns",
        "optim.sparse_embeddings=true",
    ],
}
BASE = ["data=synthetic_ctr", "task=[click,purchase]", "encoder=mmoe", "trainer.max_epochs=1",
        "trainer.num_threads=1", "trainer.progress=never", "trainer.patience=null"]  # fmt: skip


def mtfw(*args: str, cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "mtfw", *args], cwd=cwd, capture_output=True,
                          text=True)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(
            f"mtfw {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
        )
    return time.perf_counter() - start


def generate(rows: int, cache: Path) -> float:
    """Seconds to generate ``rows`` rows into the cache (0 when already there)."""
    import yaml

    from mtfw.data.synthetic_ctr import SyntheticCTR
    from mtfw.preflight import CONF_DIR  # the shipped vocabulary sizes

    vocab = yaml.safe_load((CONF_DIR / "data" / "synthetic_ctr.yaml").read_text())["vocab"]
    dataset = SyntheticCTR(vocab=vocab, rows=rows, cache=str(cache))
    if dataset.cache_file().is_file():
        return 0.0
    start = time.perf_counter()
    dataset.generate()
    return time.perf_counter() - start


def run(rows: int, variant: str, args: argparse.Namespace, work: Path) -> dict:
    overrides = [o.format(n=args.min_count, cache=args.cache) for o in VARIANTS[variant]]
    if args.steps:
        overrides.append(f"trainer.max_steps_per_epoch={args.steps}")
    run_dir = work / f"{rows}-{variant}"
    for n in range(1, 100):  # a variant run twice gets a directory of its own
        if not run_dir.exists():
            break
        run_dir = work / f"{rows}-{variant}-{n}"
    wall = mtfw("train", *BASE, f"data.rows={rows}", f"data.cache={args.cache}", *overrides,
                f"hydra.run.dir={run_dir}", cwd=work)  # fmt: skip
    summary = json.loads((run_dir / "summary.json").read_text())
    return {
        "rows": rows, "variant": variant, "parameters": summary["n_parameters"],
        "samples_per_s": summary["samples_per_second"], "train_s": summary["train_seconds"],
        "peak_rss_gb": summary["peak_rss_bytes"] / 1e9, "wall_s": wall,
        "val_click_auc": summary.get("val/click/auc"),
        "val_purchase_auc": summary.get("val/purchase/auc"),
        "cache_built": summary.get("data/cache_built"),
        "cache_build_s": summary.get("data/cache_build_seconds"),
        "cache_gb": summary.get("data/cache_bytes", 0) / 1e9,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "mtfw-scale")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=None, help="steps per epoch at most")
    args = parser.parse_args()
    results: dict = {"generate_s": {}, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            results["generate_s"][rows] = generate(rows, args.cache)
            print(f"{rows:,} rows generated in {results['generate_s'][rows]:.0f} s", flush=True)
            for variant in args.variants:
                row = run(rows, variant, args, Path(tmp))
                results["runs"].append(row)
                print(f"{rows:>10,} {variant:<17} {row['parameters']:>11,} params "
                      f"{row['samples_per_s']:>9,.0f} samples/s {row['peak_rss_gb']:5.2f} GB "
                      f"{row['wall_s']:6.0f} s wall  val AUC click {row['val_click_auc']:.3f} "
                      f"purchase {row['val_purchase_auc']:.3f}", flush=True)  # fmt: skip
                if row["cache_built"] is not None:
                    print(f"{'':>10} disk cache {'built' if row['cache_built'] else 'reused'}: "
                          f"{row['cache_gb']:.2f} GB, built in {row['cache_build_s']:.0f} s",
                          flush=True)  # fmt: skip
                if args.json:
                    args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
