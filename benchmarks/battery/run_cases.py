"""Damaged or unfinished run directories for ``resume=``, ``reproduce``, ``recommend``,
``explain`` and ``report``: each case copies the battery's one finished run into ``run/`` and
damages it once."""

from __future__ import annotations

import gzip

from battery.runner import Case
from battery.setups import (
    INTERRUPTED,
    RANDOM,
    edit_config,
    remove,
    replace,
    run_copy,
    status,
    torn_metrics,
    truncate,
)

CONFIG = ".hydra/config.yaml"
GARBAGE_CONFIG = replace(CONFIG, gzip.compress(b"x" * 100))
BROKEN_YAML = replace(CONFIG, "a: [b\n")  # YAML cut off inside a list


def resume(name: str, *damage, says: str, extra: tuple[str, ...] = ()) -> Case:
    """``mtfw train resume=run`` of an interrupted copy of the finished run, damaged."""
    return Case(
        f"resume: {name}",
        ("train", "resume=run", *extra),
        setup=run_copy(INTERRUPTED, *damage),
        says=says,
    )


def on_run(command: str, name: str, *damage, says: str, args: tuple[str, ...] = ()) -> Case:
    """``mtfw COMMAND run ARGS`` on a copy of the finished run, damaged."""
    return Case(f"{command}: {name}", (command, "run", *args), setup=run_copy(*damage), says=says)


