"""The workspace roots of one session: those the client asked for, and the open Workspace
of each. Thread-safe: the worker opens and closes, any thread looks up."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from codesearch.workspace import Workspace


class Roots:
    """Roots asked for (a root whose model failed to load is asked for, yet not open) and
    the open workspaces, each root at most once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._asked: set[Path] = set()
        self._open: dict[Path, Workspace] = {}

    def ask(self, root: Path) -> None:
        with self._lock:
            self._asked.add(root)

    def drop(self, root: Path) -> None:
        with self._lock:
            self._asked.discard(root)

    def asked(self) -> list[Path]:
        """Every root asked for or open (new settings reopen them all)."""
        with self._lock:
            return sorted(self._asked | set(self._open))

    def open_roots(self) -> list[Path]:
        with self._lock:
            return list(self._open)

    def get(self, root: Path) -> Workspace | None:
        with self._lock:
            return self._open.get(root)

    def items(self) -> list[tuple[Path, Workspace]]:
        with self._lock:
            return list(self._open.items())

    def put(self, root: Path, workspace: Workspace) -> None:
        with self._lock:
            self._open[root] = workspace

    def pop(self, root: Path) -> Workspace | None:
        with self._lock:
            return self._open.pop(root, None)

    def pop_all(self) -> list[Workspace]:
        with self._lock:
            workspaces = list(self._open.values())
            self._open.clear()
            return workspaces

    def innermost(self, path: Path, waiting: Iterable[Path]) -> Path | None:
        """The innermost root holding `path` (multi-root folders may nest), among the open
        ones and those `waiting` to open."""
        best: Path | None = None
        for root in [*self.open_roots(), *waiting]:
            inside = path == root or path.is_relative_to(root)
            if inside and (best is None or len(root.parts) > len(best.parts)):
                best = root
        return best

    def owner(self, path: Path, waiting: Iterable[Path]) -> tuple[Path, Workspace] | None:
        """The innermost root holding `path` and its workspace, if that root is open."""
        root = self.innermost(path, waiting)
        workspace = self.get(root) if root is not None else None
        return (root, workspace) if root is not None and workspace is not None else None
