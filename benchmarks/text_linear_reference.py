"""A logistic regression per task on a text column alone: how much the words hold, on mtfw's split.

The classical reference beside a text table: for every binary task of a flat data set with a text
column (``experiment=drug_reviews`` by default), one scikit-learn ``LogisticRegression`` is fitted
on the train rows of mtfw's own split (the data set's ``split.indices``: same rows as the runs),
its ``C`` chosen by validation AUC, and scored once on test. Inputs: the TF-IDF of the text
(``TfidfVectorizer(sublinear_tf=True)`` fitted on train) and, with ``--model``, the vectors of a
sentence-transformers model through mtfw's ``pretrained`` encoder (its cache is read when there).
Requires scikit-learn (``pip install 'mtfw[bench]'``).

  python benchmarks/text_linear_reference.py                      # drug_reviews, TF-IDF
  python benchmarks/text_linear_reference.py --model W.whl experiment=drug_reviews --out ref.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from mtfw.data.text.pretrained import Pretrained
from mtfw.data.text.tokenize import clean
from mtfw.registry import build
from mtfw.sweep.compose import compose_config, hydra_context

C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def rows_and_texts(overrides: list[str], column: str | None):
    """The loaded table, mtfw's split of its rows, the text column and the binary labels."""
    with hydra_context():
        cfg = compose_config(overrides).cfg
    data = build("data", OmegaConf.to_container(cfg.data, resolve=True))
    table = data.load()
    names = list(table.text.names) if table.text is not None else []
    column = column or (names[0] if names else None)
    if column is None or column not in table.frame:
        raise SystemExit(f"no text column {column!r}: give --column (data.text has {names})")
    parts = data.split.indices(len(table.frame), table.fixed_splits, None, table.frame)
    labels = {task.label: task.label for task in cfg.task.values() if task.get("name") == "binary"}
    return table.frame, parts, table.frame[column], labels


def fit_score(x, y: np.ndarray, parts: dict, seed: int) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    def masked(split: str) -> np.ndarray:
        rows = parts[split]
        return rows[~np.isnan(y[rows])]

    train, val, test = masked("train"), masked("val"), masked("test")

    def fitted(c: float):
        return LogisticRegression(C=c, max_iter=5000, random_state=seed).fit(x[train], y[train])

    scores = {c: roc_auc_score(y[val], fitted(c).predict_proba(x[val])[:, 1]) for c in C_GRID}
    best = max(scores, key=scores.get)  # ties: the smallest C (first in the grid)
    model = fitted(best)
    test_auc = roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])
    return {"C": best, "val_auc": float(scores[best]), "test_auc": float(test_auc)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a sentence-transformers model (as text encoders take it)")
    parser.add_argument("--column", help="the text column (default: the first of data.text)")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    parser.add_argument("overrides", nargs="*", default=[], help="config overrides (mtfw train)")
    args = parser.parse_args(argv)
    from sklearn.feature_extraction.text import TfidfVectorizer

    overrides = args.overrides or ["experiment=drug_reviews"]
    frame, parts, texts, labels = rows_and_texts(overrides, args.column)
    texts = clean(texts)
    inputs = {"tfidf": TfidfVectorizer(sublinear_tf=True).fit(texts.iloc[parts["train"]])}
    matrices = {"tfidf": inputs["tfidf"].transform(texts)}
    if args.model:
        encoder = Pretrained(model=args.model)
        encoder.check("--model")
        encoder.encode_all(texts)
        rows = encoder.texts.get_indexer(texts)  # -1: an empty text, the zero vector
        vectors = np.vstack([encoder.vectors.numpy(), np.zeros((1, encoder.vectors.shape[1]))])
        matrices["pretrained"] = vectors[rows]
    results = {}
    for name, x in matrices.items():
        for label in labels:
            y = frame[label].to_numpy(dtype="float64")
            results[f"{name}/{label}"] = fit_score(x, y, parts, seed=0)
            r = results[f"{name}/{label}"]
            print(f"{name:11s} {label:16s} C={r['C']:<5g} val auc {r['val_auc']:.4f}  "
                  f"test auc {r['test_auc']:.4f}")  # fmt: skip
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
