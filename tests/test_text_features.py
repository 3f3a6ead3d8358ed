"""Text columns (issue 14): the tokenizer, the bag_of_words and tfidf encoders fitted on train,
the text field modules' math, and text through the CLI on a flat table and on interaction data
(item titles entering the item side), with the bad inputs refused before any data loads."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import cli, summary

from mtfw.data.text.columns import TextColumns
from mtfw.data.text.encoders import BagOfWords, Tfidf, hashed
from mtfw.data.text.field import TextField
from mtfw.data.text.tokenize import tokens
from mtfw.models.embedding import FeatureEmbedding
from mtfw.models.text_fields import TextColumnEncoder

GOOD, BAD = ["great", "love", "perfect"], ["poor", "broke", "awful"]
FILLER = ["the", "dress", "shoes", "fit", "color", "size", "and", "was"]


def reviews(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """Reviews whose label only their words tell (a few empty), a numeric noise column."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        liked = int(rng.random() < 0.5)
        words = [*rng.choice(FILLER, 6), *rng.choice(GOOD if liked else BAD, 2)]
        rng.shuffle(words)
        text = "" if i % 40 == 0 else " ".join(words).capitalize() + "!"
        rows.append({"review": text, "age": int(rng.integers(18, 70)), "liked": liked,
                     "stars": int(rng.integers(1, 6))})  # fmt: skip
    return pd.DataFrame(rows)


def test_tokens_are_lower_cased_words_without_punctuation() -> None:
    found = tokens(pd.Series(["Great!\nAnd CHEAP, isn't it?", None, "  ", "e-mail 2x"]))
    assert found.groupby(level=0).agg(list).to_dict() == {
        0: ["great", "and", "cheap", "isn't", "it"], 3: ["e", "mail", "2x"]}  # fmt: skip


def test_bag_of_words_keeps_the_first_tokens_and_a_train_vocabulary() -> None:
    train = pd.Series(["b a b c", "a b", "b"])
    bow = BagOfWords(max_tokens=3, vocab_size=2).fit(train)
    assert bow.vocab == ["b", "a"]  # by train frequency, cut at vocab_size
    ids, weights = bow.transform(pd.Series(["c a new b x", "", None]))
    assert ids.tolist() == [[1, 3, 1], [0, 0, 0], [0, 0, 0]]  # first 3 tokens; unseen -> 1
    assert weights.tolist() == [[1, 1, 1], [0, 0, 0], [0, 0, 0]]


def test_tfidf_weights_are_sublinear_tf_times_smoothed_train_idf_l2_normalised() -> None:
    train = pd.Series(["apple apple pear", "pear fig", "fig fig fig"])
    tfidf = Tfidf().fit(train)
    idf = {t: math.log(4 / (1 + df)) + 1 for t, df in {"apple": 1, "pear": 2, "fig": 2}.items()}
    ids, weights = tfidf.transform(pd.Series(["apple apple pear kiwi"]))
    raw = {"apple": (1 + math.log(2)) * idf["apple"], "pear": idf["pear"]}  # kiwi: not in train
    norm = math.sqrt(sum(v * v for v in raw.values()))
    got = {tfidf.vocab[i - 1]: w for i, w in zip(ids[0], weights[0], strict=True) if i}
    assert got == pytest.approx({t: v / norm for t, v in raw.items()}, rel=1e-6)
    hashing = Tfidf(vocabulary="hashing", n_features=8).fit(train)
    h_ids, _ = hashing.transform(pd.Series(["fig"]))
    assert h_ids[0, 0] == hashed(np.array(["fig"]), 8)[0] + 1 and hashing.n_terms == 8


def test_tfidf_matches_scikit_learn() -> None:
    sklearn = pytest.importorskip("sklearn.feature_extraction.text")
    texts = reviews(200)["review"]
    ours = Tfidf(max_terms=20).fit(texts[:150])
    theirs = sklearn.TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
    theirs.fit(texts[:150])
    ids, weights = ours.transform(texts[150:])
    dense = np.zeros((50, len(ours.vocab)))
    rows = np.repeat(np.arange(50), ids.shape[1])
    np.add.at(dense, (rows, ids.ravel() - 1), weights.ravel() * (ids.ravel() > 0))
    expected = theirs.transform(texts[150:]).toarray()
    order = [theirs.vocabulary_[t] for t in ours.vocab]
    assert np.allclose(dense, expected[:, order], atol=1e-6)


