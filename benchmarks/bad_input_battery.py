"""Issue 13's battery: every bad input a user can type must end in a one-paragraph message (what
was wrong, where, what is allowed), exit status 2 and nothing written.

    PYTHONPATH=. .venv/bin/python benchmarks/bad_input_battery.py            # in-process, ~5 min
    .venv/bin/python benchmarks/bad_input_battery.py --only resume --json out.json
    .venv/bin/python benchmarks/bad_input_battery.py --subprocess            # python -m mtfw each

Each case runs ``mtfw ARGV`` through the real CLI entry point in its own fresh directory and is
classified: refused clearly (exit 2, no traceback, at most 12 lines on stderr naming what was
wrong, nothing left behind), traceback, silent (exit 0: the bad input was accepted), wrote files
(refused, but files were left or changed), other (any other exit status, or an unclear message).
Controls (good inputs) must be accepted. Exit status 1 when any case is not what it should be.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the battery package beside this file
os.environ["WANDB_MODE"] = "offline"  # a bad input never reaches a tracker's server

from battery import generated, run_cases, sweep_cases, train_cases
from battery.runner import OUTCOMES, Case, Result, run_case
from battery.setups import Fixtures


def all_cases() -> list[Case]:
    cases = [*train_cases.CASES, *generated.cases(), *run_cases.CASES, *sweep_cases.CASES]
    names = [c.name for c in cases]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SystemExit(f"battery: case names repeated: {', '.join(repeated)}")
    return cases


def selected(cases: list[Case], pattern: str | None) -> list[Case]:
    """Cases whose name contains ``pattern`` or matches it as a shell pattern."""
    if not pattern:
        return cases
    return [c for c in cases if pattern in c.name or fnmatch.fnmatch(c.name, pattern)]


def totals(results: list[Result]) -> str:
    counts = {o: sum(r.outcome == o for r in results if r.outcome != "accepted") for o in OUTCOMES}
    controls = [r for r in results if r.outcome == "accepted"]
    line = f"tried {len(results)} / " + " / ".join(f"{o} {n}" for o, n in counts.items())
    return line + (f" (controls accepted: {len(controls)})" if controls else "")


def run_battery(
    cases: list[Case], folder: Path, in_subprocess: bool = False, echo: bool = True
) -> list[Result]:
    fixtures, results = Fixtures(folder), []
    for number, case in enumerate(cases):
        result = run_case(case, folder / "cases" / f"{number:03d}", fixtures, in_subprocess)
        results.append(result)
        if echo:
            mark = "  " if result.ok else "!!"
            print(
                f"{mark} {case.name[:44]:<44} {result.outcome:<15} {result.seconds:5.1f}s "
                f"{result.message[:110]}",
                flush=True,
            )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run the cases whose name contains PATTERN (or matches it)")
    parser.add_argument("--json", type=Path, help="write every case's result here")
    parser.add_argument("--subprocess", action="store_true", help="run each case as python -m mtfw")
    parser.add_argument("--list", action="store_true", help="print the case names and stop")
    parser.add_argument("--keep", action="store_true", help="keep the case directories")
    args = parser.parse_args(argv)
    cases = selected(all_cases(), args.only)
    if args.list:
        print("\n".join(f"{c.name}: mtfw {' '.join(c.argv)}" for c in cases))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="mtfw-battery-"))
    start = time.perf_counter()
    try:
        results = run_battery(cases, folder, args.subprocess)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    mode = "python -m mtfw per case" if args.subprocess else "in-process"
    print(f"\n{totals(results)}   [{mode}, {time.perf_counter() - start:.0f} s]")
    failed = [r for r in results if not r.ok]
    for r in failed:
        print(f"NOT AS EXPECTED: {r.name}: {r.outcome}: mtfw {' '.join(r.argv)}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
