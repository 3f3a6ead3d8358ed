"""The task x field tables of ``mtfw explain`` as Markdown, and which fields drive several tasks
and which one task only.

A field *drives* a task by a method when its share of the task's positive importance (the
positive values over the table's fields, summed to 1) is at least the uniform share 1/F: it
counts for more than an average field. Driving two or more tasks makes a field *shared*; driving
exactly one makes it specific to that task."""

from __future__ import annotations

import pandas as pd

from mtfw.explain.experts import ExpertTable

LEGENDS = {
    "permutation": "Worsening of the task's metric when the field is shuffled, mean ± std over "
    "the repeats (positive: the field matters)",
    "integrated_gradients": "Share of the task's total mean |attribution| (integrated gradients, "
    "zero baseline), ± std over rows",
}


BOLD = "Bold: the field drives the task (at least 1/F of the task's positive importance)."


def shares(frame: pd.DataFrame) -> pd.DataFrame:
    """One method's ``value`` as field x task shares of each task's positive total."""
    table = frame.pivot(index="field", columns="task", values="value").clip(lower=0)
    return table / table.sum().where(table.sum() > 0, 1.0)


def driven(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Per field, the tasks it drives by this method (share >= 1/F)."""
    table = shares(frame)
    threshold = 1.0 / len(table)
    return {f: [t for t in table.columns if table.loc[f, t] >= threshold] for f in table.index}


def role(tasks: list[str]) -> str:
    if len(tasks) >= 2:
        return "shared"
    return f"{tasks[0]} only" if tasks else ""


def method_table(frame: pd.DataFrame, fields: list[str]) -> list[str]:
    """One method's Markdown table: a row per field (strongest first), a column per task, bold
    where the field drives the task, and the field's role."""
    tasks = list(dict.fromkeys(frame["task"]))
    cells = frame.set_index(["field", "task"])
    drives = driven(frame)
    order = sorted(fields, key=lambda f: -float(shares(frame).loc[f].max()))
    lines = ["| field | " + " | ".join(tasks) + " | drives |",
             "|---|" + "---:|" * len(tasks) + "---|"]  # fmt: skip
    for field in order:
        row = []
        for task in tasks:
            value, std = cells.loc[(field, task), ["value", "std"]]
            text = f"{value:.4f} ± {std:.4f}"
            row.append(f"**{text}**" if task in drives[field] else text)
        lines.append(f"| {field} | " + " | ".join(row) + f" | {role(drives[field])} |")
    return lines


def importance_markdown(frame: pd.DataFrame, header: str) -> str:
    """``importance.md``: a table per method, then the shared and task-specific fields."""
    fields = list(dict.fromkeys(frame["field"]))
    out = [f"# {header}", ""]
    for method, part in frame.groupby("method", sort=False):
        metric = dict(zip(part["task"], part["metric"], strict=True))
        metrics = ", ".join(f"{t}: {m}" for t, m in metric.items())
        out += [f"## {method}", "", f"{LEGENDS[method]} ({metrics}). {BOLD}", ""]
        out += [*method_table(part, fields), ""]
        drives = driven(part)
        shared = [f for f in fields if len(drives[f]) >= 2]
        out.append(f"Shared by several tasks: {', '.join(shared) or 'none'}.")
        for task in dict.fromkeys(part["task"]):
            own = [f for f in fields if drives[f] == [task]]
            out.append(f"Specific to {task}: {', '.join(own) or 'none'}.")
        out.append("")
    return "\n".join(out)


def experts_frame(table: ExpertTable) -> pd.DataFrame:
    """``experts.csv``: ``kind`` response (expert, field) or utilisation (task, expert)."""
    rows = [("response", "", e, f.name, float(table.response[i, f.position]))
            for i, e in enumerate(table.experts) for f in table.fields]  # fmt: skip
    rows += [("utilisation", t, e, "", w) for t, gates in table.utilisation.items()
             for e, w in gates.items()]  # fmt: skip
    return pd.DataFrame(rows, columns=["kind", "task", "expert", "field", "value"])


def experts_markdown(table: ExpertTable, top: int = 3) -> str:
    """``experts.md``: utilisation per task, the expert x field table, and per task its most used
    experts with the fields they respond to most (field -> expert -> task)."""
    names = [f.name for f in table.fields]
    response = pd.DataFrame(table.response[:, [f.position for f in table.fields]].numpy(),
                            index=table.experts, columns=names)  # fmt: skip
    out = ["# Experts", "", "## Utilisation: mean gate weight per task and expert", ""]
    experts = list(dict.fromkeys(e for gates in table.utilisation.values() for e in gates))
    out += ["| task | " + " | ".join(experts) + " |", "|---|" + "---:|" * len(experts)]
    for task, gates in table.utilisation.items():
        out.append(f"| {task} | " + " | ".join(f"{gates.get(e, 0):.3f}" if e in gates else "-"
                                                for e in experts) + " |")  # fmt: skip
    out += ["", "## Response: share of each expert's mean |gradient x input| per field", ""]
    out += ["| field | " + " | ".join(table.experts) + " |",
            "|---|" + "---:|" * len(table.experts)]  # fmt: skip
    for field in response.max(axis=0).sort_values(ascending=False).index:
        out.append(f"| {field} | " + " | ".join(f"{v:.3f}" for v in response[field]) + " |")
    out += ["", "## Field -> expert -> task", ""]
    for task, gates in table.utilisation.items():
        for expert, weight in sorted(gates.items(), key=lambda kv: -kv[1])[:top]:
            if expert not in response.index:
                out.append(f"- {task} <- expert {expert} (weight {weight:.3f}, a deeper level)")
                continue
            fields = response.loc[expert].sort_values(ascending=False).index[:top]
            listed = ", ".join(f"{f} ({response.loc[expert, f]:.2f})" for f in fields)
            out.append(f"- {task} <- expert {expert} (weight {weight:.3f}) <- {listed}")
    return "\n".join(out) + "\n"
