"""``data=synthetic_ctr``: the Ali-CCP sample's schema, its label rates, click -> purchase, Zipf
ids, rows a deterministic function of the settings (chunked, a prefix of a larger set), the parquet
cache, and training through the CLI."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import cli, shared, summary

from mtfw.data.ctr_generator import SPARSE, CTRGenerator, CTRSettings, zipf_cdf
from mtfw.data.synthetic_ctr import SyntheticCTR
from mtfw.errors import ConfigError

VOCAB = {f: 1000 for f in SPARSE} | {"205": 500_000, "101": 200_000}
SETTINGS = CTRSettings(rows=262_144, seed=0, vocab=VOCAB, zipf=1.05, click_rate=0.06,
                       purchase_rate_clicked=0.25, chunk_rows=262_144)  # fmt: skip
SMALL = ["data=synthetic_ctr", "task=[click,purchase]", "trainer.max_epochs=1",
         "trainer.batch_size=256", "data.rows=3000"]  # fmt: skip


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.concat(list(CTRGenerator(SETTINGS).chunks()), ignore_index=True)


def sample_frame() -> pd.DataFrame:
    folder = shared("samples/ali-ccp")
    return pd.concat(
        [pd.read_csv(folder / f"ali_ccp_{s}_sample.csv") for s in ("train", "val", "test")]
    )


def test_the_columns_are_the_ali_ccp_samples_in_order(frame: pd.DataFrame) -> None:
    sample = sample_frame()
    assert list(frame.columns) == list(sample.columns)
    for column in sample.columns:  # ids whole numbers, dense fields in the sample's range
        assert (frame[column].dtype.kind == "f") == (sample[column].dtype.kind == "f"), column
    dense = [c for c in sample.columns if c.startswith("D")]
    assert frame[dense].min().min() >= 0 and frame[dense].max().max() <= 1


def test_label_rates_are_the_samples_and_purchase_needs_a_click(frame: pd.DataFrame) -> None:
    sample = sample_frame()
    click_rate = sample.click.mean()  # 12 of 200
    bought_after_click = sample.purchase[sample.click == 1].mean()  # 3 of 12
    assert click_rate == pytest.approx(0.06) and bought_after_click == pytest.approx(0.25)
    assert frame.click.mean() == pytest.approx(click_rate, abs=0.003)
    assert frame.purchase[frame.click == 1].mean() == pytest.approx(bought_after_click, abs=0.01)
    assert not ((frame.purchase == 1) & (frame.click == 0)).any()  # never without a click
    assert frame.purchase.mean() == pytest.approx(click_rate * bought_after_click, abs=0.002)


def test_clicks_and_purchases_depend_on_the_fields(frame: pd.DataFrame) -> None:
    """Labels a model can learn: rows whose ids the generator scores high click (and buy after
    a click) far more often than rows it scores low."""
    click_logit, buy_logit = CTRGenerator(SETTINGS).logits({c: frame[c].to_numpy() for c in frame})
    high, low = (
        click_logit > np.quantile(click_logit, 0.8),
        click_logit < np.quantile(click_logit, 0.2),
    )
    assert frame.click[high].mean() > 3 * frame.click[low].mean()
    clicked = frame.click.to_numpy() == 1
    high = buy_logit > np.median(buy_logit[clicked])
    assert frame.purchase[clicked & high].mean() > 1.5 * frame.purchase[clicked & ~high].mean()


def test_ids_follow_a_zipf_law(frame: pd.DataFrame) -> None:
    counts = frame["205"].value_counts()
    harmonic = (np.arange(1, 500_001, dtype=np.float64) ** -1.05).sum()
    assert counts.iloc[0] / len(frame) == pytest.approx(1 / harmonic, rel=0.05)
    assert counts.iloc[0] / counts.iloc[9] == pytest.approx(10**1.05, rel=0.15)
    assert frame["205"].max() < 500_000 and frame["205"].nunique() > 50_000  # a long tail
    assert zipf_cdf(3, 0.0)[:2] == pytest.approx([1 / 3, 2 / 3])


def test_rows_are_a_function_of_the_settings_and_a_prefix_of_more(frame: pd.DataFrame) -> None:
    small = replace(SETTINGS, rows=50_000, chunk_rows=20_000)
    first = pd.concat(list(CTRGenerator(small).chunks()), ignore_index=True)
    again = pd.concat(list(CTRGenerator(small).chunks()), ignore_index=True)
    pd.testing.assert_frame_equal(first, again)
    assert len(first) == 50_000
    more = pd.concat(list(CTRGenerator(replace(small, rows=70_000)).chunks()), ignore_index=True)
    pd.testing.assert_frame_equal(more.iloc[:50_000], first)
    other = pd.concat(list(CTRGenerator(replace(small, seed=1)).chunks()), ignore_index=True)
    assert not first["205"].equals(other["205"])


def test_the_parquet_cache_is_keyed_by_the_settings(tmp_path: Path) -> None:
    def dataset(**kwargs) -> SyntheticCTR:
        return SyntheticCTR(vocab=VOCAB, rows=5000, cache=str(tmp_path), **kwargs)

    path = dataset().generate()
    written = path.stat().st_mtime_ns
    assert dataset().generate() == path and path.stat().st_mtime_ns == written  # reused
    assert not list(path.parent.glob("*.part*"))
    assert len(pd.read_parquet(path)) == 5000
    assert dataset(seed=1).generate() != path
    assert dataset(zipf=1.2).cache_file() != path


@pytest.mark.parametrize(
    "setting",
    [{"vocab": {**VOCAB, "205": 0}}, {"vocab": {**VOCAB, "9": 3}}, {"click_rate": 1.5},
     {"purchase_rate_clicked": 0.0}, {"min_count": {"x": 2}}, {"hash_buckets": 1}],
)  # fmt: skip
def test_bad_settings_are_refused_before_generating(setting: dict, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        SyntheticCTR(**{"vocab": VOCAB, "cache": str(tmp_path), **setting})
    assert not list(tmp_path.iterdir())  # nothing generated


@pytest.mark.slow  # the real CLI, a few seconds
def test_the_cli_refuses_a_bad_vocabulary_with_exit_2(tmp_path: Path) -> None:
    proc = cli("train", *SMALL, "data.vocab.205=0", f"data.cache={tmp_path}", "hydra.run.dir=bad",
               cwd=tmp_path, check=False)  # fmt: skip
    assert proc.returncode == 2 and "data.vocab.205=0 is out of range" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "bad").exists()
    assert not list(tmp_path.glob("rows*"))  # nothing generated


@pytest.mark.slow  # generates data and trains one epoch through the CLI
def test_trains_through_the_cli_and_records_the_source(tmp_path: Path) -> None:
    cli("train", *SMALL, "encoder=mmoe", f"data.cache={tmp_path / 'cache'}", "hydra.run.dir=run",
        cwd=tmp_path)  # fmt: skip
    result = summary(tmp_path / "run")
    assert result["status"] == "completed"
    assert result["data/source"] == "synthetic_ctr(rows=3000, seed=0)"
    assert result["data/n_train"] == 2400
    assert 0.0 < result["test/click/auc"] < 1.0