def test_text_field_modules_pool_as_documented() -> None:
    torch.manual_seed(0)
    ids = torch.tensor([[2, 3, 0], [0, 0, 0]])
    weights = torch.tensor([[0.5, 2.0, 0.0], [0.0, 0.0, 0.0]])
    bag = TextColumnEncoder(TextField("t", "bag", 5), 4)
    out = bag(ids, (ids > 0).float())
    assert torch.allclose(out[0], bag.table.weight[[2, 3]].mean(0))
    assert torch.equal(out[1], bag.empty.detach()) or torch.allclose(out[1], bag.empty)
    linear = TextColumnEncoder(TextField("t", "linear", 5), 4)
    dense = torch.zeros(5)
    dense[2], dense[3] = 0.5, 2.0
    assert torch.allclose(linear(ids, weights)[0], dense @ linear.table.weight + linear.bias)
    attention = TextColumnEncoder(TextField("t", "bag", 5, "attention"), 4)
    tokens_ = attention.table.weight[[2, 3]]
    share = torch.softmax(tokens_ @ attention.query / 2.0, dim=0)
    assert torch.allclose(attention(ids, (ids > 0).float())[0], share @ tokens_, atol=1e-6)
    vectors = torch.randn(3, 6)
    frozen = TextColumnEncoder(TextField("t", "vectors", 3, vectors=vectors), 4)
    index = torch.tensor([[2], [0]])
    out = frozen(index, (index > 0).float())
    assert torch.allclose(out[0], frozen.project(vectors[2])) and torch.allclose(
        out[1], frozen.empty
    )
    assert not any(p is frozen.vectors for p in frozen.parameters())  # frozen: data, not trained


def test_each_text_column_is_one_more_field() -> None:
    text = TextColumns({"r": {"encoder": "bag_of_words", "max_tokens": 4}, "q": "tfidf"})
    frame = pd.DataFrame({"r": ["a b", "c", None], "q": ["x y", "", "y"]})
    text.fit(frame)
    ids, weights = text.transform(frame)
    assert ids.shape == (3, 2, 2) and text.empty == {"r": 1, "q": 1}
    embedding = FeatureEmbedding([3], 1, dim=4, text=text.fields)
    fields = embedding.fields(torch.tensor([[1], [2], [0]]), None, (ids, weights))
    assert fields.shape == (3, 3, 4) and embedding.out_dim == 3 * 4 + 1
    assert torch.allclose(fields[2, 1], embedding.text.columns[0].empty)  # r's missing text


def write_reviews(workdir: Path, frame: pd.DataFrame, text: str) -> list[str]:
    frame.to_csv(workdir / "reviews.csv", index=False)
    (workdir / "conf" / "data").mkdir(parents=True)
    (workdir / "conf" / "task").mkdir()
    (workdir / "conf" / "data" / "reviews.yaml").write_text(
        f"name: tabular\npath: {workdir / 'reviews.csv'}\nnumeric: [age]\ntext:\n{text}\n"
        "labels:\n  liked: liked\nsplit: {by: random, val: 0.15, test: 0.15, seed: 0}\n"
    )
    (workdir / "conf" / "task" / "liked.yaml").write_text(
        "liked:\n  name: binary\n  label: liked\n  metrics: [auc]\n"
    )
    return ["--config-dir", str(workdir / "conf"), "data=reviews", "task=[liked]",
            "trainer.batch_size=64"]  # fmt: skip


@pytest.mark.slow  # trains 6 epochs per encoder to show the words alone carry the label
@pytest.mark.parametrize("encoder", ["tfidf", "bag_of_words", "bag_of_words, pooling: attention"])
def test_a_text_column_alone_predicts_the_label_through_the_cli(workdir: Path, encoder) -> None:
    args = write_reviews(workdir, reviews(), f"  review: {{encoder: {encoder}}}")
    proc = cli("train", *args, "trainer.max_epochs=6", "optim.lr=0.01", "hydra.run.dir=run",
               cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["test/liked/auc"] > 0.9, s["test/liked/auc"]  # age is noise: the words tell
    assert (
        s["data/text/review/encoder"] == encoder.split(",")[0] and s["data/text/review/empty"] == 20
    )
    assert "texts empty or missing" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("  reviw: {encoder: tfidf}", "no column 'reviw'. Did you mean 'review'?"),
        ("  stars: {encoder: tfidf}", "holds int64 values, not text"),
        ("  age: {encoder: tfidf}", "listed under both numeric and text"),
        ("  review: {encoder: tfdf}", "unknown text 'tfdf'"),
        ("  review: {max_tokens: 3}", "missing 'encoder:'"),
        ("  review: {encoder: bag_of_words, max_token: 3}", "Did you mean 'max_tokens'?"),
        ("  review: {encoder: bag_of_words, max_tokens: 0}", "max_tokens=0 is out of range"),
        ("  review: {encoder: pretrained, model: /nowhere/model}", "does not exist"),
        ("  review: {encoder: pretrained, model: no-such-model}", "mtfw never downloads"),
    ],
)
def test_bad_text_declarations_are_one_paragraph_with_exit_2(workdir: Path, text, said) -> None:
    args = write_reviews(workdir, reviews(50), text)
    proc = cli("train", *args, "trainer.max_epochs=1", "hydra.run.dir=run", cwd=workdir,
               check=False)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert said in proc.stderr and "Traceback" not in proc.stderr


