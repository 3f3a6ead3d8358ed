"""The sweep directory: a new folder under outputs/sweeps/, ``sweep.dir=PATH``, or a resumed one.

It holds ``sweep.yaml`` (what was asked, written once), the journal of the study, one run
directory per trial under ``trials/``, and the outputs (``trials.csv``, ``best.json`` or
``pareto.json``, plots, ``sweep.json``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from mtfw.errors import ConfigError
from mtfw.sweep.plan import Sweep

SWEEPS_ROOT = Path("outputs/sweeps")
RECORD = "sweep.yaml"


def _record(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return {}


def resolve_dir(sweep: Sweep) -> tuple[Path, bool]:
    """(directory, whether it continues an earlier sweep)."""
    spec = sweep.spec
    if spec.dir:
        path = Path(spec.dir)
        if (path / RECORD).is_file():
            return path, True
        if path.is_dir() and any(path.iterdir()):
            raise ConfigError(
                f"sweep.dir={path} exists and holds no sweep ({RECORD} is missing); choose a new "
                "or empty directory"
            )
        if spec.resume:
            raise ConfigError(f"sweep.resume=true: {path} holds no sweep to resume")
        return path, False
    if spec.resume:
        records = sorted(SWEEPS_ROOT.glob(f"*/*/{RECORD}"), key=lambda p: p.stat().st_mtime)
        for path in reversed(records):
            if _record(path).get("identity") == sweep.identity:
                return path.parent, True
        raise ConfigError(
            f"sweep.resume=true: no earlier '{spec.name}' sweep with this search space and these "
            f"overrides under {SWEEPS_ROOT}/; give its directory with sweep.dir=PATH"
        )
    now = dt.datetime.now()
    return SWEEPS_ROOT / now.strftime("%Y-%m-%d") / now.strftime("%H-%M-%S.%f"), False


def write_record(sweep_dir: Path, record: dict) -> None:
    sweep_dir.mkdir(parents=True, exist_ok=True)
    if not (sweep_dir / RECORD).exists():
        (sweep_dir / RECORD).write_text(yaml.safe_dump(record, sort_keys=False))