RESUME = [
    resume("random-bytes checkpoint", replace("checkpoint.pt", RANDOM), says="checkpoint"),
    resume("truncated checkpoint", truncate("checkpoint.pt"), says="checkpoint"),
    resume("empty checkpoint", replace("checkpoint.pt", b""), says="checkpoint"),
    resume("truncated best.pt", truncate("best.pt"), says="best.pt"),
    resume("random-bytes best.pt", replace("best.pt", RANDOM), says="best.pt"),
    resume("garbage config.yaml", GARBAGE_CONFIG, says="config.yaml"),
    resume("config.yaml not YAML", BROKEN_YAML, says="config.yaml"),
    resume("config.yaml a list", replace(CONFIG, "- a\n- b\n"), says="config.yaml"),
    resume("config.yaml without data", edit_config("data:", "dataa:"), says="config.yaml"),
    resume("no .hydra folder", remove(".hydra"), says="not a run directory"),
    resume("another config's checkpoint", edit_config("seed: 0", "seed: 7"), says="config"),
    resume("a damaged metrics line", torn_metrics, says="metrics.jsonl"),
    resume("garbage summary.json", replace("summary.json", "{not json"), says="summary.json"),
    resume("with an extra override", says="resume", extra=("trainer.max_epochs=5",)),
    Case("resume: a finished run", ("train", "resume=run"), setup=run_copy(), says="finished"),
    Case("resume: not a run", ("train", "resume=."), says="not a run directory"),
    Case("resume: missing folder", ("train", "resume=nowhere"), says="nowhere"),
]
REPRODUCE = [
    on_run("reproduce", "garbage summary.json", replace("summary.json", "{x"), says="summary.json"),
    on_run("reproduce", "summary.json a list", replace("summary.json", "[1, 2]"), says="summary"),
    on_run("reproduce", "no summary.json", INTERRUPTED, says="finished run"),
    on_run("reproduce", "interrupted run", status("interrupted"), says="did not complete"),
    on_run("reproduce", "diverged run", status("diverged"), says="did not complete"),
    on_run("reproduce", "garbage config.yaml", GARBAGE_CONFIG, says="config.yaml"),
    on_run("reproduce", "config.yaml not YAML", BROKEN_YAML, says="config.yaml"),
    on_run("reproduce", "a computed key changed", says="seed", args=("seed=3",)),
    on_run(
        "reproduce", "max_epochs changed", says="trainer.max_epochs", args=("trainer.max_epochs=1",)
    ),
    on_run("reproduce", "out= not empty", replace("../out/x", "x"), says="out=", args=("out=out",)),
    on_run("reproduce", "out= a file", replace("../out", "x"), says="out=", args=("out=out",)),
    on_run("reproduce", "threads a word", says="num_threads", args=("trainer.num_threads=many",)),
    Case("reproduce: not a run", ("reproduce", "."), says="not a finished run"),
    Case("reproduce: missing folder", ("reproduce", "nowhere"), says="nowhere"),
    Case("reproduce: no folder", ("reproduce",), says="usage"),
    Case("reproduce: two folders", ("reproduce", "a", "b"), says="usage"),
]
RECOMMEND = [
    Case("recommend: not a run", ("recommend", "."), says="not a run directory"),
    Case("recommend: missing folder", ("recommend", "nowhere"), says="nowhere"),
    Case("recommend: no folder", ("recommend",), says="usage"),
    on_run("recommend", "k=ten", says="k=ten", args=("k=ten",)),
    on_run("recommend", "k=0", says="k=0", args=("k=0",)),
    on_run("recommend", "k=-3", says="k=-3", args=("k=-3",)),
    on_run("recommend", "unknown option", says="top=3", args=("top=3",)),
    on_run("recommend", "empty users=", says="users=", args=("users=",)),
    on_run(
        "recommend",
        "allow_unfinished a word",
        says="allow_unfinished",
        args=("allow_unfinished=maybe",),
    ),
    on_run("recommend", "interrupted run", status("interrupted"), says="allow_unfinished=true"),
    on_run("recommend", "diverged run", status("diverged"), says="allow_unfinished=true"),
    on_run("recommend", "run never finished", INTERRUPTED, says="allow_unfinished=true"),
    on_run("recommend", "garbage summary.json", replace("summary.json", "{x"), says="summary.json"),
    on_run("recommend", "garbage config.yaml", GARBAGE_CONFIG, says="config.yaml"),
    on_run("recommend", "config.yaml not YAML", BROKEN_YAML, says="config.yaml"),
    on_run("recommend", "a flat-table run", says="flat table", args=("k=3",)),
    on_run("recommend", "users_file missing", says="flat table", args=("users_file=no.csv",)),
]
EXPLAIN = [
    Case("explain: not a run", ("explain", "."), says="not a run directory"),
    Case("explain: missing folder", ("explain", "nowhere"), says="nowhere"),
    Case("explain: no folder", ("explain",), says="usage"),
    on_run("explain", "unknown method", says="shap", args=("methods=shap",)),
    on_run("explain", "split=train", says="split=train", args=("split=train",)),
    on_run("explain", "repeats=0", says="repeats=0", args=("repeats=0",)),
    on_run("explain", "unknown option", says="seeds=1", args=("seeds=1",)),
    on_run("explain", "interrupted run", status("interrupted"), says="allow_unfinished=true"),
    on_run("explain", "run never finished", INTERRUPTED, says="allow_unfinished=true"),
    on_run("explain", "no best.pt", remove("best.pt"), says="best.pt"),
    on_run("explain", "garbage config.yaml", GARBAGE_CONFIG, says="config.yaml"),
    on_run("explain", "unknown task", says="nosuchtask", args=("tasks=nosuchtask",)),
    on_run("explain", "unknown field", says="nosuchfield", args=("fields=nosuchfield",)),
]
REPORT = [
    Case("report: missing folder", ("report", "nowhere"), says="nowhere"),
    Case("report: empty folder", ("report", "."), says="no runs found"),
    Case("report: no folder", ("report",), says="dirs"),
    Case("report: unknown flag", ("report", ".", "--nonsense"), says="--nonsense"),
    on_run("report", "garbage summary.json", replace("summary.json", "{x"), says="summary.json"),
    on_run("report", "summary.json a list", replace("summary.json", "[1, 2]"), says="summary.json"),
    on_run("report", "interrupted run only", status("interrupted"), says="did not complete"),
    on_run("report", "garbage config.yaml", GARBAGE_CONFIG, says="config.yaml"),
    on_run("report", "config.yaml not YAML", BROKEN_YAML, says="config.yaml"),
    on_run("report", "format unknown", says="pdf", args=("--format", "pdf")),
    on_run("report", "--by unknown key", says="nosuchkey", args=("--by", "nosuchkey")),
    on_run("report", "--metrics match nothing", says="nothing/", args=("--metrics", "nothing/*")),
    on_run("report", "--baseline out of range", says="99", args=("--baseline", "99")),
    on_run("report", "--protocol unknown", says="nosuch", args=("--protocol", "nosuch")),
]
CASES = [*RESUME, *REPRODUCE, *RECOMMEND, *EXPLAIN, *REPORT]
