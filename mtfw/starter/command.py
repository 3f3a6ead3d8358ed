"""``mtfw init DIR --csv FILE --label COL [COL ...] [--name NAME]``: a starter config folder.

Reads the file, guesses every column's kind, writes ``DIR/data/<name>.yaml``, one
``DIR/task/<label>.yaml`` per label and ``DIR/experiment/<name>.yaml``, and prints what it wrote
and the command that trains it: ``mtfw train --config-dir DIR experiment=<name>``.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from mtfw.data.reading import read_table
from mtfw.errors import DataNotFoundError
from mtfw.settings import closest
from mtfw.starter.label_tasks import count_task
from mtfw.starter.starter_files import starter_files, write_new
from mtfw.starter.starter_plan import StarterPlan, config_name, plan_starter


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtfw init",
        description="Write a starter config folder for one's own CSV: data/<name>.yaml (every "
        "column under its guessed kind, with the reason), task/<label>.yaml per label and "
        "experiment/<name>.yaml. Never overwrites a file.",
    )
    parser.add_argument("dir", help="the folder to write (mtfw train --config-dir DIR ...)")
    parser.add_argument("--csv", required=True, type=Path, help="the data file (CSV or parquet)")
    parser.add_argument(
        "--label", required=True, action="extend", nargs="+", metavar="COL",
        help="a column to predict (one task each); repeat or list several",
    )  # fmt: skip
    parser.add_argument("--name", help="the data set's name (default: the file's name)")
    return parser


def find_file(path: Path) -> Path:
    if path.is_file():
        return path.resolve()
    folder = path.parent if path.parent.is_dir() else Path(".")
    near = [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    raise DataNotFoundError(
        f"--csv {path}: no such file{' (it is a folder)' if path.is_dir() else ''}."
        f"{closest(path.name, near)} Give the path of a CSV (or .csv.gz, .parquet) file"
    )


def summary(plan: StarterPlan) -> list[str]:
    kinds = {"categorical": plan.of_kind("categorical"), "numeric": plan.of_kind("numeric"),
             "timestamp": plan.of_kind("timestamp"), "excluded": plan.excluded}  # fmt: skip
    lines = [f"read {plan.path.name}: {plan.rows:,} rows, {len(plan.columns)} columns"]
    for kind, guesses in kinds.items():
        if guesses:
            names = ", ".join(
                f"{g.column} ({g.kind})" if kind == "excluded" else g.column for g in guesses
            )
            lines.append(f"  {kind:<12} {names}")
    for label in plan.labels:
        lines.append(f"  {'label':<12} {label.name}: {label.task}, {label.reason}")
    return lines


def main(argv: list[str]) -> None:
    args = parser().parse_args(argv)
    path = find_file(args.csv)
    frame = read_table(path)
    stem = path.name.split(".")[0] if not args.name else args.name
    plan = plan_starter(frame, path, config_name(stem).lower(), args.label, count_task())
    files = starter_files(plan, args.dir)
    write_new(files)
    print("\n".join(summary(plan)))
    for file in files:
        print(f"wrote {file}")
    print("next: edit the files if a guess is wrong, then run")
    print(f"  mtfw train --config-dir {shlex.quote(args.dir)} experiment={plan.name}")
