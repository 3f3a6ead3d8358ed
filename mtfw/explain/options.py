"""The options of ``mtfw explain``, parsed and checked before anything is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mtfw.errors import ConfigError
from mtfw.settings import closest

METHODS = ("permutation", "integrated_gradients")
USAGE = ("usage: mtfw explain <run_dir> [split=val|test] [methods=permutation,"
         "integrated_gradients] [repeats=5] [seed=0] [tasks=A,B] [fields=F,G] [out=DIR] "
         "[batch_size=N] [allow_unfinished=true]")  # fmt: skip


@dataclass
class ExplainOptions:
    split: str = "val"
    methods: list[str] = field(default_factory=lambda: list(METHODS))
    repeats: int = 5
    seed: int = 0
    tasks: list[str] | None = None
    fields: list[str] | None = None
    out: Path | None = None
    batch_size: int | None = None
    allow_unfinished: bool = False


def whole_number(key: str, value: str, least: int) -> int:
    if not value.isdigit() or int(value) < least:
        raise ConfigError(f"mtfw explain: {key}={value}: give a whole number >= {least}")
    return int(value)


def names(key: str, value: str) -> list[str]:
    listed = [v.strip() for v in value.split(",") if v.strip()]
    if not listed:
        raise ConfigError(f"mtfw explain: {key}= names nothing; give names separated by commas")
    return list(dict.fromkeys(listed))


def parse(argv: list[str]) -> tuple[Path, ExplainOptions]:
    """The run directory and the options; a ConfigError for anything else."""
    if not argv or "=" in argv[0]:
        raise ConfigError(USAGE)
    options = ExplainOptions()
    for arg in argv[1:]:
        key, _, value = arg.partition("=")
        if key not in ExplainOptions.__dataclass_fields__ or not value:
            raise ConfigError(
                f"mtfw explain: unknown option '{arg}'.{closest(key, list(vars(options)))} "
                f"Options: {', '.join(k + '=...' for k in vars(options))}"
            )
        if key == "split" and value not in ("val", "test"):
            raise ConfigError(f"mtfw explain: split={value}: give val (the default) or test")
        if key == "methods":
            value = names(key, value)
            unknown = [m for m in value if m not in METHODS]
            if unknown:
                raise ConfigError(
                    f"mtfw explain: unknown method '{unknown[0]}'.{closest(unknown[0], METHODS)} "
                    f"Methods: {', '.join(METHODS)}"
                )
        if key in ("repeats", "batch_size"):
            value = whole_number(key, value, 1)
        if key == "seed":
            value = whole_number(key, value, 0)
        if key in ("tasks", "fields"):
            value = names(key, value)
        if key == "out":
            value = Path(value)
        if key == "allow_unfinished":
            if value not in ("true", "false"):
                raise ConfigError("mtfw explain: allow_unfinished takes true or false")
            value = value == "true"
        setattr(options, key, value)
    return Path(argv[0]), options
