"""Classical recommenders against scores worked out by hand on the tiny dataset
(users u1..u4 = rows 1..4, items i1..i6 = indices 1..6; see recsys_support.tiny_frames)."""

from __future__ import annotations

import math

import pytest
import torch
from recsys_support import prepare_tiny

from mtfw import registry
from mtfw.metrics.ranking import top_k

# Training interactions: u1 {1,2,3,4}, u2 {1}, u3 {2,4}, u4 {2,4}.


@pytest.fixture(scope="module")
def data():
    return prepare_tiny(window=None, labels=())


def fitted(name: str, data, **params):
    baseline = registry.build("baseline", {"name": name, **params}, seed=0, task_names=["ranking"])
    baseline.fit(data)
    return baseline


def scores_of(baseline, data, rows: slice):
    """The baseline's evaluation output for the validation users ``rows`` (u1, u2, u4)."""
    return baseline.eval_outputs(data.splits["val"].take(rows))["ranking"]


def ranking(baseline, data, row: int) -> list[int]:
    val = data.splits["val"]
    batch = val.take(slice(0, len(val)))
    scores = baseline.eval_outputs(batch)["ranking"]
    return top_k(scores, batch.inputs.known, 6)[row].tolist()


def test_popularity_ranks_by_training_count_ties_by_index(data) -> None:
    # counts: i1 2, i2 3, i3 1, i4 3, i5 0, i6 0; u2 knows i1.
    assert ranking(fitted("popularity", data), data, 1)[:5] == [2, 4, 3, 5, 6]


def test_itemcf_scores_are_summed_cosine_similarities(data) -> None:
    # u2 knows i1 = users (u1, u2): cos(i1, i2) = cos(i1, i4) = 1/sqrt(6), cos(i1, i3) = 1/sqrt(2).
    scores = scores_of(fitted("itemcf", data), data, slice(1, 2))[0]
    expected = [0.0, 0.0, 1 / math.sqrt(6), 1 / math.sqrt(2), 1 / math.sqrt(6), 0.0, 0.0]
    assert scores.tolist() == pytest.approx(expected, abs=1e-6)
    # With one neighbour per item, i1 keeps only i3 (its most similar item).
    scores = scores_of(fitted("itemcf", data, neighbours=1), data, slice(1, 2))[0]
    assert scores.tolist() == pytest.approx([0, 0, 0, 1 / math.sqrt(2), 0, 0, 0], abs=1e-6)


def test_usercf_sums_the_similarity_of_neighbours_who_have_the_item(data) -> None:
    # u4 knows {i2, i4}: cos with u1 = 2 / (sqrt(2) * 2), with u3 = 1, with u2 = 0.
    scores = scores_of(fitted("usercf", data), data, slice(2, 3))[0]
    c1 = 2 / (math.sqrt(2) * 2)
    assert scores.tolist() == pytest.approx([0, c1, c1 + 1, c1, c1 + 1, 0, 0], abs=1e-6)
    nearest = scores_of(fitted("usercf", data, neighbours=1), data, slice(2, 3))[0]
    assert nearest.tolist() == pytest.approx([0, 0, 1, 0, 1, 0, 0], abs=1e-6)


def test_content_profile_prefers_items_like_the_users_items(data) -> None:
    baseline = fitted("content", data)
    scores = scores_of(baseline, data, slice(1, 2))[0]  # u2 knows i1 (genre A)
    features = baseline.features
    profile = features[1]
    expected = torch.nn.functional.cosine_similarity(profile[None], features, dim=1)
    assert scores.tolist() == pytest.approx(expected.tolist(), abs=1e-6)


def test_bpr_mf_learns_to_rank_training_items_above_unseen_ones(data) -> None:
    baseline = fitted("bpr_mf", data, epochs=60, dim=8, lr=0.05, patience=100, batch_size=4)
    train = data.splits["train"]
    scores = baseline.user_factors @ baseline.item_factors.T + baseline.item_bias
    positive = scores[train.uid, train.item].mean()
    assert positive > scores[1:, 5:].mean() + 0.5  # i5, i6: nobody trained on them
    n_users, n_items = baseline.matrix.shape  # the factors count as the run's parameters
    assert sum(p.numel() for p in baseline.parameters()) == (n_users + n_items) * 8 + n_items
    reloaded = registry.build(
        "baseline", {"name": "bpr_mf", "dim": 8}, seed=1, task_names=["ranking"]
    )
    reloaded.load_state(baseline.state())  # as from baseline.pt
    assert torch.equal(
        scores_of(reloaded, data, slice(0, 3)), scores_of(baseline, data, slice(0, 3))
    )


def test_a_failing_baseline_leaves_a_failed_summary(tmp_path, monkeypatch) -> None:
    """The run record says what happened, as for the neural runs."""
    import json

    from hydra import compose, initialize_config_dir
    from recsys_support import ml100k

    from mtfw.baselines.popularity import Popularity
    from mtfw.preflight import CONF_DIR
    from mtfw.train import run

    def broken(self, data, validate=None):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(Popularity, "fit", broken)
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["experiment=ml100k_popularity", *ml100k()])
    with pytest.raises(RuntimeError):
        run(cfg, tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and "out of memory" in summary["error"]
