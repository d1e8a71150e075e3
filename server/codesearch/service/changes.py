"""Changes on disk that are more than one file: the rules of what to index changed."""

from __future__ import annotations

from pathlib import Path

from codesearch.service import IndexService


def ignore_file_changed(service: IndexService, path: Path | str) -> None:
    """A .gitignore or .codesearchignore was created, edited or deleted: forget the root's
    cached rules and bring the whole root up to date (files may come or go). Editors' saves
    and watched-file events (lsp/files.py) and the folder watcher all come here."""
    root = service.root_for(path)
    workspace = service.workspace(root) if root is not None else None
    if root is not None and workspace is not None:
        workspace.rules.invalidate()
        service.add_folder(root)