def test_the_pretrained_encoder_without_the_extra_names_the_pip_command(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec

    def find_spec(name: str, *args):
        return None if name == "sentence_transformers" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    args = write_reviews(workdir, reviews(50), "  review: {encoder: pretrained, model: x}")
    proc = cli("train", *args, cwd=workdir, check=False)
    assert proc.returncode == 2 and "pip install 'mtfw[text]'" in proc.stderr


FIRST, SECOND = ("Toy", "Golden", "Four", "Get", "Red", "Blue"), ("Story", "Eye", "Cat", "Rooms")
WORDS = [(a, b) for a in FIRST for b in SECOND]  # 24 titled items and one without a title
ITEMS = ["", *(f"{a} {b} ({1990 + i % 9})" for i, (a, b) in enumerate(WORDS))]


def test_item_titles_enter_the_item_side_of_interaction_data(workdir: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [(f"u{u}", f"i{i}", int(t)) for u in range(30) for t, i in
            enumerate(rng.choice(len(ITEMS), 8, replace=False))]  # fmt: skip
    pd.DataFrame(rows, columns=["user", "item", "ts"]).to_csv(workdir / "inter.csv", index=False)
    items = pd.DataFrame({"item": [f"i{i}" for i in range(len(ITEMS))], "title": ITEMS})
    items.to_csv(workdir / "items.csv", index=False)
    (workdir / "conf" / "data").mkdir(parents=True)
    (workdir / "conf" / "data" / "shop.yaml").write_text(
        f"name: interactions\ninteractions: {{path: {workdir / 'inter.csv'}, user: user, item: "
        f"item, timestamp: ts}}\nitems: {{path: {workdir / 'items.csv'}, id: item, text: "
        "{title: {encoder: bag_of_words}}}\nhistory_length: 3\n"
    )
    cli("train", "--config-dir", str(workdir / "conf"), "data=shop", "task=[ranking]",
        "trainer.monitor=val/ranking/ndcg@10", "trainer.max_epochs=1", "hydra.run.dir=run",
        cwd=workdir)  # fmt: skip
    s = summary(workdir / "run")
    assert s["data/text/items/title/encoder"] == "bag_of_words"
    assert s["data/text/items/title/empty"] == 1  # the item without a title
    top = cli("recommend", "run", "users=u1,u2", "k=3", "out=top.csv", cwd=workdir)
    assert top.returncode == 0 and len(pd.read_csv(workdir / "top.csv")) == 6


def test_item_text_changes_the_item_vector_without_a_trained_id() -> None:
    from recsys_support import tiny_frames

    from mtfw.data import DataNeeds
    from mtfw.data.interactions.prepare import prepare_interactions
    from mtfw.data.split import SplitSpec
    from mtfw.models.items import ItemEmbedding

    frames = tiny_frames()
    frames.items["year"] = 1990.0  # the items differ by their title only
    frames.items["title"] = ["red shoes", "blue dress", "red dress", None, "Red shoes!", "red"]
    text = {"items": TextColumns({"title": {"encoder": "bag_of_words"}}, "data.items.text")}
    data = prepare_interactions(frames, SplitSpec(by="time"), DataNeeds(labels={}), 3, True, text)
    torch.manual_seed(0)
    items = ItemEmbedding(data.context.items, data.context.item_inputs, 4)
    with torch.no_grad():
        items.ids.weight.zero_()  # as the id rows of items never seen in training
    vectors = items.all()
    assert torch.allclose(vectors[1], vectors[5])  # the same words: the same vector
    assert not torch.allclose(vectors[1], vectors[6]) and not torch.allclose(vectors[1], vectors[4])
    assert torch.equal(vectors[0], torch.zeros(4))  # padding stays 0
    assert data.info["data/text/items/title/empty"] == 1


def test_mtfw_list_text_names_the_three_encoders(workdir: Path) -> None:
    out = cli("list", "text", cwd=workdir).stdout
    assert all(name in out for name in ("bag_of_words", "tfidf", "pretrained"))
    assert "max_tokens=64" in out and "vocabulary='fitted'" in out


def test_user_text_is_one_more_user_field_encoded_for_unseen_users_too() -> None:
    from recsys_support import tiny_frames

    from mtfw.data import DataNeeds
    from mtfw.data.interactions.prepare import prepare_interactions
    from mtfw.data.split import SplitSpec

    frames = tiny_frames()
    frames.users["bio"] = ["likes red", "", "likes blue dresses", "red red"]
    text = {"users": TextColumns({"bio": "tfidf"}, "data.users.text")}
    split = SplitSpec(by="cold_start", val=0.25, test=0.25)
    data = prepare_interactions(frames, split, DataNeeds(labels={}), 3, False, text)
    users = data.context.users
    assert data.context.inputs.names[-2:] == ["bio", "age"] and len(data.context.inputs.text) == 1
    ids, weights = users.text
    assert ids.shape[:2] == (5, 1) and weights[0].sum() == 0  # row 0: the user known by features
    assert weights[2].sum() == 0 and data.info["data/text/users/bio/empty"] >= 1  # u2: no bio
    batch = users.inputs(torch.tensor([1, 3]), torch.zeros(2, 3, dtype=torch.long))
    assert torch.equal(batch.text, ids[[1, 3]])
