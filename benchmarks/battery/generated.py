"""Cases generated from ``mtfw/conf/``: every numeric setting of the trainer, the optimizers, the
embedding and the encoders (walked from their YAML files, so a new key is tried without being
listed here) given a word, a negative number and, for whole numbers, a fraction; fractions of one
(dropout, betas, momentum, self_weight) also a value above their range. Each refusal must name
the key."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from battery.runner import Case
from battery.setups import ROOT, TINY
from mtfw.preflight import CONF_DIR
from mtfw.trainer.config import TrainerConfig

ABOVE = {"dropout": "1", "momentum": "1.5", "self_weight": "1.5"}  # their range ends at 1
HILLSTROM = ROOT.parent / "shared" / "data" / "hillstrom" / "hillstrom.csv.gz"
# A funnel encoder needs its funnel's tasks (Hillstrom's visit -> conversion).
CONTEXT = {
    "esmm": ("experiment=hillstrom_esmm", f"data.path={HILLSTROM}"),
    "aitm": ("experiment=hillstrom_aitm", f"data.path={HILLSTROM}"),
}


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numeric_leaves(node: Any, prefix: str) -> list[tuple[str, Any]]:
    """(dotted key, value) of every number or list of numbers below ``node``."""
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in numeric_leaves(v, f"{prefix}.{k}")]
    if is_number(node) or (isinstance(node, list) and node and all(map(is_number, node))):
        return [(prefix, node)]
    return []


def bad_values(key: str, value: Any) -> list[str]:
    last = key.rsplit(".", 1)[1]
    if isinstance(value, list):
        out = ["[abc]", "[-1]"]
        if last == "betas":
            out.append("[0.9,1.0]")
        return out
    out = ["abc", "-1"]
    if isinstance(value, int):
        out.append("2.5")
    if last in ABOVE:
        out.append(ABOVE[last])
    return out


def yaml(path: Path) -> dict:
    return OmegaConf.to_container(OmegaConf.load(path), resolve=False)


def trainer_numbers(values: dict) -> list[tuple[str, Any]]:
    """The trainer's numeric settings, those null by default (no cap, no clipping) included:
    their type is TrainerConfig's."""
    found = []
    for f in fields(TrainerConfig):
        kind = "int" if "int" in str(f.type) else "float" if "float" in str(f.type) else None
        if kind is not None and f.name in values:
            value = values[f.name]
            found.append((f.name, value if value is not None else (1 if kind == "int" else 1.0)))
    return found


def settings() -> list[tuple[str, tuple[str, ...], str, Any]]:
    """(case group, overrides selecting the file, key, its value) for every numeric setting."""
    trainer = yaml(CONF_DIR / "trainer" / "default.yaml")
    found = [("trainer", (), f"trainer.{key}", value) for key, value in trainer_numbers(trainer)]
    for key, value in numeric_leaves(yaml(CONF_DIR / "train.yaml")["embedding"], "embedding"):
        found.append(("embedding", (), key, value))
    for path in sorted((CONF_DIR / "optim").glob("*.yaml")):
        for key, value in numeric_leaves(yaml(path), "optim"):
            found.append((f"optim={path.stem}", (f"optim={path.stem}",), key, value))
    for path in sorted((CONF_DIR / "encoder").glob("*.yaml")):
        select = CONTEXT.get(path.stem, (f"encoder={path.stem}",))
        for key, value in numeric_leaves(yaml(path), "encoder"):
            found.append((f"encoder={path.stem}", select, key, value))
    return found


def cases() -> list[Case]:
    out = []
    for group, select, key, value in settings():
        for bad in bad_values(key, value):
            argv = ("train", *TINY, *select, f"{key}={bad}")
            out.append(Case(f"{group} {key}={bad}", argv, says=key))
    return out
