"""``mtfw reproduce <run_dir> [out=DIR] [key=value ...]``: re-run a finished run from its saved
config and compare.

The new run goes to its own directory (never the original's). ``key=value`` may change run-control
keys only (``mtfw.run_control``: where the data lives, threads, device, the tracker), e.g. to
reproduce on another machine; a key that changes what the run computes is refused. Every metric of
the original ``summary.json`` is compared with the new one: identical on the same machine and CPU;
otherwise the differences are printed with the environment differences that may explain them
(package versions, source revision, a dirty tree, the data checksum). Exit status 0 when every
metric matches, 1 when some differ, 2 on bad input.
"""

from __future__ import annotations

import math
import shlex
import sys
from datetime import datetime
from pathlib import Path

import yaml
from omegaconf import DictConfig, OmegaConf

from mtfw.errors import CheckpointError, ConfigError
from mtfw.run_control import CONTROL_KEYS, CONTROL_PREFIXES, is_control
from mtfw.run_files import read_config, read_summary
from mtfw.tracking.provenance import warn, warn_if_data_changed
from mtfw.user_config.run_record import copy_record

COMPARED = ("val/", "test/", "gate/")
ENVIRONMENT = ("git_sha", "git_dirty", "data/checksum", "data/split_seed", "version/",
               "num_threads")  # fmt: skip
TOLERANCE = 1e-6  # relative: what float sums in another order (threads, kernels) may move


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def largest_difference(original: dict, new: dict) -> tuple[str, float]:
    """The compared key whose value moved most, relative to its size (inf: missing, not a
    number on one side, or NaN on one side only)."""
    worst = ("", 0.0)
    for key in sorted(set(original) | set(new)):
        a, b = original.get(key), new.get(key)
        if not key.startswith(COMPARED) or _same(a, b):
            continue
        numbers = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (a, b))
        change = abs(a - b) / max(abs(a), abs(b), 1e-12) if numbers else math.inf
        worst = max(worst, (key, change), key=lambda w: w[1])
    return worst


def compare(original: dict, new: dict) -> tuple[list[str], list[str]]:
    """(metric differences, environment differences) as printable lines."""
    metrics = [
        f"  {k}: {original.get(k)!r} -> {new.get(k)!r}"
        for k in sorted(set(original) | set(new))
        if k.startswith(COMPARED) and not _same(original.get(k), new.get(k))
    ]
    env = [
        f"  {k}: {original.get(k)!r} -> {new.get(k)!r}"
        for k in sorted(set(original) | set(new))
        if k.startswith(ENVIRONMENT) and original.get(k) != new.get(k)
    ]
    return metrics, env


def with_control(cfg: DictConfig, overrides: list[str]) -> DictConfig:
    """The saved config with run-control changes only (``data.root=...``,
    ``trainer.num_threads=1``): where and how the run is made, never what it computes."""
    for text in overrides:
        key, _, value = text.partition("=")
        if not is_control(key) or key in ("seed", "resume"):
            raise ConfigError(
                f"mtfw reproduce: '{text}' would change what the run computes; only run-control "
                f"keys may change ({', '.join(sorted(CONTROL_KEYS - {'seed', 'resume'}))}, "
                f"{', '.join(p + '*' for p in CONTROL_PREFIXES)})"
            )
        OmegaConf.update(cfg, key, yaml.safe_load(value), force_add=True)
    return cfg


def reproduce(
    run_dir: Path, out: Path | None = None, overrides: list[str] = (), command: str | None = None
) -> int:
    """Re-run ``run_dir`` from its saved config (never from a config folder: the copies of the
    user files it read travel with the new run's record). Returns the exit status."""
    from mtfw.data.text.model_files import refuse_changed_models
    from mtfw.experiment import check_config  # heavy imports only when a run is made
    from mtfw.train import run

    if not (run_dir / ".hydra" / "config.yaml").is_file() or read_summary(run_dir) is None:
        raise CheckpointError(f"{run_dir} is not a finished run (needs .hydra/config.yaml and "
                              "summary.json)")  # fmt: skip
    original, saved = read_summary(run_dir), read_config(run_dir)
    if original.get("status") != "completed":
        raise CheckpointError(f"{run_dir} did not complete (status {original.get('status')!r})")
    refuse_changed_models(original)  # a pretrained text encoder's weights, before anything runs
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S.%f")
    out = out or Path("outputs") / "reproductions" / f"{run_dir.resolve().name}-{stamp}"
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"out={out} already exists and is not an empty folder")
    if saved.trainer.get("num_threads") is None and original.get("num_threads"):
        # the thread count the run used (it changes float sums), unless the user sets another
        overrides = [f"trainer.num_threads={original['num_threads']}", *overrides]
    cfg = with_control(saved, list(overrides))
    check_config(cfg)  # a bad run-control value (trainer.num_threads=many) before out= is made
    (out / ".hydra").mkdir(parents=True, exist_ok=True)
    OmegaConf.save(cfg, out / ".hydra" / "config.yaml")
    copy_record(run_dir, out, command or shlex.join(["mtfw", "reproduce", str(run_dir)]))
    if original.get("git_dirty"):
        warn(f"{run_dir} was trained from a source tree with uncommitted changes (git_dirty)")
    new = run(cfg, out)
    metrics, env = compare(original, new)
    warn_if_data_changed(original, new)  # the new run itself warns when today's tree is dirty
    n = sum(k.startswith(COMPARED) for k in original)
    if not metrics:
        print(f"reproduced: all {n} metrics identical ({out})")
        return 0
    largest = largest_difference(original, new)
    if largest[1] <= TOLERANCE:
        print(
            f"reproduced within float tolerance: {len(metrics)} of {n} metrics differ, by at "
            f"most {largest[1]:.2g} relative ({largest[0]}; tolerance {TOLERANCE:g}) ({out})"
        )
        print("environment differences:\n" + ("\n".join(env) or "  none recorded"))
        return 0
    print(f"NOT reproduced: {len(metrics)} metrics differ, by up to {largest[1]:.2g} relative "
          f"({largest[0]}) ({out})\n" + "\n".join(metrics))  # fmt: skip
    print("environment differences:\n" + ("\n".join(env) or "  none recorded"))
    return 1


def main(argv: list[str]) -> None:
    """``mtfw reproduce``: exit status 0 or 1 (see above); bad input raises (the CLI exits 2)."""
    paths = [a for a in argv if "=" not in a]
    outs = [Path(a.split("=", 1)[1]) for a in argv if a.startswith("out=")]
    overrides = [a for a in argv if "=" in a and not a.startswith("out=")]
    if len(paths) != 1:
        raise ConfigError("usage: mtfw reproduce <run_dir> [out=DIR] [run-control key=value ...]")
    command = shlex.join(["mtfw", "reproduce", *argv])
    sys.exit(reproduce(Path(paths[0]), outs[0] if outs else None, overrides, command))
