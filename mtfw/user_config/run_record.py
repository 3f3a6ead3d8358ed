"""What a run directory keeps of the command and the user config folders: ``<run>/.mtfw/``.

``.mtfw/run.json`` holds ``command`` (the run's command line, ``shlex.join``-quoted, subcommand and
``--config-dir`` folders included: it re-runs the run), ``config_dirs`` (the user folders searched,
in order), ``user_files`` (``{"task/income.yaml": "/home/u/proj/task/income.yaml"}``: each user
file the run read) and ``shadows`` (those of them that shadow a shipped file). A copy of each user
file is ``.mtfw/user_conf/<group>/<name>.yaml`` (``train.yaml`` at its top): the run's config in
``.hydra/config.yaml`` was composed from exactly these, so the run can be resumed, reproduced and
audited after the user edits or moves the folder.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Sequence
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode

from mtfw.run_files import read_record_file
from mtfw.user_config.folders import UserFolders, active
from mtfw.user_config.sources import UserFile, announce, files_read

RECORD_DIR = ".mtfw"
COPIES = "user_conf"
INFO = "run.json"


def command_line(subcommand: str, args: Sequence[str], folders: UserFolders) -> str:
    """``mtfw <subcommand> --config-dir=<folder> ... <args>``, quoted for a POSIX shell."""
    return shlex.join(["mtfw", subcommand, *folders.flags(), *args])


def write(run_dir: Path, command: str, folders: UserFolders, files: Sequence[UserFile]) -> None:
    """Record the command and copy every user file read into ``<run_dir>/.mtfw/``."""
    record = run_dir / RECORD_DIR
    for file in files:
        target = record / COPIES / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(file.source, target)
    info = {
        "command": command,
        "config_dirs": [str(p) for p in folders.paths],
        "user_files": {f.name: str(f.source) for f in files},
        "shadows": [f.name for f in files if f.shadows],
    }
    record.mkdir(parents=True, exist_ok=True)
    (record / INFO).write_text(json.dumps(info, indent=2))


def read(run_dir: Path) -> dict:
    """``<run_dir>/.mtfw/run.json``, or ``{}`` for a run recorded without it."""
    return read_record_file(run_dir / RECORD_DIR / INFO, "run record") or {}


def copy_record(original: Path, new_run: Path, command: str) -> None:
    """A reproduction's record: the original's copies of the user files, its own command."""
    source = original / RECORD_DIR / COPIES
    if source.is_dir():
        shutil.copytree(source, new_run / RECORD_DIR / COPIES, dirs_exist_ok=True)
    info = {**read(original), "command": command, "reproduces": str(original.resolve())}
    (new_run / RECORD_DIR).mkdir(parents=True, exist_ok=True)
    (new_run / RECORD_DIR / INFO).write_text(json.dumps(info, indent=2))


def record_hydra_run(run_dir: Path, argv: Sequence[str]) -> None:
    """Inside ``hydra.main``: record a ``mtfw train`` run (``argv``: its overrides and flags as
    typed); a multirun's job is recorded by its own overrides, the command that re-runs it."""
    hydra = HydraConfig.get()
    task = list(hydra.overrides.task)
    files = files_read([*hydra.overrides.hydra, *task])
    announce(files)
    args = task if hydra.mode == RunMode.MULTIRUN else list(argv)
    write(run_dir, command_line("train", args, active()), active(), files)
