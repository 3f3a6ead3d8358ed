"""Flat tables with id, sequence and timestamp columns: a user's history as a pooled field, and
a split by time (no training on the future)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import cli, summary

from mtfw.data.preprocess import Preprocessor
from mtfw.data.split import SplitSpec
from mtfw.models.embedding import FeatureEmbedding


def test_sequence_tokens_keep_the_last_max_length_with_unseen_and_empty() -> None:
    frame = pd.DataFrame({"h": ["a|b|c", "", "c|d", None, "x|a|b|c|d"]})
    pre = Preprocessor([], [], sequence={"h": {"separator": "|", "max_length": 3}})
    pre.fit(frame.iloc[:3])
    assert pre.tokens == {"h": ["a", "b", "c", "d"]} and pre.sequence_vocab_sizes == [6]
    ids = pre.transform_sequences(frame)[:, 0].tolist()
    # a=2, b=3, c=4, d=5; 0 pads on the left; x (never seen in train) would be 1 but is cut
    assert ids == [[2, 3, 4], [0, 0, 0], [0, 4, 5], [0, 0, 0], [3, 4, 5]]
    restored = Preprocessor.from_dict(pre.to_dict())
    assert torch.equal(restored.transform_sequences(frame), pre.transform_sequences(frame))


def test_a_sequence_field_is_the_mean_of_its_token_embeddings() -> None:
    embedding = FeatureEmbedding([3], 0, dim=4, sequence_vocab_sizes=[6])
    cat = torch.tensor([[1], [2]])
    seq = torch.tensor([[[0, 2, 3]], [[0, 0, 0]]])
    fields = embedding.fields(cat, seq)
    table = embedding.sequences[0].weight
    assert fields.shape == (2, 2, 4) and embedding.out_dim == 8
    assert torch.allclose(fields[0, 1], (table[2] + table[3]) / 2)
    assert torch.equal(fields[1, 1], torch.zeros(4))  # an empty history


def test_split_by_time_puts_the_newest_rows_in_test() -> None:
    times = np.array([5, 1, 9, 3, 7, 2, 8, 4, 6, 0])
    parts = SplitSpec(val=0.2, test=0.2, by="time").indices(10, times=times)
    assert sorted(times[parts["test"]]) == [8, 9] and sorted(times[parts["val"]]) == [6, 7]
    assert times[parts["train"]].max() < 6
    with pytest.raises(Exception, match="needs a timestamp column"):
        SplitSpec(by="time").indices(10)


def test_tabular_file_with_ids_history_and_timestamp_trains(workdir: Path) -> None:
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({
        "user_id": rng.integers(0, 50, n), "item_id": rng.integers(0, 80, n),
        "hist": ["|".join(map(str, rng.integers(0, 80, rng.integers(0, 6)))) for _ in range(n)],
        "ts": rng.permutation(n), "price": rng.random(n), "click": rng.integers(0, 2, n),
    })  # fmt: skip
    frame.to_csv(workdir / "log.csv", index=False)
    data = f"data.path={workdir / 'log.csv'}"
    budget = ["trainer.max_epochs=1", "trainer.batch_size=64"]
    cli("train", "data=tabular_example", data, "task=[click]", *budget, "hydra.run.dir=run",
        cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["status"] == "completed" and s["data/n_test"] == 60
    assert 0 <= s["test/click/auc"] <= 1
