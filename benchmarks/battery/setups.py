"""What a battery case prepares in its fresh directory: broken data files, copies of ONE tiny
finished run (trained once, on first use) damaged in one way each, user config folders."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from battery.runner import run_in_process

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "click_log.csv"  # conf/data/tabular_example.yaml's schema
# A tiny but real budget (tests/conftest.py's TINY): census, two epochs of a few batches each.
TINY = ("trainer.max_epochs=2", "trainer.max_steps_per_epoch=5", "trainer.batch_size=256")
RANDOM = bytes(range(256)) * 40
Setup = Callable[[Path, "Fixtures"], None]


class Fixtures:
    """Shared by every case of one battery: a folder, and the finished run trained on demand."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._run: Path | None = None

    @property
    def finished_run(self) -> Path:
        if self._run is None:
            base = self.folder / "finished"
            base.mkdir(parents=True, exist_ok=True)
            code, out, err, _ = run_in_process(["train", *TINY, "hydra.run.dir=run"], base, {})
            if code != 0:
                raise RuntimeError(f"the battery's tiny run failed (exit {code}):\n{out}\n{err}")
            self._run = base / "run"
        return self._run


def write(name: str, content: bytes | str) -> Setup:
    """A file ``name`` (folders created) holding ``content``."""

    def setup(case_dir: Path, fx: Fixtures) -> None:
        path = case_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return setup


def truncated_gzip() -> bytes:
    """A gzip-compressed CSV cut off after its first third."""
    rows = "".join(f"{i % 12},{i * 3.5},1,0,0,Urban,Web,Mens E-Mail,1,0,0\n" for i in range(4000))
    whole = gzip.compress(("recency,history,mens,womens,newbie,zip_code,channel,segment,"
                           "visit,conversion,spend\n" + rows).encode())  # fmt: skip
    return whole[: len(whole) // 3]


def numeric_with_text(case_dir: Path, fx: Fixtures) -> None:
    """click_log.csv with one 'price' replaced by a word."""
    lines = FIXTURE.read_text().splitlines()
    header, row = lines[0].split(","), lines[5].split(",")
    row[header.index("price")] = "cheap"
    text = "\n".join([*lines[:5], ",".join(row), *lines[6:]]) + "\n"
    (case_dir / "log.csv").write_text(text)


def constant_label(case_dir: Path, fx: Fixtures) -> None:
    """click_log.csv where nobody ever clicks: AUC has nothing to measure."""
    lines = FIXTURE.read_text().splitlines()
    click = lines[0].split(",").index("click")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows:
        row[click] = "0"
    (case_dir / "log.csv").write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n")


def run_copy(*damage: Callable[[Path], None]) -> Setup:
    """A copy of the finished run in ``run/``, then each ``damage(run_dir)`` applied."""

    def setup(case_dir: Path, fx: Fixtures) -> None:
        shutil.copytree(fx.finished_run, case_dir / "run")
        for change in damage:
            change(case_dir / "run")

    return setup


def replace(name: str, content: bytes | str) -> Callable[[Path], None]:
    def change(run_dir: Path) -> None:
        data = content.encode() if isinstance(content, str) else content
        (run_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (run_dir / name).write_bytes(data)

    return change


def remove(name: str) -> Callable[[Path], None]:
    def change(run_dir: Path) -> None:
        path = run_dir / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()

    return change


def truncate(name: str) -> Callable[[Path], None]:
    def change(run_dir: Path) -> None:
        data = (run_dir / name).read_bytes()
        (run_dir / name).write_bytes(data[: len(data) // 2])

    return change


def status(value: str) -> Callable[[Path], None]:
    """summary.json saying the run ended with ``value`` (interrupted, diverged, failed)."""

    def change(run_dir: Path) -> None:
        summary = json.loads((run_dir / "summary.json").read_text())
        (run_dir / "summary.json").write_text(json.dumps({**summary, "status": value}))

    return change


def edit_config(old: str, new: str) -> Callable[[Path], None]:
    def change(run_dir: Path) -> None:
        path = run_dir / ".hydra" / "config.yaml"
        path.write_text(path.read_text().replace(old, new, 1))

    return change


def torn_metrics(run_dir: Path) -> None:
    """metrics.jsonl with a damaged line before its last (not a torn last line)."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]
    (run_dir / "metrics.jsonl").write_text("\n".join(lines) + "\n")


INTERRUPTED = remove("summary.json")  # what a killed run looks like
PEOPLE = """name: tabular
path: people.csv
categorical: [job]
numeric: [age]
labels:
  income: {column: income, equals: ">50K"}
"""
PEOPLE_CSV = "age,job,income\n" + "".join(
    f"{20 + i % 50},{['a', 'b', 'c'][i % 3]},{'>50K' if i % 4 == 0 else '<=50K'}\n"
    for i in range(300)
)
