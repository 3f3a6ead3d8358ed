"""Run one battery case through mtfw's real CLI in a fresh directory and classify the outcome.

In-process (default) a case calls ``mtfw.cli.main(argv)`` with stdout/stderr captured, inside a
guard that restores what a run changes in the process (cwd, argv, environment, logging handlers,
Hydra's global state, torch's threads, warning filters); ``subprocess=True`` runs
``python -m mtfw`` instead, exactly what a user sees.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from battery.isolation import isolated

REFUSED, TRACEBACK, SILENT, WROTE, OTHER = (
    "refused clearly",
    "traceback",
    "silent",
    "wrote files",
    "other",
)
ACCEPTED = "accepted"  # a control that must succeed did (exit 0)
OUTCOMES = (REFUSED, TRACEBACK, SILENT, WROTE, OTHER)
MAX_LINES = 12  # a refusal is one paragraph on stderr, not a page


@dataclass(frozen=True)
class Case:
    """One input a user can type: ``mtfw ARGV`` in a fresh directory that ``setup`` prepares.

    ``says``: text the message must contain (what was wrong; for a control, the output);
    ``env``: variables for the command (``{dir}`` is the case directory); ``keeps_record``: a
    refusal that by design leaves its run record (a run stopped as diverged)."""

    name: str
    argv: tuple[str, ...]
    setup: Callable[[Path, object], None] | None = None
    expect: str = "refused"  # or "accepted" (a control)
    says: str = ""
    env: tuple[tuple[str, str], ...] = ()
    keeps_record: bool = False


@dataclass
class Result:
    name: str
    argv: list[str]
    outcome: str
    ok: bool
    code: int | None
    message: str
    seconds: float
    written: list[str] = field(default_factory=list)


def exit_code(code: object) -> int:
    """The process exit status ``sys.exit(code)`` gives."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def run_in_process(
    argv: list[str], case_dir: Path, env: dict[str, str]
) -> tuple[int, str, str, bool]:
    """(exit status, stdout, stderr, whether an exception escaped the CLI)."""
    from mtfw.cli import main

    out, err, escaped, code = io.StringIO(), io.StringIO(), False, 0
    with isolated(case_dir, env), redirect_stdout(out), redirect_stderr(err):
        try:
            main(list(argv))
        except SystemExit as stop:
            code = exit_code(stop.code)
        except Exception:  # what a user would see as a traceback
            escaped, code = True, 1
            err.write(traceback.format_exc())
    return code, out.getvalue(), err.getvalue(), escaped


def run_subprocess(
    argv: list[str], case_dir: Path, env: dict[str, str]
) -> tuple[int, str, str, bool]:
    full = {**os.environ, **env, "HYDRA_FULL_ERROR": "0"}
    try:
        proc = subprocess.run([sys.executable, "-m", "mtfw", *argv], cwd=case_dir, env=full,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
    except subprocess.TimeoutExpired as err:
        return 124, str(err.stdout or ""), f"timed out after {err.timeout} s", False
    return proc.returncode, proc.stdout, proc.stderr, False


def snapshot(folder: Path) -> dict[str, tuple[int, int] | None]:
    """Every path below ``folder``: files with (size, mtime), folders with None."""
    paths = {}
    for path in folder.rglob("*"):
        stat = path.lstat()
        paths[str(path.relative_to(folder))] = (
            None if path.is_dir() else (stat.st_size, stat.st_mtime_ns)
        )
    return paths


def written(before: dict, after: dict) -> list[str]:
    """Paths new or changed since ``before``."""
    return sorted(p for p, v in after.items() if p not in before or before[p] != v)


def message_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    return (errors or lines or [""])[0]


def classify(
    case: Case, code: int, out: str, err: str, escaped: bool, wrote: list[str]
) -> tuple[str, str]:
    """(outcome, the line to show) of one case."""
    if escaped or "Traceback" in out + err:
        lines = [line for line in err.splitlines() if line.strip()]
        return TRACEBACK, (lines[-1] if lines else "Traceback")
    if code == 0:
        if case.expect != "accepted":
            return SILENT, "accepted: exit 0 " + message_line(out)[:60]
        if case.says and case.says not in out + err:
            return OTHER, f"exit 0 but the output lacks '{case.says}'"
        return ACCEPTED, message_line(out)
    lines = [line for line in err.splitlines() if line.strip()]
    if code != 2:
        return OTHER, f"exit {code}: {message_line(err)}"
    if not lines:
        return OTHER, "exit 2 with nothing on stderr"
    if len(lines) > MAX_LINES:
        return OTHER, f"exit 2 with a {len(lines)}-line message: {message_line(err)}"
    if case.says and case.says not in err:
        return OTHER, f"the message does not name '{case.says}': {message_line(err)}"
    if wrote and not case.keeps_record:
        return WROTE, f"left {', '.join(wrote[:3])}{' ...' if len(wrote) > 3 else ''}"
    return REFUSED, message_line(err)


def run_case(case: Case, case_dir: Path, fixtures: object, in_subprocess: bool = False) -> Result:
    case_dir.mkdir(parents=True)
    try:
        if case.setup is not None:
            case.setup(case_dir, fixtures)
    except Exception as err:  # the battery's own mistake: shown, and the battery goes on
        message = f"setup failed: {type(err).__name__}: {err}"
        return Result(case.name, list(case.argv), OTHER, False, None, message, 0.0)
    env = {k: v.replace("{dir}", str(case_dir)) for k, v in case.env}
    argv = [a.replace("{dir}", str(case_dir)) for a in case.argv]
    before, start = snapshot(case_dir), time.perf_counter()
    run = run_subprocess if in_subprocess else run_in_process
    code, out, err, escaped = run(argv, case_dir, env)
    seconds = time.perf_counter() - start
    wrote = written(before, snapshot(case_dir))
    outcome, line = classify(case, code, out, err, escaped, wrote)
    ok = outcome == (ACCEPTED if case.expect == "accepted" else REFUSED)
    return Result(case.name, argv, outcome, ok, code, line, seconds, wrote)
