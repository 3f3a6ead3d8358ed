"""``data.storage=disk`` as users run it: the splits memory storage makes (time split: the same
rows and values), any file layout and chunking giving one cache, a second run reusing it, a
changed file or spec rebuilding it with a log line saying why, a damaged cache rebuilt, a full
disk one clear error leaving nothing behind, bad input refused before any data is read, and
training, gauc, resume inside an epoch and torchrun on it."""

from __future__ import annotations

import json
import resource
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import MTFW, cli, metric_values, summary

from mtfw import registry
from mtfw.data.needs import DataNeeds
from mtfw.errors import ConfigError

LABELS = {"click": "click", "buy": {"column": "buy", "where": "click"}}


def click_log(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    price = rng.lognormal(3, 1, n).round(2).astype(object)
    price[rng.random(n) < 0.05] = None
    click = (rng.random(n) < 0.3).astype(int)
    return pd.DataFrame({
        "user_id": rng.integers(0, 300, n), "item_id": rng.zipf(1.5, n) % 5000,
        "city": rng.choice(["paris", "lyon", None, "nice"], n),
        "hist": ["|".join(map(str, rng.integers(0, 40, rng.integers(0, 5)))) for _ in range(n)],
        "ts": rng.integers(0, 500, n),  # ties: the time split must break them as memory does
        "price": price, "click": click, "buy": click * (rng.random(n) < 0.2),
    })  # fmt: skip


def node(path: Path, cache: Path, **extra) -> dict:
    return {"name": "tabular", "path": str(path), "ids": ["user_id", "item_id"],
            "categorical": ["city"], "numeric": ["price"], "log1p": ["price"],
            "missing_indicator": True, "sequence": {"hist": {"max_length": 3}},
            "timestamp": "ts", "labels": LABELS, "split": {"by": "time"},
            "disk": {"cache_dir": str(cache), "chunk_rows": 700}, **extra}  # fmt: skip


NEEDS = DataNeeds(labels={"click": False, "buy": True})


def arrays(split) -> dict[str, np.ndarray]:
    batch = split.take(slice(0, len(split)))
    out = {"cat": batch.inputs.cat, "num": batch.inputs.num, "seq": batch.inputs.seq}
    out |= {f"label:{k}": v for k, v in batch.labels.items()}
    out |= {f"mask:{k}": v for k, v in batch.masks.items()}
    return {k: v.numpy() for k, v in out.items()}


def test_the_time_split_on_disk_holds_memorys_rows_and_values(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    click_log().to_csv(path, index=False)
    memory = registry.build("data", node(path, tmp_path / "c")).prepare(NEEDS)
    disk = registry.build("data", node(path, tmp_path / "c", storage="disk")).prepare(NEEDS)
    for key in ("n_train", "n_val", "n_test", "split_hash_train", "split_hash_val",
                "split_hash_test", "checksum"):  # fmt: skip
        assert disk.info[f"data/{key}"] == memory.info[f"data/{key}"], key
    assert disk.preprocessor.to_dict()["vocab"] == memory.preprocessor.to_dict()["vocab"]
    assert disk.context.inputs == memory.context.inputs
    for name in ("train", "val", "test"):
        mine, theirs = arrays(disk.splits[name]), arrays(memory.splits[name])
        assert set(mine) == set(theirs), name
        for key, values in theirs.items():
            np.testing.assert_allclose(mine[key], values, rtol=1e-6, atol=1e-6, err_msg=key)
    for label, mean in memory.context.label_means.items():
        assert disk.context.label_means[label] == pytest.approx(mean, rel=1e-6)


def test_csv_parquet_and_parquet_parts_in_any_chunking_give_the_same_cache(tmp_path: Path) -> None:
    data = click_log(seed=1)
    data.to_csv(tmp_path / "log.csv", index=False)
    data.to_parquet(tmp_path / "log.parquet")
    (tmp_path / "parts").mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(data)), 4)):
        data.iloc[part].to_parquet(tmp_path / "parts" / f"part-{i:02d}.parquet")
    found = []
    for name, chunk in (("log.csv", 700), ("log.csv", 64), ("log.parquet", 1000), ("parts", 333)):
        spec = node(tmp_path / name, tmp_path / "c", storage="disk", split={"seed": 5})
        spec["disk"]["chunk_rows"] = chunk
        prepared = registry.build("data", spec).prepare(NEEDS)
        found.append({s: arrays(prepared.splits[s]) for s in ("train", "val", "test")})
        assert prepared.info["data/n_val"] == pytest.approx(300, abs=45)  # 10% by hash
    for other in found[1:]:
        for split, values in found[0].items():
            for key, array in values.items():
                np.testing.assert_array_equal(other[split][key], array, err_msg=f"{split} {key}")


