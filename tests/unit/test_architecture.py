"""The engine's shape, checked: no import cycles, pygls/lsprotocol/MCP only in the faces,
no class over 300 lines. Parsed with ast, so function-level and TYPE_CHECKING imports
count as much as top-level ones."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "server" / "codesearch"
PROTOCOL_LIBRARIES = ("pygls", "lsprotocol", "mcp")
MAX_CLASS_LINES = 300


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module this one imports (codesearch modules resolved to the deepest known)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            found.add(target)
    resolved: set[str] = set()
    for target in found:
        if target.split(".")[0] != "codesearch":
            resolved.add(target)
            continue
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {
        name: {t for t in imports_of(name, path, known) if t in known}
        for name, path in found.items()
    }


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each as a cycle path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def describe(group: list[str], edges: dict[str, set[str]]) -> str:
    """One cycle through the group, as `a -> b -> a`."""
    members = set(group)
    path = [group[0]]
    while True:
        step = sorted(edges[path[-1]] & members)
        nxt = next((m for m in step if m == path[0] and len(path) > 1), None) or next(
            (m for m in step if m not in path), step[0]
        )
        path.append(nxt)
        if nxt in path[:-1]:
            return " -> ".join(path[path.index(nxt) :])


def test_no_import_cycles_among_codesearch_modules() -> None:
    edges = graph()
    found = [describe(group, edges) for group in cycles(edges)]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_engine_never_imports_the_editor_or_agent_protocols() -> None:
    offenders = []
    found = modules()
    for name, path in found.items():
        if name.split(".")[:2] in (["codesearch", "lsp"], ["codesearch", "mcp"]):
            continue
        for target in imports_of(name, path, set(found)):
            if target.split(".")[0] in PROTOCOL_LIBRARIES:
                offenders.append(f"{name} imports {target}")
    assert not offenders, "\n".join(offenders)


def test_no_class_is_over_300_lines() -> None:
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long.append(f"{module_name(path)}.{node.name}: {lines} lines")
    assert not long, "\n".join(long)


def test_the_checks_see_what_they_check() -> None:
    """The graph is not empty, and a cycle is found and described when there is one."""
    edges = graph()
    assert "codesearch.workspace.facade" in edges["codesearch.cli"] | edges["codesearch.workspace"]
    assert "codesearch.embedding.onnx_backend" in edges["codesearch.embedding.registry"]
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [describe(g, toy) for g in cycles(toy)] == ["a -> b -> c -> a"]
