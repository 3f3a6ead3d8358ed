"""GAN candidates re-ranked by the multi-task model, through the command line: bad candidate
settings and GAN runs refused (exit 2, no traceback, nothing written); on MovieLens-100K a
baseline=cfgan run, then MTL runs ranking each source, evaluated and recommended from, resumed
and reproduced identically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import cli, composed, summary
from omegaconf import OmegaConf
from recsys_support import interrupted_after_first_epoch, ml100k

GAN = ["experiment=ml100k_cfgan", "baseline.g_hidden=[32]", "baseline.d_hidden=[16]",
       "baseline.epochs=2", "baseline.eval_every=1", "baseline.g_steps=1", "baseline.d_steps=1",
       "baseline.g_batch_size=256", "baseline.d_batch_size=256",
       "trainer.num_threads=1"]  # fmt: skip
MTL = ["experiment=ml100k_mtl", "trainer.max_epochs=2", "trainer.max_steps_per_epoch=5",
       "embedding.dim=8", "trainer.num_threads=1"]  # fmt: skip
REPORT = "candidates.report=[mtl,gan,union]"
# What the GAN's own run measures of its lists (ild_embedding: the MTL run's item vectors only).
LIST_KEYS = ("precision", "recall", "ndcg", "hit_rate", "coverage", "ild", "novelty", "gini",
             "long_tail")  # fmt: skip


def fake_run(where: Path, *overrides: str, status: str = "completed") -> Path:
    """A run directory as a finished run leaves it (config, summary, a state file), no data."""
    (where / ".hydra").mkdir(parents=True)
    OmegaConf.save(composed(*overrides), where / ".hydra" / "config.yaml")
    (where / "summary.json").write_text(json.dumps({"status": status}))
    torch.save({}, where / "baseline.pt")
    return where


@pytest.fixture(scope="module")
def fakes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("fakes")
    fake_run(base / "gan_random", "experiment=ml100k_cfgan", "data.split.by=random")
    fake_run(base / "popularity", "experiment=ml100k_popularity")
    fake_run(base / "mtl", "experiment=ml100k_mtl")
    fake_run(base / "gan_interrupted", "experiment=ml100k_cfgan", status="interrupted")
    return base


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["candidates.source=gan"], "candidates.source=gan needs the GAN's candidates"),
        (["candidates.report=[mtl,union]"], "candidates.report=['mtl', 'union'] needs the GAN"),
        (["candidates.source=union", "candidates.gan_run={fakes}/none"], "no such run directory"),
        (
            ["candidates.source=union", "candidates.gan_run={fakes}/popularity"],
            "is baseline=popularity, not a GAN",
        ),
        (["candidates.source=gan", "candidates.gan_run={fakes}/mtl"], "is a network"),
        (
            ["candidates.source=gan", "candidates.gan_run={fakes}/gan_interrupted"],
            "did not complete (status interrupted)",
        ),
        (
            ["candidates.source=union", "candidates.gan_run={fakes}/gan_random"],
            "data.split.by is 'random' there, 'time' here",
        ),
        (["candidates.source=gn"], "'gn' is not a candidate source"),
        (
            ["candidates.source=union", "candidates.n_gan=3", "candidates.gan_run={fakes}/x"],
            "make n_mtl or n_gan at least 20",
        ),
        (["candidates.n_mtl=-1"], "candidates.n_mtl=-1 is out of range"),
        (["candidates.report=[gan,gan]", "candidates.gan_run={fakes}/x"], "names a source twice"),
    ],
)
def test_bad_candidate_settings_are_refused_before_data_loads(
    workdir: Path, fakes: Path, args: list[str], message: str
) -> None:
    args = [a.format(fakes=fakes) for a in args]
    proc = cli("train", "experiment=ml100k_mtl", *args, cwd=workdir, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-600:]
    assert message in proc.stderr and not any(workdir.iterdir()), proc.stderr


def test_candidates_are_refused_where_nothing_ranks_or_a_baseline_ranks(workdir, fakes) -> None:
    for args, message in (
        (["experiment=ml100k_popularity", "candidates.report=[mtl]"], "ranks on its own"),
        (["candidates.source=union", f"candidates.gan_run={fakes}/gan"], "no selected task ranks"),
    ):
        proc = cli("train", *args, cwd=workdir, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert message in proc.stderr and not any(workdir.iterdir())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CFGAN run, and MTL runs ranking by themselves (reporting every source) and the union."""
    where = tmp_path_factory.mktemp("gancand")
    cli("train", *GAN, *ml100k(), "hydra.run.dir=gan", cwd=where)
    gan = f"candidates.gan_run={where / 'gan'}"
    cli("train", *MTL, *ml100k(), gan, REPORT, "hydra.run.dir=mtl", cwd=where)
    cli("train", *MTL, *ml100k(), gan, "candidates.source=union", "hydra.run.dir=union",
        cwd=where)  # fmt: skip
    return where