def logged(run: Path) -> str:
    return (run / "train.log").read_text()


ARGS = ["data=tabular_example", "task=[click]", "trainer.max_epochs=2", "trainer.batch_size=128",
        "data.storage=disk", "data.disk.block_rows=100", "data.disk.shuffle_blocks=4"]  # fmt: skip


def test_a_second_run_reuses_the_cache_and_a_change_rebuilds_it_saying_why(
    workdir: Path,
) -> None:
    click_log().drop(columns=["city", "buy"]).to_csv(workdir / "log.csv", index=False)
    args = [*ARGS, "data.path=log.csv", f"data.disk.cache_dir={workdir / 'cache'}"]
    cli("train", *args, "hydra.run.dir=one", cwd=workdir)
    cli("train", *args, "hydra.run.dir=two", cwd=workdir)
    one, two = summary(workdir / "one"), summary(workdir / "two")
    assert one["data/cache_built"] is True and two["data/cache_built"] is False
    assert "disk cache: reusing" in logged(workdir / "two")
    assert metric_values(one) == metric_values(two)  # the same seeded block-shuffled batches
    assert one["data/storage"] == "disk" and one["peak_rss_bytes"] > 0
    cli("train", *args, "data.min_count=2", "hydra.run.dir=spec", cwd=workdir)
    assert "spec differs from cache" in logged(workdir / "spec")
    assert "min_count" in logged(workdir / "spec").split("spec differs from cache")[1][:80]
    click_log(seed=9).drop(columns=["city", "buy"]).to_csv(workdir / "log.csv", index=False)
    cli("train", *args, "hydra.run.dir=file", cwd=workdir)
    assert "the files changed since cache" in logged(workdir / "file")
    assert len(list((workdir / "cache").glob("*/meta.json"))) == 3
    # A damaged cache (a truncated array) is rebuilt, not read.
    folder = Path(summary(workdir / "file")["data/cache"])
    with open(folder / "train" / "cat.npy", "r+b") as f:
        f.truncate(200)
    cli("train", *args, "hydra.run.dir=damaged", cwd=workdir)
    assert "is incomplete (train/cat.npy is missing or not of its expected size)" in logged(
        workdir / "damaged")  # fmt: skip
    assert metric_values(summary(workdir / "damaged")) == metric_values(summary(workdir / "file"))


def test_a_full_disk_is_one_clear_error_and_leaves_no_cache(workdir: Path) -> None:
    click_log(n=20_000).to_csv(workdir / "log.csv", index=False)
    cache = workdir / "cache"
    args = [*ARGS, "data.path=log.csv", f"data.disk.cache_dir={cache}", "hydra.run.dir=full"]

    def limited() -> None:  # files over 400 kB cannot grow: what a full disk does to a write
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

    proc = subprocess.run([*MTFW, "train", *args], cwd=workdir, capture_output=True, text=True,
                          preexec_fn=limited, timeout=300)  # fmt: skip
    assert proc.returncode != 0
    assert "the disk is full while writing the disk cache" in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []
    cli("train", *args[:-1], "hydra.run.dir=after", cwd=workdir)  # room again: it builds
    assert summary(workdir / "after")["data/cache_built"] is True


def test_too_little_free_space_is_refused_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from mtfw.data.disk import cache_build

    click_log().to_csv(tmp_path / "log.csv", index=False)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(cache_build.shutil, "disk_usage", lambda p: usage._replace(free=1000))
    with pytest.raises(Exception, match=r"the disk cache needs 0\.\d+ GB .* 0\.00 GB free"):
        registry.build("data", node(tmp_path / "log.csv", tmp_path / "c", storage="disk")
                       ).prepare(NEEDS)  # fmt: skip
    assert not [p for p in (tmp_path / "c").iterdir() if p.is_dir()]


@pytest.mark.parametrize(
    ("extra", "message"),
    [({"storage": "ssd"}, "data.storage='ssd': expected memory"),
     ({"storage": "disk", "disk": {"block_rows": 0}}, "data.disk.block_rows=0 is out of range"),
     ({"storage": "disk", "disk": {"chunk": 5}}, "data.disk"),
     ({"storage": "disk", "split": {"folds": 3, "fold": 0, "stratify": "click"}},
      "stratified folds need every row's class at once"),
     ({"storage": "disk", "text": {"city": {"encoder": "tfidf"}}, "categorical": []},
      "text encoders are fitted on every text at once")],
    ids=["storage", "range", "key", "stratify", "text"],
)  # fmt: skip
def test_bad_input_is_refused_before_any_row_is_read(tmp_path: Path, extra: dict,
                                                     message: str) -> None:  # fmt: skip
    path = tmp_path / "log.csv"
    click_log(n=50).to_csv(path, index=False)
    spec = {**node(path, tmp_path / "c"), "split": {}, **extra}
    spec["disk"] = {**node(path, tmp_path / "c")["disk"], **extra.get("disk", {})}
    with pytest.raises(ConfigError, match=message):
        registry.build("data", spec).prepare(NEEDS)
    assert not (tmp_path / "c").exists()  # nothing was built


