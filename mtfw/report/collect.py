"""Find the runs below some directories and load them into one pandas table.

A run is any directory holding ``summary.json`` and ``.hydra/config.yaml`` (DESIGN §8): a single
run, a job of a Hydra multirun, a trial of ``mtfw sweep``, a reproduction. One row per run: the
composed config flattened to dotted keys (``encoder.name``) beside the summary's slashed keys
(``test/income/auc``), plus ``run`` (the path shown in reports) and ``run_dir``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml
from omegaconf import OmegaConf

from mtfw.errors import MtfwError
from mtfw.record import read_rows

SKIPPED_DIRS = {"wandb", ".hydra", "__pycache__", "plots"}


class ReportError(MtfwError):
    """Bad input to ``mtfw report``: no runs, an unknown key, an unknown baseline row, ..."""


def natural_key(path: Path) -> list:
    """Sort ``10`` after ``9``: multirun jobs and sweep trials in the order they were made."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def find_run_dirs(inputs: list[Path]) -> list[Path]:
    """Every run directory at or below the inputs, each once, in natural order."""
    missing = [str(p) for p in inputs if not p.is_dir()]
    if missing:
        raise ReportError(f"not a directory: {', '.join(missing)}")
    found: set[Path] = set()
    for root in inputs:
        for summary in root.rglob("summary.json"):
            run_dir = summary.parent
            if SKIPPED_DIRS.intersection(run_dir.relative_to(root).parts):
                continue
            if (run_dir / ".hydra" / "config.yaml").is_file():
                found.add(run_dir.resolve())
    return sorted(found, key=natural_key)


def flatten(node, prefix: str = "") -> dict:
    """Nested dicts to dotted keys; lists become JSON text so that they can be grouped on."""
    if isinstance(node, dict):
        flat: dict = {}
        for key, value in node.items():
            flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: json.dumps(node) if isinstance(node, list) else node}


def load_config(path: Path) -> dict:
    """The run's composed config, flattened, plus ``experiment``: the experiment file it was
    composed from (Hydra's choice in ``.hydra/hydra.yaml``; None without one)."""
    cfg = OmegaConf.load(path)
    try:
        plain = OmegaConf.to_container(cfg, resolve=True)
    except Exception:  # e.g. ${oc.env:...} of a variable unset now: keep the text
        plain = OmegaConf.to_container(cfg, resolve=False)
    hydra_file = path.parent / "hydra.yaml"
    experiment = None
    if hydra_file.is_file():
        choices = OmegaConf.load(hydra_file).hydra.runtime.get("choices", {})
        experiment = choices.get("experiment")
    return {"experiment": experiment, **flatten(plain)}


def shown_path(run_dir: Path, inputs: list[Path]) -> str:
    for root in inputs:
        root = root.resolve()
        if run_dir == root or root in run_dir.parents:
            relative = run_dir.relative_to(root)
            return str(Path(root.name) / relative) if str(relative) != "." else root.name
    return str(run_dir)


def collect_runs(inputs: list[Path]) -> tuple[pd.DataFrame, list[str]]:
    """(one row per completed run, notes on what was left out). ``table.attrs["config_keys"]``
    lists the config columns. Raises ReportError when there is nothing to report."""
    run_dirs = find_run_dirs(inputs)
    if not run_dirs:
        raise ReportError(
            f"no runs found below {', '.join(str(p) for p in inputs)}: a run directory holds "
            "summary.json and .hydra/config.yaml (searched every subdirectory)"
        )
    rows, config_keys, notes, statuses = [], {}, [], {}
    for run_dir in run_dirs:
        path = run_dir / "summary.json"
        try:
            summary = json.loads(path.read_text())
            path = run_dir / ".hydra" / "config.yaml"
            config = load_config(path)
        except (OSError, ValueError, yaml.YAMLError) as err:  # named, never "did not complete"
            notes.append(f"skipped {run_dir}: {path.name} is unreadable ({err})")
            continue
        if not isinstance(summary, dict):
            notes.append(f"skipped {run_dir}: summary.json is not a run summary (not an object)")
            continue
        status = summary.get("status")
        if status != "completed":
            statuses[status] = statuses.get(status, 0) + 1
            continue
        config_keys.update(dict.fromkeys(config))
        shown = shown_path(run_dir, inputs)
        rows.append({"run": shown, "run_dir": str(run_dir), **summary, **config})
    if statuses:
        counts = ", ".join(f"{n} {s}" for s, n in statuses.items())
        notes.append(f"left out {sum(statuses.values())} runs that did not complete ({counts})")
    if not rows:
        raise ReportError(
            f"none of the {len(run_dirs)} runs below {', '.join(str(p) for p in inputs)} "
            f"is a readable, completed run; nothing to report ({'; '.join(notes)})"
        )
    table = pd.DataFrame(rows)
    for key in config_keys:  # as written: an int some runs lack stays 1000, not float 1000.0
        table[key] = pd.Series([row.get(key) for row in rows], index=table.index, dtype=object)
    table.attrs["config_keys"] = list(config_keys)
    return table, notes


def history(run_dir: str | Path) -> list[dict]:
    """The per-epoch evaluation rows of ``metrics.jsonl`` (step rows, with a ``kind``, skipped)."""
    return [r for r in read_rows(Path(run_dir) / "metrics.jsonl") if "kind" not in r]
