"""The MMoE paper's synthetic experiment (Ma et al., KDD 2018, §5.1; data of §3.2) as a table, and
its claim checked: "MMoE's advantage over shared-bottom grows as task correlation falls".

Runs: ``mtfw train -m experiment=mmoe_synthetic 'seed=range(N)'`` (correlation p x model x
learning rate x repeat; repeat r draws its data and initialisation from seed r). Per p and model
the learning rate is the one with the best mean validation value of the monitor over the repeats
(model selection never sees test); that learning rate's N runs give the mean and the best run (the
run best on validation). The advantage of MMoE over shared-bottom at p is the mean over repeats r
of ``metric(shared_bottom, r) - metric(mmoe, r)`` (sign flipped for a higher-is-better metric:
positive means MMoE is better), with its standard error; runs are paired by repeat (same data,
same initial seed). The claim is *supported* when the advantage at the lowest p exceeds the one at
the highest p (their difference, paired by repeat, has a two-sided paired t-test p < 0.05),
*contradicted* when it is significantly smaller, and *not shown* otherwise.
"""

from __future__ import annotations

import math

import pandas as pd

from mtfw.report.collect import ReportError
from mtfw.report.direction import better
from mtfw.report.protocol_cells import (
    MODEL_NAMES,
    best_value,
    cell,
    markdown_table,
    mean_std_n,
    need_columns,
    ordered_models,
    paired_difference,
)
from mtfw.report.significance import paired_t_test

METRIC = "test/mean/mse"
CLAIM = "MMoE's advantage over shared-bottom grows as task correlation falls"
KEYS = ["data.correlation", "encoder.name", "optim.lr", "seed", "monitor_value", METRIC]


def chosen_runs(runs: pd.DataFrame) -> tuple[float, pd.DataFrame]:
    """(learning rate, its runs): the rate whose runs have the best mean validation monitor."""
    higher = better(str(runs["monitor"].iloc[0])) if "monitor" in runs else False
    means = runs.groupby("optim.lr")["monitor_value"].mean()
    lr = float(means.idxmax() if higher else means.idxmin())
    return lr, runs[runs["optim.lr"] == lr]


def by_repeat(runs: pd.DataFrame) -> dict:
    return dict(zip(runs["seed"], pd.to_numeric(runs[METRIC]), strict=True))


def verdict(low: dict, high: dict, p_low: float, p_high: float) -> str:
    """Whether the advantage at the lowest correlation exceeds the one at the highest."""
    mean, se, n = paired_difference(low, high)
    repeats = sorted(set(low) & set(high))
    _, p, _ = paired_t_test([low[r] for r in repeats], [high[r] for r in repeats])
    measured = (f"advantage at p={p_low:.1f} minus advantage at p={p_high:.1f}: "
                f"{cell(mean, se)} (mean ± standard error over {n} paired repeats; paired "
                f"t-test, two-sided, p = {cell(p, decimals=3)})")  # fmt: skip
    if n < 2 or math.isnan(p):
        return f"Cannot say: {measured}; it needs at least 2 repeats"
    if p < 0.05:
        word = "supported" if mean > 0 else "contradicted"
        return f"**{word.capitalize()}** by this run: {measured}"
    return f"**Not shown** at N={n}: {measured}"


def mmoe_synthetic(table: pd.DataFrame) -> str:
    need_columns(table, KEYS, "mmoe_synthetic")
    numbers = {k: pd.to_numeric(table[k]) for k in ("optim.lr", "data.correlation")}
    table = table.assign(**numbers)
    sign = -1.0 if not better(METRIC) else 1.0  # advantage > 0: MMoE better
    correlations = sorted(table["data.correlation"].unique(), reverse=True)
    models = ordered_models(list(dict.fromkeys(table["encoder.name"].astype(str))))
    if "shared_bottom" not in models or "mmoe" not in models:
        raise ReportError(f"--protocol mmoe_synthetic compares mmoe with shared_bottom; the runs "
                          f"have encoders {', '.join(models)}")  # fmt: skip
    grid = ", ".join(f"{lr:g}" for lr in sorted(table["optim.lr"].unique()))
    rows, chosen = [], {}
    for p in correlations:
        for model in models:
            runs = table[(table["data.correlation"] == p) & (table["encoder.name"] == model)]
            if runs.empty:
                continue
            lr, mine = chosen_runs(runs)
            chosen[p, model] = by_repeat(mine)
            mean, std, n = mean_std_n(mine[METRIC])
            rows.append([f"{p:.1f}", MODEL_NAMES.get(model, model), f"{lr:g}", str(n),
                         cell(mean, std), cell(best_value(mine, METRIC))])  # fmt: skip
    advantage = {}
    claim_rows = []
    for p in correlations:
        row = [f"{p:.1f}"]
        for model in [m for m in models if m not in ("shared_bottom", "single_task")]:
            base, other = chosen.get((p, "shared_bottom"), {}), chosen.get((p, model), {})
            diff = paired_difference({r: sign * v for r, v in other.items()},
                                     {r: sign * v for r, v in base.items()})  # fmt: skip
            row += [cell(diff[0], diff[1]), str(diff[2])]
            if model == "mmoe":
                advantage[p] = {r: sign * (other[r] - base[r]) for r in set(base) & set(other)}
        claim_rows.append(row)
    low, high = min(correlations), max(correlations)
    header = ["p", "model", "lr (chosen on val)", "runs", f"{METRIC} mean ± std", "best"]
    others = [m for m in models if m not in ("shared_bottom", "single_task")]
    claim_header = ["p"]
    for model in others:
        claim_header += [f"{MODEL_NAMES.get(model, model)} advantage", "pairs"]
    lines = [
        "### MMoE paper, synthetic data (Ma et al., KDD 2018, §5.1)", "",
        *markdown_table(header, rows, right_from=2), "",
        f"Per p and model the learning rate (grid: {grid}) with the best mean validation "
        "monitor over the repeats; mean ± sample std of its runs; best: the test value of its "
        "run best on validation.", "",
        f"Advantage over Shared-Bottom in {METRIC} (positive: better than shared-bottom), mean ± "
        "standard error over repeats, paired by repeat (same data and initial seed):", "",
        *markdown_table(claim_header, claim_rows), "",
        f"Published claim: \"{CLAIM}\". "
        f"{verdict(advantage.get(low, {}), advantage.get(high, {}), low, high)}.",
    ]  # fmt: skip
    return "\n".join(lines) + "\n"