def test_gauc_and_masked_labels_train_on_disk(workdir: Path) -> None:
    click_log().to_csv(workdir / "log.csv", index=False)
    args = ["data=tabular_example", "data.path=log.csv", "task=[click]",
            "task.click.metrics=[auc,gauc]", "trainer.max_epochs=1", "data.storage=disk",
            f"data.disk.cache_dir={workdir / 'cache'}", "hydra.run.dir=run"]  # fmt: skip
    cli("train", *args, cwd=workdir)
    s = summary(workdir / "run")
    assert 0.0 <= s["test/click/gauc"] <= 1.0 and s["data/storage"] == "disk"


@pytest.mark.slow
def test_a_disk_run_stopped_inside_an_epoch_resumes_to_identical_results(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_step_checkpoint import stop_and_resume

    click_log(n=6000).rename(columns={"buy": "purchase"}).to_csv(workdir / "log.csv", index=False)
    args = [*ARGS, "data.path=log.csv", f"data.disk.cache_dir={workdir / 'cache'}",
            "trainer.patience=null", "trainer.checkpoint_every_steps=7", "weighting=pcgrad",
            "task=[click,purchase]", "+data.labels.purchase=purchase"]  # fmt: skip
    args = [a for a in args if a != "task=[click]"]
    _, steps = stop_and_resume(args, 4, workdir, monkeypatch)
    assert steps == [7, 14, 21, 28]  # 38 steps an epoch: stopped inside epoch 1


@pytest.mark.slow
def test_torchrun_on_disk_storage_equals_one_process(workdir: Path) -> None:
    from test_distributed_cli import finished, metrics, torchrun

    click_log(n=4000).to_csv(workdir / "log.csv", index=False)
    args = [*ARGS, "data.path=log.csv", f"data.disk.cache_dir={workdir / 'cache'}",
            "trainer.num_threads=1", "trainer.batch_size=101"]  # fmt: skip
    cli("train", *args, "hydra.run.dir=one", cwd=workdir)  # builds the cache
    finished(torchrun(*args, "hydra.run.dir=ddp", cwd=workdir))
    one, two = metrics(workdir / "one"), metrics(workdir / "ddp")
    assert set(one) == set(two)
    for key, value in two.items():
        assert value == pytest.approx(one[key], rel=1e-5, abs=1e-6), key
    assert json.loads((workdir / "ddp" / "summary.json").read_text())["data/cache_built"] is False


def test_reproduce_of_a_disk_run_gives_identical_metrics(workdir: Path) -> None:
    click_log().drop(columns=["city", "buy"]).to_csv(workdir / "log.csv", index=False)
    cli("train", *ARGS, "data.path=log.csv", f"data.disk.cache_dir={workdir / 'cache'}",
        "hydra.run.dir=run", cwd=workdir)  # fmt: skip
    proc = cli("reproduce", "run", "out=again", cwd=workdir)
    assert "metrics identical" in proc.stdout + proc.stderr
    assert metric_values(summary(workdir / "again")) == metric_values(summary(workdir / "run"))


def test_auto_storage_goes_to_disk_above_the_threshold_only(tmp_path: Path) -> None:
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    click_log(n=2000).to_csv(small, index=False)
    click_log(n=40_000).to_csv(large, index=False)
    assert small.stat().st_size < 2**20 < large.stat().st_size
    for path, storage in ((small, None), (large, "disk")):
        spec = node(path, tmp_path / "c", storage="auto")
        spec["disk"]["auto_above_mb"] = 1
        info = registry.build("data", spec).prepare(NEEDS).info
        assert info.get("data/storage") == storage, path.name


def test_an_empty_split_on_disk_is_the_memory_storages_error(tmp_path: Path) -> None:
    click_log(n=20).to_csv(tmp_path / "log.csv", index=False)
    spec = node(tmp_path / "log.csv", tmp_path / "c", storage="disk",
                split={"val": 0.001, "test": 0.5})  # fmt: skip
    with pytest.raises(ConfigError, match=r"the val split is empty \(20 rows, val=0.001, test=0.5"):
        registry.build("data", spec).prepare(NEEDS)
    assert not [p for p in (tmp_path / "c").iterdir() if p.is_dir()]  # nothing kept
