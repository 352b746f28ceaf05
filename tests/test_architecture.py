"""The shape of the house: imports run one way, and nothing reaches into another module's internals.

The import graph is read from the source (every ``import``, at module level or inside a function,
``TYPE_CHECKING`` blocks included), not from what Python happened to load, so a cycle hidden
behind a function-local import still fails.  Rules:

* no cycle among the modules of ``engine/`` and ``strategies/``;
* no ``from X import _name`` of another module's underscored name;
* ``strategies/`` imports nothing from ``engine/`` (the registry's inputs are its own);
* floors: the front doors ``engine.cli`` (prints, exits) and ``engine.api`` (for notebooks) >
  ``engine.jobs`` (files, environment) > ``engine.render`` (formatting) > the rest (the pure core
  and the store); a module never imports a floor above its own;
* no module over 500 lines, no function over 60 lines (signature and docstring included) except
  compiled numba kernels.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("engine", "strategies")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


MODULES = _modules()


def _absolute(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def _imports(module: str) -> Iterator[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every import statement of ``module``."""
    path = MODULES[module]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, path, node)
            for alias in node.names:
                yield base, alias.name, node.lineno


@functools.cache
def _graph() -> dict[str, frozenset[str]]:
    """module -> the modules of ``engine``/``strategies`` it imports (a submodule when one is named)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for base, name, _ in _imports(module):
            target = f"{base}.{name}" if f"{base}.{name}" in MODULES else base
            if target in MODULES and target != module:
                graph[module].add(target)
    return {m: frozenset(t) for m, t in graph.items()}


def _edges() -> dict[str, set[str]]:
    """A fresh, mutable copy of the import graph."""
    return {m: set(t) for m, t in _graph().items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read() -> None:
    graph = _edges()
    assert "engine.pipeline" in graph["engine.jobs.run"]  # a module-level import
    assert "engine.jobs.run" in graph["engine.cli.run"]  # a function-local import
    assert len(MODULES) > 40


def test_no_import_cycles() -> None:
    assert _cycles(_edges()) == []


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    graph = _edges()
    graph["engine.errors"].add("engine.cli.run")  # errors -> cli -> ... -> errors
    assert any("engine.errors" in c and "engine.cli.run" in c for c in _cycles(graph))


def test_no_module_imports_another_modules_underscored_names() -> None:
    found = [
        f"{module}:{line} imports {base}.{name}"
        for module in MODULES
        for base, name, line in _imports(module)
        if name.startswith("_") and not name.startswith("__") and base != module
    ]
    assert found == []


def test_strategies_import_nothing_from_engine() -> None:
    found = [
        f"{module}:{line} imports {base}"
        for module in MODULES
        if module.startswith("strategies")
        for base, _, line in _imports(module)
        if base == "engine" or base.startswith("engine.")
    ]
    assert found == []


def _floor(module: str) -> int:
    for floor, prefix in ((3, "engine.cli"), (3, "engine.api"), (2, "engine.jobs"), (1, "engine.render")):
        if module == prefix or module.startswith(prefix + "."):
            return floor
    return 0


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_never_climb_a_floor(module: str) -> None:
    if module in ("engine.__main__", "engine.launch"):
        return  # the entry points sit above every floor
    above = sorted(t for t in _edges()[module] if _floor(t) > _floor(module))
    assert above == [], f"{module} (floor {_floor(module)}) imports {above}"


#: STYLE.md's sizes: a module a reader can hold, a function that fits on a screen.
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def _compiled(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """A numba kernel (``@numba.njit``, ``@njit(...)``): exempt from the function length."""
    return any("njit" in ast.unparse(d) for d in node.decorator_list)


def _long_functions(source: str) -> list[tuple[str, int]]:
    tree = ast.parse(source)
    return [
        (node.name, node.end_lineno - node.lineno + 1)  # type: ignore[operator]
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not _compiled(node)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES  # type: ignore[operator]
    ]


def test_no_module_is_longer_than_the_style_allows() -> None:
    long = {m: n for m, p in _modules().items() if (n := p.read_text(encoding="utf-8").count("\n")) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_is_longer_than_the_style_allows() -> None:
    long = {m: f for m, p in _modules().items() if (f := _long_functions(p.read_text(encoding="utf-8")))}
    assert long == {}


def test_the_length_check_finds_a_long_function_and_spares_a_kernel() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    source = f"def long():\n{body}\n\n@numba.njit(cache=True)\ndef kernel():\n{body}\n"
    assert _long_functions(source) == [("long", MAX_FUNCTION_LINES + 1)]
