"""``mtfw recommend`` for new users and new items with text (issue 14): a user's bio (tfidf) and
an item's title through a pretrained encoder (a tiny model built in the test) are encoded with the
run's saved text state; a title the run never saw is encoded by the model and appended, without
moving the vectors of the run's own texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli

pytest.importorskip("sentence_transformers")
from text_support import tiny_sentence_model

FIRST, SECOND = ("toy", "golden", "four", "get", "red", "blue"), ("story", "eye", "rooms", "dress")
TITLES = [f"{a} {b}" for a in FIRST for b in SECOND]  # 24 items
BIOS = ["love red dress", "great toy story", "", "poor cheap shoes", "blue eye"]


def shop(workdir: Path, model: Path) -> list[str]:
    """30 users with a bio, 24 titled items; the data config and the train overrides."""
    rng = np.random.default_rng(0)
    rows = [(f"u{u}", f"i{i}", int(t)) for u in range(30) for t, i in
            enumerate(rng.choice(len(TITLES), 8, replace=False))]  # fmt: skip
    pd.DataFrame(rows, columns=["user", "item", "ts"]).to_csv(workdir / "inter.csv", index=False)
    items = pd.DataFrame({"item": [f"i{i}" for i in range(len(TITLES))], "title": TITLES})
    items.to_csv(workdir / "items.csv", index=False)
    bios = [BIOS[u % len(BIOS)] for u in range(30)]
    pd.DataFrame({"user": [f"u{u}" for u in range(30)], "bio": bios}).to_csv(
        workdir / "users.csv", index=False
    )
    (workdir / "conf" / "data").mkdir(parents=True)
    (workdir / "conf" / "data" / "shop.yaml").write_text(
        f"name: interactions\ninteractions: {{path: {workdir / 'inter.csv'}, user: user, item: "
        f"item, timestamp: ts}}\nitems: {{path: {workdir / 'items.csv'}, id: item, text: "
        f"{{title: {{encoder: pretrained, model: {model}, max_length: 16}}}}}}\n"
        f"users: {{path: {workdir / 'users.csv'}, id: user, text: {{bio: tfidf}}}}\n"
        "history_length: 3\n"
    )
    return ["--config-dir", str(workdir / "conf"), "data=shop", "task=[ranking]",
            "trainer.monitor=val/ranking/ndcg@10", "trainer.max_epochs=1"]  # fmt: skip


@pytest.mark.slow  # builds a tiny sentence model, trains, then recommends (~15 s)
def test_new_users_and_new_items_with_text_are_encoded_with_the_run_text_state(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MTFW_DATA", str(workdir / "data"))  # the vector cache beside the data
    model = tiny_sentence_model(workdir / "model")
    cli("train", *shop(workdir, model), "hydra.run.dir=run", cwd=workdir)
    users = pd.DataFrame({"id": ["a", "b", "c"], "bio": ["love red dress", "love red dress",
                                                         "awful broke returned"]})  # fmt: skip
    users.to_csv(workdir / "new_users.csv", index=False)
    titles = {
        "n1": "golden dress story",
        "n2": "golden dress story",
        "n3": "awful poor cheap toy story",
        "n4": "red eye",
    }  # n4: a run's title
    pd.DataFrame({"item": list(titles), "title": list(titles.values())}).to_csv(
        workdir / "new_items.csv", index=False
    )
    cli("recommend", "run", "users_file=new_users.csv", "items_file=new_items.csv",
        "only_new=true", "out=new.csv", cwd=workdir)  # fmt: skip
    score = pd.read_csv(workdir / "new.csv").set_index(["user", "item"])["score"]
    assert len(score) == 12
    for user in ("a", "b", "c"):  # unseen titles (n1, n3) encoded by the model (the tiny
        # model reads every word as [UNK]: texts of other lengths differ), not left empty
        assert score[user, "n1"] == pytest.approx(score[user, "n2"], abs=1e-6)
        assert abs(score[user, "n1"] - score[user, "n3"]) > 1e-6
    a, b, c = (score[u].sort_index().to_numpy() for u in ("a", "b", "c"))
    assert a == pytest.approx(b, abs=1e-6)  # the same bio: the same user
    assert np.abs(a - c).max() > 1e-6  # another bio: other scores


def test_texts_added_to_a_pretrained_column_keep_the_vectors_of_the_run(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mtfw.data.text.columns import TextColumns

    monkeypatch.setenv("MTFW_DATA", str(workdir / "data"))
    model = tiny_sentence_model(workdir / "model")
    spec = {"title": {"encoder": "pretrained", "model": str(model), "max_length": 16}}
    run = TextColumns(spec).fit(pd.DataFrame({"title": TITLES[:6]}))
    before = run.fields[0].vectors.clone()
    new = pd.DataFrame({"title": ["blue rooms toy", TITLES[2], None]})
    run.encoders["title"].add_texts(new["title"])
    after, (ids, weights) = run.fields[0].vectors, run.transform(new)
    assert after.shape[0] == before.shape[0] + 1 and (after[: len(before)] == before).all()
    alone = TextColumns(spec).fit(pd.DataFrame({"title": ["blue rooms toy"]})).fields[0].vectors
    assert after[ids[0, 0, 0]] == pytest.approx(alone[1], abs=1e-5)  # as if encoded alone
    assert ids[1, 0, 0] == sorted(TITLES[:6]).index(TITLES[2]) + 1  # a run text: its row
    assert weights[2].sum() == 0  # a missing title: the empty-text vector
