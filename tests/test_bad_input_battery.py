"""The bad-input battery (``benchmarks/bad_input_battery.py``, issue 13): its classifier tells
every outcome apart (shown able to fail: a good input expected to be refused is ``silent``, a
monkeypatched mtfw that raises is a ``traceback``), its cases leave the process as it was, and
the whole battery is refused clearly (slow: CI)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
from conftest import benchmark_script
from hydra.core.global_hydra import GlobalHydra

import mtfw.train
from mtfw.errors import ConfigError


def battery():
    return benchmark_script("bad_input_battery")


def outcomes(cases: list, folder: Path) -> dict[str, str]:
    return {r.name: r.outcome for r in battery().run_battery(cases, folder, echo=False)}


def test_the_classifier_tells_every_outcome_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Case = battery().Case

    def patch(replacement):  # mtfw train's pre-flight check, replaced for one case
        return lambda case_dir, fx: monkeypatch.setattr(mtfw.train, "preflight", replacement)

    def leaves_a_file(argv):
        Path("leftover.txt").write_text("x")
        raise ConfigError("refused, but after writing a file")

    def raises(argv):
        raise RuntimeError("a bug in mtfw")

    def exits_3(argv):
        sys.exit(3)

    def a_page(argv):
        raise ConfigError("\n".join(f"line {i}" for i in range(20)))

    cases = [
        Case("bad lr", ("train", "optim.lr=-0.1"), says="optim.lr=-0.1"),
        Case("good input expected refused", ("list", "encoder")),
        Case("control", ("list", "encoder"), expect="accepted", says="mmoe"),
        Case("names the wrong thing", ("train", "optim.lr=-0.1"), says="trainer.patience"),
        Case("wrote", ("train", "seed=1"), setup=patch(leaves_a_file)),
        Case("raises", ("train", "seed=1"), setup=patch(raises)),
        Case("exit 3", ("train", "seed=1"), setup=patch(exits_3)),
        Case("a page", ("train", "seed=1"), setup=patch(a_page)),
    ]
    assert outcomes(cases, tmp_path) == {
        "bad lr": "refused clearly",
        "good input expected refused": "silent",
        "control": "accepted",
        "names the wrong thing": "other",
        "a page": "other",  # a refusal is one paragraph
        "wrote": "wrote files",
        "raises": "traceback",
        "exit 3": "other",
    }


def test_a_case_leaves_the_process_as_it_was(tmp_path: Path) -> None:
    Case = battery().Case

    cwd, argv, handlers = os.getcwd(), sys.argv[:], logging.getLogger().handlers[:]
    cases = [Case("env", ("train", "hydra.run.dir=${oc.env:BATTERY_X}/run", "seed=abc"),
                  env=(("BATTERY_X", "{dir}"),), says="seed")]  # fmt: skip
    assert outcomes(cases, tmp_path) == {"env": "refused clearly"}  # through Hydra's app
    assert (os.getcwd(), sys.argv, logging.getLogger().handlers) == (cwd, argv, handlers)
    assert "BATTERY_X" not in os.environ and not GlobalHydra.instance().is_initialized()


def test_the_table_covers_issue_13_with_unique_names() -> None:
    cases = battery().all_cases()  # raises on a repeated name
    assert len(cases) >= 140
    argv = {" ".join(c.argv) for c in cases}
    for text in ("optim.lr=fast", "trainer.device=tpu", "~trainer", "+foo=1", "optim.lr=1e6",
                 "task=[income,income]", "k=ten", "k=0", "encoder=mmeo", "trainer.max_epoch=3",
                 "optim.lr=interval(0.1,0.01)", "task=[ranking]", "builtins.print"):  # fmt: skip
        assert any(text in a for a in argv), text
    generated = [c for c in cases if c.name.startswith(("trainer ", "optim=", "encoder="))]
    assert len(generated) >= 90  # every numeric setting of conf/, several bad values each


@pytest.mark.parametrize(
    "name",
    [
        "lr a word",
        "task twice",
        "encoder misspelt",
        "resume: not a run",
        "recommend: no folder",
        "sweep: n_trials 0",
        "list: unknown kind",
        "a flag between overrides",
    ],
)
def test_cases_of_the_battery_are_refused_clearly(name: str, tmp_path: Path) -> None:
    (case,) = [c for c in battery().all_cases() if c.name == name]
    assert outcomes([case], tmp_path) == {name: "refused clearly"}


@pytest.mark.slow  # ~300 cases through the CLI, several minutes: CI runs it
def test_the_whole_battery_is_refused_clearly(tmp_path: Path) -> None:
    results = battery().run_battery(battery().all_cases(), tmp_path, echo=False)
    wrong = [f"{r.name}: {r.outcome}: {r.message}" for r in results if not r.ok]
    assert not wrong, "\n".join(wrong)
