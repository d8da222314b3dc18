"""No import circles anywhere, as Python runs the imports (import-linter checks the rest).

The import-linter contracts in pyproject.toml (``make test`` runs them) keep the layers
(servicepoint > server | sensors | kiosk > foundation) and forbid circles between sibling
packages and modules. One kind of circle they do not see is through a package's ``__init__``:
importing ``server.api.deps`` runs ``server/api/__init__.py`` first, so if that imports
``server.app``, which imports ``server.web``, which imports ``server.api.deps``, the circle
is real at run time although no two siblings import each other. This test draws the graph the
way the interpreter walks it (a module imports the packages above what it names, except its own
ancestors, which are already running) and fails on any strongly connected component.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("foundation", "servicepoint", "server", "sensors", "kiosk")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # alembic loads the revisions by file, not by import
            name = ".".join(path.relative_to(REPO).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    known = modules()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        named: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                named.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
                named.add(base)
                named.update(f"{base}.{alias.name}" for alias in node.names)
        own = set(_ancestors(module)) | {module}
        for name in named:
            target = resolve(name)
            if target is None or target.split(".")[0] not in PACKAGES:
                continue
            for each in [*_ancestors(target), target]:
                if each not in own and each in known:
                    graph[module].add(each)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_sees_a_circle_through_a_package_init() -> None:
    graph = {"p.web": {"p.api", "p.api.deps"}, "p.api": {"p.api.app"}, "p.api.app": {"p.web"}}
    assert circles(graph) == [["p.api", "p.api.app", "p.web"]]


def test_the_graph_follows_what_the_interpreter_runs() -> None:
    graph = import_graph()
    # A relative import, a plain one, and the package __init__ above what is named.
    assert {"servicepoint.checks", "servicepoint.probes"} <= graph["servicepoint.doctor"]
    assert {"foundation.settings", "foundation"} <= graph["kiosk.settings"]
    assert "server" not in graph["server.settings"]  # its own package is already running


def test_no_module_is_in_an_import_circle() -> None:
    found = circles(import_graph())
    assert not found, "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)
