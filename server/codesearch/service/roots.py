"""The service's workspace roots: the open workspace of each, and the roots that could not
open yet (a remote model that never answered): still roots, so the next save or reindex
tries to open them again. Thread-safe: the worker writes, every thread reads."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from codesearch.workspace import Workspace


class Roots:
    def __init__(self) -> None:
        self._open: dict[Path, Workspace] = {}
        self._unopened: set[Path] = set()
        self._lock = threading.Lock()

    def all(self) -> list[Path]:
        """Every root: the open ones, then those waiting to open."""
        with self._lock:
            return list(self._open) + sorted(self._unopened - set(self._open))

    def innermost(self, path: Path, extra: Iterable[Path] = ()) -> Path | None:
        """The innermost root holding path (multi-root folders may nest)."""
        best: Path | None = None
        for root in [*self.all(), *extra]:
            inside = path == root or path.is_relative_to(root)
            if inside and (best is None or len(root.parts) > len(best.parts)):
                best = root
        return best

    def owner(self, path: Path, extra: Iterable[Path] = ()) -> tuple[Path, Workspace] | None:
        """The innermost root holding path and its workspace, if it is open."""
        root = self.innermost(path, extra)
        workspace = self.get(root) if root is not None else None
        return (root, workspace) if root is not None and workspace is not None else None

    def get(self, root: Path) -> Workspace | None:
        with self._lock:
            return self._open.get(root)

    def opened(self) -> list[tuple[Path, Workspace]]:
        with self._lock:
            return list(self._open.items())

    def add(self, root: Path, workspace: Workspace) -> None:
        with self._lock:
            self._open[root] = workspace
            self._unopened.discard(root)

    def could_not_open(self, root: Path) -> None:
        with self._lock:
            self._unopened.add(root)

    def pop(self, root: Path) -> Workspace | None:
        with self._lock:
            self._unopened.discard(root)
            return self._open.pop(root, None)

    def pop_all(self) -> list[Workspace]:
        with self._lock:
            workspaces = list(self._open.values())
            self._open.clear()
            self._unopened.clear()
            return workspaces
