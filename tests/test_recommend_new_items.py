"""``mtfw recommend RUN items_file=F [only_new=true]`` (issues 14, 15): items the run never saw,
given by its item feature and text columns, scored from those alone (the unknown id row, bias 0,
the saved text state and VAE item encoder) beside or instead of the catalogue; bad files, ids of
the catalogue and baseline runs refused with exit 2; the same path for new users with text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import cli
from recsys_support import ml100k
from torch import nn

QUICK = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=5", "trainer.num_threads=1"]
TITLES = ["data.text={title: {encoder: tfidf}}"]
FAST_VAE = ["features=vae", "features.vae.epochs=2", "features.vae.hidden=[16]"]
GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western"]  # fmt: skip


def movies(titles: dict[str, str | None], year: float = 1999.0) -> pd.DataFrame:
    """New movies of the same year and genres (Animation, Comedy), differing by title only."""
    frame = pd.DataFrame({"item": list(titles), "title": list(titles.values()), "year": year})
    for genre in GENRES:
        frame[f"genre_{genre}"] = float(genre in ("Animation", "Comedy"))
    return frame


@pytest.fixture(scope="module")
def titled_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MovieLens-100K with tfidf titles and VAE item features, a few steps."""
    where = tmp_path_factory.mktemp("titled")
    cli("train", "experiment=ml100k_mtl", *ml100k(), *TITLES, *FAST_VAE, *QUICK,
        f"hydra.run.dir={where / 'run'}", cwd=where)  # fmt: skip
    return where / "run"


def scores(out: Path) -> pd.DataFrame:
    return pd.read_csv(out, dtype={"user": str, "item": str})


@pytest.mark.slow  # a MovieLens-100K run (tens of seconds), then three recommend calls
def test_new_items_are_scored_from_their_features_and_text_alone(
    titled_run: Path, workdir: Path
) -> None:
    new = workdir / "new.csv"
    titles = {"n1": "Toy Story 2", "n2": "Toy Story 2", "n3": "Star Wars: Return", "n4": None}
    movies(titles).to_csv(new, index=False)
    cli("recommend", str(titled_run), "users=1,2,3", f"items_file={new}", "only_new=true", "k=10",
        "out=only.csv", cwd=workdir)  # fmt: skip
    only = scores(workdir / "only.csv")
    assert set(only["item"]) == set(titles) and (only.groupby("user").size() == 4).all()
    score = only.set_index(["user", "item"])["score"]
    for user in ("1", "2", "3"):
        assert score[user, "n1"] == pytest.approx(score[user, "n2"], abs=1e-6)  # same: same
        assert abs(score[user, "n1"] - score[user, "n3"]) > 1e-5  # another title, another score
        assert abs(score[user, "n1"] - score[user, "n4"]) > 1e-5  # no title: the empty vector
    cli("recommend", str(titled_run), "users=1,2,3", "k=30", "out=old.csv", cwd=workdir)
    cli("recommend", str(titled_run), "users=1,2,3", f"items_file={new}", "k=1700",
        "out=both.csv", cwd=workdir)  # fmt: skip
    old, both = scores(workdir / "old.csv"), scores(workdir / "both.csv")
    catalogue = both[~both["item"].isin(list(titles))].groupby("user").head(30)
    assert catalogue["item"].tolist() == old["item"].tolist()  # the catalogue scores as before
    assert catalogue["score"].to_numpy() == pytest.approx(old["score"].to_numpy(), abs=1e-6)
    beside = both[both["item"].isin(list(titles))].set_index(["user", "item"])["score"]
    assert beside.sort_index().to_numpy() == pytest.approx(score.sort_index().to_numpy(), abs=1e-6)


@pytest.mark.slow  # the MovieLens-100K run of the fixture
@pytest.mark.parametrize(
    ("write", "args", "message"),
    [
        (lambda p: movies({"n1": "A"}).drop(columns=["title", "year"]).to_csv(p, index=False), [],
         "lacks the column(s) year, title"),
        (lambda p: movies({"n1": "A", "50": "Star Wars"}).to_csv(p, index=False), [],
         "1 item id(s) are already in the run's catalogue, e.g. 50"),
        (lambda p: movies({"n1": "A", "n2": "B"}).replace("n2", "n1").to_csv(p, index=False), [],
         "gives the id(s) n1 more than once"),
        (lambda p: p.write_bytes(b"PAR1 not parquet"), [], "cannot read data file"),
        (lambda p: None, [], "no such file"),
        (lambda p: movies({"n1": "A"}).to_csv(p, index=False), ["only_new=yes"],
         "only_new takes true or false"),
    ],
)  # fmt: skip
def test_bad_items_files_are_refused_with_exit_2(
    titled_run: Path, workdir: Path, write, args: list[str], message: str
) -> None:
    path = workdir / ("new.parquet" if message == "cannot read data file" else "new.csv")
    write(path)
    proc = cli("recommend", str(titled_run), "users=1", f"items_file={path}", *args, cwd=workdir,
               check=False)  # fmt: skip
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr[-800:]
    assert "Traceback" not in proc.stderr