def ranking(s: dict, task: str = "ranking", split: str = "test") -> dict:
    prefix = f"{split}/{task}/"
    return {k.removeprefix(prefix): v for k, v in s.items() if k.startswith(prefix)}


@pytest.mark.slow  # MovieLens-100K: a CFGAN and two MTL runs, each evaluated on the catalogue
def test_every_source_is_evaluated_on_the_same_protocol(runs: Path) -> None:
    gan, mtl, union = (summary(runs / d) for d in ("gan", "mtl", "union"))
    for split in ("val", "test"):
        # the run's own lists are the MTL model's, reported again as ranking.mtl
        assert ranking(mtl, split=split) == ranking(mtl, "ranking.mtl", split)
        # the GAN's lists in the MTL run are the GAN run's own (same split, same fold-in)
        theirs, ours = ranking(gan, split=split), ranking(mtl, "ranking.gan", split)
        assert {k: ours[k] for k in theirs} == theirs and set(ours) - set(theirs) == {
            f"ild_embedding@{k}" for k in (5, 10, 20)}  # fmt: skip
        # the same model (2 epochs, selected alike) ranking the union in either run
        assert ranking(union, split=split) == ranking(mtl, "ranking.union", split)
    assert not any(k.startswith("test/mean/") and "." in k.split("/")[1] for k in mtl)
    assert union["test/mean/ndcg@10"] == union["test/ranking/ndcg@10"]  # ranking + interest
    assert ranking(union) != ranking(mtl) and all(
        ranking(mtl)[f"{m}@10"] != ranking(mtl, "ranking.gan")[f"{m}@10"] for m in LIST_KEYS
    )
    table = cli("report", str(runs / "mtl"), "--metrics", "test/ranking.*/ndcg@10",
                cwd=runs).stdout  # fmt: skip
    assert all(f"ranking.{s}" in table for s in ("mtl", "gan", "union")), table


@pytest.mark.slow  # MovieLens-100K: top-k lists of the runs above
def test_recommend_ranks_the_runs_source_and_says_who_proposed_each_item(runs: Path) -> None:
    def rows(*args: str) -> list[list[str]]:
        return [line.split() for line in cli("recommend", *args, cwd=runs).stdout.splitlines()]

    union = rows("union", "users=1,2", "k=8")
    assert union[0] == ["user", "rank", "item", "score", "source"] and len(union) == 17
    # the MTL model's own 5 best lead (n_mtl=5), then the GAN's candidates in its order
    assert all(r[4] in ("mtl", "both") for r in union[1:] if int(r[1]) <= 5)
    assert all(r[4] == "gan" for r in union[1:] if int(r[1]) > 5)
    as_gan = rows("union", "users=1,2", "k=8", "candidates.source=gan")
    assert [r[:3] for r in as_gan[1:]] == [r[:3] for r in rows("gan", "users=1,2", "k=8")[1:]]
    assert {r[4] for r in as_gan[1:]} <= {"gan", "both"}
    assert rows("mtl", "users=1", "k=3")[0][-1] == "source"  # a GAN in play: who proposed it
    proc = cli("recommend", "mtl", "candidates.source=union", "candidates.gan_run=null",
               cwd=runs, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "candidates.source=union needs the GAN's candidates" in proc.stderr


@pytest.mark.slow  # MovieLens-100K: a GAN run whose split hashes were changed is refused
def test_a_gan_run_on_another_split_is_refused_before_training(runs: Path, tmp_path) -> None:
    import shutil

    other = tmp_path / "gan_other"
    shutil.copytree(runs / "gan", other)
    s = summary(other)
    (other / "summary.json").write_text(json.dumps({**s, "data/split_hash_test": "0" * 16}))
    proc = cli("train", *MTL, *ml100k(), "candidates.source=union",
               f"candidates.gan_run={other}", "hydra.run.dir=refused", cwd=tmp_path,
               check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "data/split_hash_test is '0000000000000000' there" in proc.stderr
    assert not (tmp_path / "refused" / "best.pt").exists()


@pytest.mark.slow  # MovieLens-100K: the union run interrupted, resumed, reproduced
def test_a_union_run_resumes_and_reproduces_identically(runs: Path, workdir: Path) -> None:
    from mtfw.train import resume_run

    gan = f"candidates.gan_run={runs / 'gan'}"
    cfg = composed(*MTL, *ml100k(), gan, "candidates.source=union")
    broken = interrupted_after_first_epoch(cfg, workdir / "broken")
    resumed = resume_run(broken, [])
    whole = summary(runs / "union")
    metrics = {k: v for k, v in whole.items() if k.startswith(("val/", "test/"))}
    assert metrics == {k: resumed[k] for k in metrics}
    proc = cli("reproduce", str(runs / "union"), f"out={workdir / 'again'}", cwd=workdir)
    assert proc.returncode == 0 and "all" in proc.stdout and "identical" in proc.stdout
