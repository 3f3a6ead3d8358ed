"""Render a report as Markdown (the table for a paper draft), LaTeX (booktabs) or CSV.

Markdown and LaTeX show text cells (``mean ± std``, 4 decimals) and a legend below the table;
CSV keeps the numbers (mean, std and best per metric, gains, Delta_m, p-values) for other tools.
"""

from __future__ import annotations

import math

import pandas as pd

from mtfw.report.build import Report, Row
from mtfw.report.group import has_folds, replicates
from mtfw.report.significance import pairing_name

FORMATS = ("md", "latex", "csv")
MISSING = "-"


def metric_label(key: str, metrics: list[str]) -> str:
    """``test/income/auc`` -> ``income auc`` when every metric is on the same split."""
    parts = key.split("/")
    same_split = len({m.split("/")[0] for m in metrics}) == 1
    return " ".join(parts[1:] if same_split else parts)


def by_label(key: str) -> str:
    return key.removesuffix(".name")


def mean_std(stats: tuple[float, float, int]) -> str:
    mean, std, n = stats
    if math.isnan(mean):
        return MISSING
    return f"{mean:.4f}" if n < 2 or math.isnan(std) else f"{mean:.4f} ± {std:.4f}"


def signed(value: float, decimals: int) -> str:
    """``+0.0012``; a value that would round to zero keeps its sign and size: ``+1.6e-05``."""
    if math.isnan(value):
        return MISSING
    if value != 0 and abs(value) < 0.5 * 10**-decimals:
        return f"{value:+.1e}"
    return f"{value:+.{decimals}f}"


def p_text(p: float) -> str:
    return MISSING if math.isnan(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def text_cells(report: Report, means_only: bool = False) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of the Markdown and LaTeX tables; ``means_only``: the rows' labels, n and
    ``mean ± std`` cells, without the best-run, gain, Δm, seesaw and p columns."""
    tasks = list(report.gain_metrics)
    header = [by_label(k) for k in report.by] or ["runs"]
    header += ["n", *(metric_label(m, report.metrics) for m in report.metrics)]
    if means_only:
        rows = [[*r.group.values.values()] or [r.group.label] for r in report.rows]
        return header, [
            [*cells, str(len(r.group.runs)), *(mean_std(r.stats[m]) for m in report.metrics)]
            for cells, r in zip(rows, report.rows, strict=True)
        ]
    header += [f"best {metric_label(m, report.metrics)}" for m in report.metrics]
    header += [*(f"gain {t}" for t in tasks), "Δm %", "seesaw", *(f"p {t}" for t in tasks)]
    rows = []
    for row in report.rows:
        cells = [*row.group.values.values()] or [row.group.label]
        cells.append(str(len(row.group.runs)))
        cells += [mean_std(row.stats[m]) for m in report.metrics]
        cells += [MISSING if math.isnan(row.best[m]) else f"{row.best[m]:.4f}"
                  for m in report.metrics]  # fmt: skip
        cells += [signed(row.gains.get(t, math.nan), 4) for t in tasks]
        cells += [signed(row.delta_m, 3), {True: "yes", False: "no"}.get(row.seesaw, MISSING)]
        cells += [p_text(row.p_values.get(t, (math.nan, 0))[0]) for t in tasks]
        rows.append(cells)
    return header, rows


def legend(report: Report, means_only: bool = False) -> list[str]:
    runs = pd.concat([r.group.runs for r in report.rows]) if report.rows else pd.DataFrame()
    over = f"which differ only by {replicates(runs)}"
    if has_folds(runs):
        over += ", the test folds of K-fold cross-validation"
    monitors = {str(r.group.best_run().get("monitor")) for r in report.rows}
    metric = ", ".join(f"{t}: {k}" for t, k in report.gain_metrics.items())
    pairs = "; ".join(f"{r.group.label} vs {r.baseline}" for r in report.rows if r.baseline)
    if means_only:
        return [f"mean ± std: over the n runs of a row, {over} (sample std, ddof=1)", *report.notes]
    return [
        f"mean ± std: over the n runs of a row, {over} (sample std, ddof=1)",
        f"best: the run with the best {' / '.join(sorted(monitors))} (validation), its test value",
        f"gain: MTL gain, Tang et al. (RecSys 2020) Eq. 11, in metric units ({metric}); Δm %: "
        "Maninis et al. (CVPR 2019), mean relative change over tasks; seesaw: one task gains "
        "while another loses",
        f"single-task baselines: {pairs or 'none'}",
        *report.notes,
        *report.comparison_notes,
    ]


def markdown(report: Report, means_only: bool = False) -> str:
    header, rows = text_cells(report, means_only)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = ["---"] * len(report.by or [0]) + ["---:"] * (len(header) - len(report.by or [0]))
    table = [line(header), "|" + "|".join(align) + "|", *(line(r) for r in rows)]
    notes = legend(report, means_only)
    return "\n".join(table) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                 "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                 "^": r"\textasciicircum{}", "±": r"$\pm$", "Δm": r"$\Delta_m$",
                 "<": "$<$"}  # fmt: skip


def latex_escape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        two = text[i : i + 2]
        if two in LATEX_SPECIAL:
            out.append(LATEX_SPECIAL[two])
            i += 2
            continue
        out.append(LATEX_SPECIAL.get(text[i], text[i]))
        i += 1
    return "".join(out)


def latex(report: Report, means_only: bool = False) -> str:
    header, rows = text_cells(report, means_only)
    n_left = len(report.by or [0])
    spec = "l" * n_left + "r" * (len(header) - n_left)
    lines = ["% mtfw report; needs \\usepackage{booktabs}", f"\\begin{{tabular}}{{{spec}}}",
             "\\toprule", " & ".join(latex_escape(h) for h in header) + " \\\\", "\\midrule",
             *(" & ".join(latex_escape(c) for c in r) + " \\\\" for r in rows),
             "\\bottomrule", "\\end{tabular}"]  # fmt: skip
    return "\n".join(lines + [f"% {latex_escape(n)}" for n in legend(report, means_only)]) + "\n"


def csv_frame(report: Report) -> pd.DataFrame:
    records = [csv_record(report, row) for row in report.rows]
    return pd.DataFrame(records)


def csv_record(report: Report, row: Row) -> dict:
    record: dict = {"label": row.group.label, **row.group.values, "n": len(row.group.runs),
                    "seeds": " ".join(str(s) for s in row.group.seeds),
                    "folds": " ".join(str(f) for f in row.group.folds)}  # fmt: skip
    for m in report.metrics:
        mean, std, _ = row.stats[m]
        record.update({f"{m} mean": mean, f"{m} std": std, f"{m} best": row.best[m]})
    record.update(best_run=row.best_run, baseline=row.baseline or "")
    for task in report.gain_metrics:
        record[f"gain {task}"] = row.gains.get(task, math.nan)
    record.update({"delta_m %": row.delta_m, "seesaw": row.seesaw})
    for task in report.gain_metrics:
        p, pairs = row.p_values.get(task, (math.nan, 0))
        record.update({f"p {task}": p, f"pairs {task}": pairs})
    record["test"] = pairing_name(replicates(row.group.runs))
    return record


def render(report: Report, fmt: str, means_only: bool = False) -> str:
    """The table in ``fmt``; ``means_only`` trims Markdown and LaTeX (CSV keeps every number)."""
    if fmt == "md":
        return markdown(report, means_only)
    if fmt == "latex":
        return latex(report, means_only)
    return csv_frame(report).to_csv(index=False)