def test_only_new_without_an_items_file_is_refused(workdir: Path) -> None:
    proc = cli("recommend", "run", "users=1", "only_new=true", cwd=workdir, check=False)
    assert proc.returncode == 2 and "give that file too" in proc.stderr


@pytest.mark.slow  # fits a popularity baseline on MovieLens-100K
def test_a_baseline_run_cannot_score_new_items(workdir: Path) -> None:
    cli("train", "experiment=ml100k_popularity", *ml100k(), "hydra.run.dir=pop", cwd=workdir)
    movies({"n1": "A"}).to_csv(workdir / "new.csv", index=False)
    proc = cli("recommend", "pop", "users=1", "items_file=new.csv", cwd=workdir, check=False)
    assert proc.returncode == 2 and "baseline=popularity run; a classical" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_appended_items_get_the_vector_of_a_catalogue_item_with_the_same_inputs() -> None:
    """The math: a new item is its features + text through the run's encoders, unknown id, bias
    0; with the id rows zeroed, a catalogue item with the same inputs has the same vector."""
    from recsys_support import tiny_frames

    from mtfw.data import DataNeeds
    from mtfw.data.interactions.prepare import prepare_interactions
    from mtfw.data.split import SplitSpec
    from mtfw.data.text.columns import TextColumns
    from mtfw.models.heads import ItemScoreHead
    from mtfw.models.items import ItemEmbedding
    from mtfw.recommend_items import append_items

    frames = tiny_frames()
    frames.items["title"] = ["red shoes", "blue dress", "red dress", None, "Red shoes!", "red"]
    text = {"items": TextColumns({"title": {"encoder": "tfidf"}}, "data.items.text")}
    data = prepare_interactions(frames, SplitSpec(by="time"), DataNeeds(labels={}), 3, True, text)
    torch.manual_seed(0)
    model = nn.Module()
    model.items = ItemEmbedding(data.context.items, data.context.item_inputs, 4)
    model.head = ItemScoreHead(4, [], "relu", 0.0, 4, len(data.context.items))
    with torch.no_grad():
        model.items.ids.weight.zero_()  # as if no item had trained an id
        model.head.bias.weight.fill_(0.5)
    new = pd.DataFrame({"year": [1991.0, 1993.0], "title": ["blue dress", None]}, index=["a", "b"])
    append_items(model, data.preprocessor.items, new)
    vectors = model.items.all()
    assert vectors.shape[0] == len(data.context.items) + 2
    assert torch.allclose(vectors[7], vectors[2])  # i2: year 1991, "blue dress"
    assert torch.allclose(vectors[8], vectors[4])  # i4: year 1993, no title
    assert model.head.bias.weight[:7].eq(0.5).all() and model.head.bias.weight[7:].eq(0).all()
    assert model.items.id_rows[7:].eq(0).all()


GAN = ["experiment=ml100k_cfgan", "baseline.g_hidden=[32]", "baseline.d_hidden=[16]",
       "baseline.epochs=2", "baseline.eval_every=1", "baseline.g_steps=1", "baseline.d_steps=1",
       "trainer.num_threads=1"]  # fmt: skip


@pytest.mark.slow  # a CFGAN and an MTL run on MovieLens-100K (about 20 s)
def test_with_gan_candidates_new_items_come_from_the_mtl_model_only(workdir: Path) -> None:
    cli("train", *GAN, *ml100k(), "hydra.run.dir=gan", cwd=workdir)
    cli("train", "experiment=ml100k_mtl", *ml100k(), *TITLES, *QUICK, "candidates.source=union",
        f"candidates.gan_run={workdir / 'gan'}", "hydra.run.dir=union", cwd=workdir)  # fmt: skip
    movies({"n1": "Toy Story 2", "n2": "Heat"}).to_csv(workdir / "new.csv", index=False)
    args = ("recommend", "union", "users=1,2", "items_file=new.csv")
    cli(*args, "only_new=true", "out=only.csv", cwd=workdir)
    only = scores(workdir / "only.csv")
    assert len(only) == 4 and set(only["source"]) == {"mtl"}  # the GAN proposes none of them
    cli(*args, "candidates.source=gan", "k=1700", "out=gan.csv", cwd=workdir)
    assert not scores(workdir / "gan.csv")["item"].isin(["n1", "n2"]).any()
