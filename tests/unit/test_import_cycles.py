"""No import cycles among codesearch's modules.

A cycle makes the import order matter (a module half-initialised when the other reads it)
and means two modules own one job between them. Every import counts, module-level, under
TYPE_CHECKING and inside functions: each is a dependency, only deferred.
"""

from __future__ import annotations

import ast
from pathlib import Path

import codesearch

PACKAGE = Path(codesearch.__file__).parent
# Where no cycle may exist yet. The whole package is the goal (issue 12); the cycle left
# elsewhere (lsp.server <-> lsp.diagnostics / lsp.progress, under TYPE_CHECKING) is the LSP
# reshape's to end, and then this becomes ("codesearch",).
CHECKED = ("codesearch",)


def module_graph(package: Path) -> dict[str, set[str]]:
    """Each module of the package (dotted name) -> the package's modules it imports."""
    modules: dict[str, tuple[Path, bool]] = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        modules[".".join(parts[:-1] if is_init else parts)] = (path, is_init)

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, is_init) in modules.items():
        here = name if is_init else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parents = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join([*parents, *([node.module] if node.module else [])])
                # `from pkg import sub` needs the submodule; `from mod import name`, the module
                targets.update(
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                )
        graph[name] = {found for t in targets if (found := owner(t)) and found != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (each holds a cycle)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        order[node] = low[node] = len(order)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in order:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], order[nxt])
        if low[node] == order[node]:
            group: list[str] = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in order:
            visit(node)
    return found


def test_no_cycle_touches_the_checked_modules() -> None:
    graph = module_graph(PACKAGE)
    assert "codesearch.embedding.registry" in graph  # the walk found the package
    touching = [c for c in cycles(graph) if any(m.startswith(CHECKED) for m in c)]
    assert touching == []


def test_every_kind_of_import_makes_a_cycle(tmp_path: Path) -> None:
    """The checker itself: deferred imports count, `from pkg import sub` is the submodule."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    files = {
        "__init__.py": "from pkg import a\n",  # a package importing its own submodule: fine
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
        "b.py": "def f():\n    from . import a\n",
        "c.py": "import pkg.d\n",
        "d.py": "from pkg.e import x\n",
        "e.py": "import os\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    assert cycles(module_graph(pkg)) == [["pkg.a", "pkg.b"]]
    (pkg / "e.py").write_text("from pkg import c\n")
    assert sorted(cycles(module_graph(pkg))) == [["pkg.a", "pkg.b"], ["pkg.c", "pkg.d", "pkg.e"]]
