"""The package layout is layered: no import cycle among mtfw's modules, nor among its packages.

Every ``import`` statement counts, those inside functions too (a lazy import is still a
dependency); only ``if TYPE_CHECKING:`` blocks are left out. Packages are the first part of a
module's name below ``mtfw`` (``mtfw.data.interactions.sets`` is in ``data``); a cycle between
packages means one of them imports a package above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "mtfw"


def module_name(path: Path) -> str:
    parts = ["mtfw", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}


def imported(path: Path) -> set[str]:
    """The mtfw modules a file imports (a name imported from a package resolves to its module
    when it is one, else to the package)."""
    tree, found = ast.parse(path.read_text()), set()
    skip = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mtfw")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mtfw"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
    return {m for m in found if m in MODULES}


GRAPH = {name: imported(path) - {name} for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "mtfw"


def test_the_graph_sees_the_imports() -> None:
    assert "mtfw.data.interactions.sets" in GRAPH["mtfw.data.interactions.prepare"]
    assert "mtfw.experiment" in GRAPH["mtfw.train"]  # a module-level import
    assert "mtfw.train" in GRAPH["mtfw.reproduce"]  # a lazy import inside a function


def test_no_import_cycle_among_modules() -> None:
    assert cycles(GRAPH) == []


def test_no_package_imports_a_package_above_it() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        if module == "mtfw":  # the root package imports nothing heavy; it names the version
            continue
        packages.setdefault(package(module), set()).update(
            package(t) for t in targets if package(t) not in (package(module), "mtfw")
        )
    assert cycles(packages) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_is_under_200_lines(module: str) -> None:
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= 200, f"{module} has {lines} lines; split it by what its parts are"


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
