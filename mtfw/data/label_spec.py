"""Labels declared in YAML (``data.labels`` of a tabular file), no Python needed.

A label is a column, optionally turned into a number: ``map`` (strings to numbers), ``equals`` /
``in`` / ``not_in`` (1 where the value matches, else 0), thresholds ``min`` / ``max`` (inclusive)
and ``above`` / ``below`` (strict) that give 1 inside the range; ``where`` keeps the label only on
rows where another column is non-zero (e.g. conversions among clicks). A missing value stays
missing. Every column a label reads is a source the leakage guard keeps out of the inputs.

    labels:
      income: {column: income, equals: ">50K"}
      single: {column: marital-status, in: [Never-married, Divorced]}
      grade:  {column: grade, map: {low: 0, mid: 1, high: 2}}
      heavy:  {column: spend, above: 100}
      buy:    {column: purchase, where: click}
"""

from __future__ import annotations

import pandas as pd

from mtfw.errors import ConfigError
from mtfw.settings import check_keys, closest

MATCHES = ("equals", "in", "not_in")
THRESHOLDS = ("min", "max", "above", "below")
KEYS = ["column", "where", "map", *MATCHES, *THRESHOLDS]


def _matches(raw: pd.Series, spec: dict, where: str) -> pd.Series:
    kind = next(k for k in MATCHES if k in spec)
    wanted = spec[kind] if kind != "equals" else [spec[kind]]
    if not isinstance(wanted, list):
        raise ConfigError(f"{where}.{kind}: give a list of values, e.g. [a, b]")
    text = raw.astype("string").str.strip()
    hit = text.isin([str(v) for v in wanted])
    return (~hit if kind == "not_in" else hit).astype("float64").where(raw.notna())


def _mapped(raw: pd.Series, mapping: dict, where: str) -> pd.Series:
    if not isinstance(mapping, dict) or not mapping:
        raise ConfigError(f"{where}.map: give {{value: number, ...}}")
    text = raw.astype("string").str.strip()
    table = {str(k): float(v) for k, v in mapping.items()}
    unmapped = sorted(set(text.dropna()) - set(table))
    if unmapped:
        raise ConfigError(
            f"{where}.map has no number for {len(unmapped)} value(s) of the column, e.g. "
            f"{', '.join(repr(v) for v in unmapped[:5])}; map every value"
        )
    return text.map(table).astype("float64")


def _numbers(raw: pd.Series, where: str) -> pd.Series:
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    text = raw.astype("string").str.strip()
    strings = values.isna() & raw.notna() & (text != "")
    if strings.any():
        example = text[strings].iloc[0]
        raise ConfigError(
            f"{where}: column '{raw.name}' holds text (e.g. {example!r}), not numbers: make it "
            "a label with equals:, in:, not_in: or map: (e.g. {column: ..., equals: "
            f"{example!r}}})"
        )
    return values


def _threshold(value, where: str) -> float:
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}={value!r}: a threshold is a number, e.g. {where}=4") from None


def derive_label(frame: pd.DataFrame, name: str, spec: str | dict) -> tuple[pd.Series, list[str]]:
    """A label column (float, NaN where missing) and the raw columns it comes from."""
    where = f"data.labels.{name}"
    spec = {"column": spec} if isinstance(spec, str) else dict(spec)
    check_keys(spec, KEYS, where)
    if "column" not in spec:
        raise ConfigError(f"{where}: needs column: (and may have {', '.join(KEYS[1:])})")
    kinds = [k for k in ("map", *MATCHES) if k in spec] + (
        ["thresholds"] if any(k in spec for k in THRESHOLDS) else []
    )
    if len(kinds) > 1:
        raise ConfigError(f"{where}: use one of map, {', '.join(MATCHES)} or thresholds, not "
                          f"{' and '.join(kinds)}")  # fmt: skip
    for key in ("column", "where"):
        if key in spec and spec[key] not in frame.columns:
            raise ConfigError(f"{where}: no column '{spec[key]}'.{closest(spec[key], list(frame))}")
    raw = frame[spec["column"]]
    if "map" in spec:
        values = _mapped(raw, spec["map"], where)
    elif any(k in spec for k in MATCHES):
        values = _matches(raw, spec, where)
    else:
        values = _numbers(raw, where)
        inside = pd.Series(True, index=values.index)
        for key, test in (("min", values.ge), ("max", values.le), ("above", values.gt),
                          ("below", values.lt)):  # fmt: skip
            if key in spec:
                inside &= test(_threshold(spec[key], f"{where}.{key}"))
        if any(k in spec for k in THRESHOLDS):
            values = inside.astype("float64").where(values.notna())
    if "where" in spec:
        values = values.where(pd.to_numeric(frame[spec["where"]], errors="coerce") != 0)
    return values.astype("float32"), [spec["column"], *([spec["where"]] if "where" in spec else [])]


def refuse_label_log1p(log1p: list[str], labels: dict) -> None:
    """``data.log1p`` transforms numeric input features; a label (or a column a label reads) named
    there would be silently left as it is, so it is an error pointing at the task's setting."""
    sources = {name: [name] for name in labels}
    for name, spec in labels.items():
        spec = {"column": spec} if isinstance(spec, str) else dict(spec or {})
        sources[name] += [spec[k] for k in ("column", "where") if isinstance(spec.get(k), str)]
    for column in log1p:
        label = next((name for name, cols in sources.items() if column in cols), None)
        if label is not None:
            raise ConfigError(
                f"data.log1p names '{column}', the label column of '{label}': data.log1p "
                "transforms numeric input features only. To learn log1p of a regression label, "
                "set transform: log1p on the task (task.<name>.transform=log1p; its metrics stay "
                f"in the label's units), or use name: count for a count; drop '{column}' from "
                "data.log1p"
            )
