"""Files several processes ask for at once (torchrun ranks, sweep trials side by side): made once,
under a lock, never under a shared temporary name; a failed writer leaves nothing behind."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pytest

from mtfw.data.ctr_generator import SPARSE
from mtfw.data.synthetic_ctr import SyntheticCTR
from mtfw.data.write_once import write_once

FORK = multiprocessing.get_context("fork")


def slow_write(target: str, log: str) -> None:
    def write(partial: Path) -> None:
        with open(log, "a") as f:
            f.write("w\n")
        partial.write_text("half")
        time.sleep(0.4)  # the other process asks while this one writes
        with open(partial, "a") as f:
            f.write(" and whole")

    write_once(Path(target), write)
    assert Path(target).read_text() == "half and whole"


def run_side_by_side(target, *args) -> list[int]:
    procs = [FORK.Process(target=target, args=args) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    return [p.exitcode for p in procs]


def test_processes_asking_at_once_write_the_file_once(tmp_path: Path) -> None:
    target, log = tmp_path / "data" / "table.csv", tmp_path / "writes.log"
    assert run_side_by_side(slow_write, str(target), str(log)) == [0, 0, 0]
    assert log.read_text() == "w\n"  # one writer; the others waited and read its file
    assert target.read_text() == "half and whole"
    assert sorted(p.name for p in target.parent.iterdir()) == ["table.csv"]  # no partial, no lock


def test_an_existing_file_is_not_written_again(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    target.write_text("old")
    assert write_once(target, lambda partial: partial.write_text("new")) is False
    assert target.read_text() == "old"


def test_a_failed_writer_leaves_no_file_and_the_next_run_writes_it(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"

    def fail(partial: Path) -> None:
        partial.write_text("half")
        raise OSError("the network went away")

    with pytest.raises(OSError, match="network"):
        write_once(target, fail)
    assert not list(tmp_path.iterdir())
    assert write_once(target, lambda partial: partial.write_text("whole")) is True
    assert target.read_text() == "whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def generate(cache: str) -> None:
    vocab = {f: 100 for f in SPARSE}
    SyntheticCTR(vocab=vocab, rows=40_000, cache=cache).generate()


def test_synthetic_ctr_generated_by_two_ranks_at_once(tmp_path: Path) -> None:
    """The CI failure of stop 26: two torchrun ranks generated the same table under one ``.part``
    name, and the second rename found it gone."""
    assert run_side_by_side(generate, str(tmp_path)) == [0, 0, 0]
    (path,) = tmp_path.glob("*/synthetic_ctr.parquet")
    assert len(pd.read_parquet(path)) == 40_000
    assert not list(path.parent.glob("*.part*"))
