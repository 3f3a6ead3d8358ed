"""Hydra's command-line flags, checked before Hydra reads them: flags stand before or after all
of the overrides, never between two (``a=1 -m b=2`` would make ``b=2`` an "unrecognized
argument"), one mode per command (``-m`` and ``--cfg`` are two), and a ``--config-dir`` holds
YAML mappings (Hydra would print a traceback for a file that is not YAML or not a mapping)."""

from __future__ import annotations

from pathlib import Path

import yaml

from mtfw.errors import ConfigError

# Hydra's flags whose value may be the next argument (``--cfg job``, ``-cd conf``).
VALUED = ("--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
          "--config-dir", "-cd")  # fmt: skip


def check_flags(argv: list[str]) -> None:
    """Hydra's flags in places and combinations Hydra can run."""
    refuse_flags_between_overrides(argv)
    refuse_two_modes(argv)


def refuse_flags_between_overrides(argv: list[str]) -> None:
    """Raise a ConfigError naming the first flag that stands between two overrides."""
    overrides, value_next = [], False
    for i, arg in enumerate(argv):
        if not arg.startswith("-") and not value_next:
            overrides.append(i)
        value_next = arg in VALUED
    if not overrides:
        return
    between = [argv[i] for i in range(overrides[0], overrides[-1]) if i not in overrides]
    if between:
        raise ConfigError(
            f"'{between[0]}' stands between overrides: Hydra reads its flags (-m, --cfg job, "
            "--config-dir=DIR, ...) before or after all of the overrides; move it to the front, "
            "e.g. mtfw train -m seed=0,1 trainer.max_epochs=2"
        )


# Hydra's modes: a command runs in one of them (Hydra raises a ValueError traceback for two).
MODES = {"--run": "--run", "-r": "--run", "--multirun": "-m", "-m": "-m", "--cfg": "--cfg",
         "-c": "--cfg", "--info": "--info", "-i": "--info",
         "--shell-completion": "--shell-completion", "-sc": "--shell-completion"}  # fmt: skip


def refuse_two_modes(argv: list[str]) -> None:
    """Raise a ConfigError when the command line asks Hydra for two modes (``-m ... --cfg job``;
    ``cv=K`` counts as ``-m``)."""
    given = {MODES[a.split("=", 1)[0]] for a in argv if a.split("=", 1)[0] in MODES}
    if len(given) > 1:
        raise ConfigError(
            f"{' and '.join(sorted(given))} cannot be combined: Hydra runs one of --run, -m "
            "(--multirun, also what cv=K means), --cfg, --info and --shell-completion per "
            "command; to see a multirun's config, print one of its runs' (mtfw train --cfg job "
            "seed=0 ...)"
        )


def check_config_dir(folder: Path, origin: str = "--config-dir") -> None:
    """Every YAML file of a user config folder (an existing one, named by ``origin``) is YAML,
    and a mapping of settings."""
    for path in sorted(folder.rglob("*.yaml")):
        try:
            node = yaml.safe_load(path.read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            where = getattr(err, "problem_mark", None)
            line = f", line {where.line + 1}" if where is not None else ""
            problem = getattr(err, "problem", None) or type(err).__name__
            raise ConfigError(f"{path}{line} is not valid YAML ({problem}); fix or remove "
                              f"it ({origin})") from None  # fmt: skip
        if node is not None and not isinstance(node, dict):
            raise ConfigError(
                f"{path} holds a {type(node).__name__}, not a mapping of settings: a config file "
                f"of {origin} maps keys to values, as the files of mtfw/conf/ do"
            )
