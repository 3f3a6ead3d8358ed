"""One explanation of a run: the run rebuilt with its selected model, each method timed, and
what is written and printed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from mtfw.experiment import build_experiment
from mtfw.explain.experts import ExpertTable, expert_table
from mtfw.explain.fields import input_fields, select_fields
from mtfw.explain.files import write_outputs
from mtfw.explain.gradients import importances, integrated_gradients
from mtfw.explain.options import ExplainOptions
from mtfw.explain.permutation import Importance, permutation_importance
from mtfw.recommend_users import restore_selected


@dataclass
class Explanation:
    run_dir: Path
    split: str
    found: list[Importance] = field(default_factory=list)
    experts: ExpertTable | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    gaps: dict[str, float] = field(default_factory=dict)  # IG completeness, per task

    def write(self, out: Path) -> list[Path]:
        header = f"Field importance of {self.run_dir} on the {self.split} split"
        return write_outputs(out, self.found, header, self.experts)

    def summary(self, top: int = 5) -> str:
        lines = []
        for method in dict.fromkeys(i.method for i in self.found):
            lines.append(f"{method} ({self.seconds[method]:.1f} s), top fields per task:")
            for task in dict.fromkeys(i.task for i in self.found):
                cells = [i for i in self.found if i.method == method and i.task == task]
                cells.sort(key=lambda i: -i.value)
                listed = ", ".join(f"{i.field} {i.value:.4f}" for i in cells[:top])
                lines.append(f"  {task:<14} ({cells[0].metric}) {listed}")
        for task, gap in self.gaps.items():
            lines.append(
                f"integrated gradients completeness, {task}: largest |sum of a row's "
                f"attributions - (f(x) - f(0))| {gap:.1e} of the mean |f(x) - f(0)|"
            )
        if self.experts is not None:
            size = f"{len(self.experts.experts)} experts x {len(self.experts.fields)} fields"
            lines.append(f"experts ({self.seconds['experts']:.1f} s): {size}")
        return "\n".join(lines)


def explain(cfg: DictConfig, run_dir: Path, options: ExplainOptions) -> Explanation:
    """Every asked method on the asked split, for the asked tasks and fields."""
    exp = build_experiment(cfg, restoring=True)
    restore_selected(exp, run_dir)
    model, split = exp.model, exp.data.splits[options.split]
    every = input_fields(model)
    fields = select_fields(every, options.fields)
    tasks = {n: t for n, t in exp.tasks.items() if options.tasks is None or n in options.tasks}
    batch_size = options.batch_size or exp.trainer.eval_batch_size
    result = Explanation(run_dir, options.split)
    if "permutation" in options.methods:
        started = time.perf_counter()
        result.found += permutation_importance(
            model, tasks, split, exp.data.context, fields, options.repeats, options.seed,
            batch_size,
        )  # fmt: skip
        result.seconds["permutation"] = time.perf_counter() - started
    if "integrated_gradients" in options.methods:
        started = time.perf_counter()
        found = integrated_gradients(model, list(tasks), split, every, batch_size)
        result.found += importances(found, every, fields)
        result.gaps = {t: a.gap for t, a in found.items()}
        result.seconds["integrated_gradients"] = time.perf_counter() - started
    started = time.perf_counter()
    result.experts = expert_table(model, split, every, fields, batch_size)
    result.seconds["experts"] = time.perf_counter() - started
    return result
