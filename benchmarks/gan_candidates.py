"""MTL alone, the GAN alone and the MTL model re-ranking the union, from finished runs.

    .venv/bin/python benchmarks/gan_candidates.py --gan-run GAN_RUN MTL_RUN [MTL_RUN ...]
        [--grid 0:10,2:50,5:50,5:100] [--split test]

Each MTL run (trained with ``candidates.source=mtl``, so its training and selected epoch do not
depend on the candidates) is rebuilt with its selected weights and evaluated with
``candidates.report=[mtl,gan,union]`` and the GAN run's generator, exactly as a run trained with
those settings evaluates (``tests/test_gan_candidates.py`` checks the keys agree); then the union
for each ``n_mtl:n_gan`` of ``--grid``. Prints markdown tables: mean ± std over the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace
from pathlib import Path

from omegaconf import OmegaConf

from mtfw.recommend_users import load_run
from mtfw.run_files import read_config

COLUMNS = [("P@10", "precision@10"), ("R@10", "recall@10"), ("NDCG@10", "ndcg@10"),
           ("ILD@10", "ild@10"), ("novelty@10", "novelty@10"),
           ("coverage@10", "coverage@10"), ("Gini@10", "gini@10")]  # fmt: skip


def shown(values: list[float]) -> str:
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {statistics.stdev(values):.4f}"


def evaluate_run(run_dir: Path, gan_run: str, grid: list[tuple[int, int]], split: str) -> dict:
    """``{row label: {metric: value}}`` of one MTL run."""
    cfg = read_config(run_dir)
    node = {"source": "mtl", "gan_run": gan_run, "n_mtl": 5, "n_gan": 50,
            "report": ["mtl", "gan", "union"]}  # fmt: skip
    OmegaConf.update(cfg, "candidates", node, force_add=True)
    exp, _ = load_run(cfg, run_dir)
    row = exp.evaluate(split)
    rows = {
        "MTL alone": f"{split}/ranking.mtl/",
        "GAN alone (cfgan)": f"{split}/ranking.gan/",
        "MTL re-ranking the union (n_mtl 5, n_gan 50)": f"{split}/ranking.union/",
    }
    out = {label: {m: row[prefix + m] for _, m in COLUMNS} for label, prefix in rows.items()}
    base = exp.candidates.settings
    for n_mtl, n_gan in grid:
        exp.candidates.settings = replace(base, source="union", n_mtl=n_mtl, n_gan=n_gan,
                                          report=[])  # fmt: skip
        row = exp.evaluate(split)
        label = f"union, n_mtl {n_mtl}, n_gan {n_gan}"
        out[label] = {m: row[f"{split}/ranking/{m}"] for _, m in COLUMNS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--gan-run", required=True)
    parser.add_argument("--grid", default="")
    parser.add_argument("--split", default="test", choices=("val", "test"))
    parser.add_argument("--json", type=Path, help="also write each run's rows here")
    args = parser.parse_args()
    grid = [tuple(int(v) for v in cell.split(":")) for cell in args.grid.split(",") if cell]
    results = [evaluate_run(r, args.gan_run, grid, args.split) for r in args.runs]
    if args.json is not None:
        args.json.write_text(json.dumps(dict(zip(map(str, args.runs), results, strict=True))))
    print(f"{args.split} split, {len(results)} MTL run(s), GAN run {args.gan_run}\n")
    print("| lists | " + " | ".join(c for c, _ in COLUMNS) + " |")
    print("|---|" + "---:|" * len(COLUMNS))
    for label in results[0]:
        cells = [shown([r[label][m] for r in results]) for _, m in COLUMNS]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
