"""Each subcommand's work, done in this process: open the folder's Workspace, bring it up to
date when asked, query it, and hand back engine data (render.py shows it).

Every function here takes a `Folder` and returns what the engine returns (IndexSummary,
WorkspaceStatus, Hit lists): a path that asks a process already indexing the folder
instead of opening the store here can return the same types, and `commands` chooses
between the two without anything else changing.

The store may be found damaged when it is opened; it is then moved aside and replaced by
an empty one, and the warning says what happens next for this command: `index` and an
updating `search` build the new index now, `status` and `--no-update` name the command
that does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codesearch.cli.errors import NotIndexed, UsageError
from codesearch.cli.render import command_line
from codesearch.config import Settings
from codesearch.embedding.types import ModelLoadError
from codesearch.search import Hit, SearchFilters
from codesearch.store_copies import remove_copies
from codesearch.workspace import (
    IndexProgress,
    IndexSummary,
    SearchHits,
    Workspace,
    WorkspaceStatus,
)
from codesearch.workspace.reports import ProgressFn

Warn = Callable[[str], None]
BUILDING_NOW = "a new index is being built"


@dataclass(frozen=True)
class Folder:
    """A folder to work on, and the settings its index is opened with."""

    root: Path
    settings: Settings


@dataclass(frozen=True)
class Cleared:
    root: Path
    store: Path
    had_index: bool  # a store existed (and was emptied)
    copies: list[Path]  # moved-aside copies deleted


def _workspace(folder: Folder) -> Workspace:
    if not folder.root.exists():
        raise UsageError(f"path does not exist: {folder.root}")
    if not folder.root.is_dir():
        raise UsageError(f"not a folder: {folder.root}")
    return Workspace(folder.root, folder.settings)


def _rebuild_hint(workspace: Workspace) -> str:
    return f"`{command_line('codesearch', 'index', str(workspace.root))}` builds a new one"


def _open(workspace: Workspace, warn: Warn, next_step: str) -> Workspace:
    """Open the store; a damaged one is moved aside, and the warning says what happens next."""
    workspace.open()
    store = workspace.store
    if store is not None and store.recovered:
        warn(f"{store.recovered}; {next_step}")
    return workspace


def _not_indexed(workspace: Workspace, without: str) -> NotIndexed:
    command = command_line("codesearch", "index", str(workspace.root))
    return NotIndexed(f"{workspace.root} is not indexed yet: run `{command}` ({without})")


def _announce_model(workspace: Workspace, progress: ProgressFn | None) -> None:
    """Say that the model loads (or is prepared, the first time) before a query waits on it."""
    if progress is None or workspace.model_loaded:
        return
    preparing = workspace.model.preparation()
    if preparing is None:
        progress(IndexProgress("loading model", 0, 0))
    else:
        progress(IndexProgress("preparing model", 0, 0, expected_s=preparing))


def index_folder(
    folder: Folder, *, force: bool, progress: ProgressFn | None, warn: Warn
) -> tuple[IndexSummary, WorkspaceStatus]:
    """Bring the folder's index up to date; the run's summary and the status after it."""
    with _open(_workspace(folder), warn, BUILDING_NOW) as workspace:
        summary = workspace.index(force=force, progress=progress)
        return summary, workspace.status()


def _queryable(
    workspace: Workspace, update: bool, progress: ProgressFn | None, warn: Warn
) -> Workspace:
    """The workspace, opened and brought up to date unless `update` is False (then it must
    be indexed already: NotIndexed, and nothing is written, when it is not)."""
    if not update and not workspace.has_store:
        raise _not_indexed(workspace, "or leave out --no-update")
    _open(workspace, warn, BUILDING_NOW if update else _rebuild_hint(workspace))
    try:
        if update:
            _update(workspace, progress, warn)
        elif not workspace.status().indexed:
            raise _not_indexed(workspace, "or leave out --no-update")
    except BaseException:
        workspace.close()
        raise
    return workspace


def _update(workspace: Workspace, progress: ProgressFn | None, warn: Warn) -> None:
    """Bring the index up to date before a query; an embedding endpoint that does not
    answer leaves it as it is (the query searches what is indexed, and says so)."""
    try:
        workspace.index(progress=progress)
    except ModelLoadError as exc:
        if not workspace.model.provisional:
            raise
        warn(f"the index was not updated: {exc}")


def search_folder(
    folder: Folder,
    query: str,
    *,
    limit: int,
    filters: SearchFilters,
    update: bool,
    progress: ProgressFn | None,
    warn: Warn,
) -> SearchHits[Hit]:
    with _queryable(_workspace(folder), update, progress, warn) as workspace:
        _announce_model(workspace, progress)
        return workspace.search(query, limit=limit, filters=filters)


def similar_to(
    folder: Folder,
    file: str,
    line: int,
    *,
    limit: int,
    update: bool,
    progress: ProgressFn | None,
    warn: Warn,
) -> list[Hit]:
    """Entities like the one at file:line; `file` is relative to the current folder when it
    exists there, else to the folder searched."""
    target = Path(file)
    if not target.is_absolute():
        here = Path.cwd() / target
        target = here if here.exists() else folder.root / target
    workspace = _workspace(folder)
    if workspace.relative(target) is None:
        raise UsageError(f"{file} is not inside {workspace.root}")
    with _queryable(workspace, update, progress, warn):
        if workspace.entity_at(target, line) is None:
            raise UsageError(f"no indexed function or class at {file}:{line}")
        return workspace.similar(target, line, limit=limit)


def folder_status(folder: Folder, *, warn: Warn) -> WorkspaceStatus:
    """What is indexed; a folder never indexed is reported as such, and nothing is written."""
    workspace = _workspace(folder)
    if not workspace.has_store:
        return workspace.status()
    with _open(workspace, warn, _rebuild_hint(workspace)):
        return workspace.status()


def clear_folder(folder: Folder, *, warn: Warn) -> Cleared:
    """Empty the folder's index and delete the copies of it moved aside; a folder never
    indexed gets no store created for the occasion."""
    workspace = _workspace(folder)
    if not workspace.has_store:
        copies = remove_copies(workspace.store_dir)
        return Cleared(workspace.root, workspace.store_dir, False, copies)
    with _open(workspace, warn, "clear deletes that copy too") as opened:
        copies = opened.clear()
    return Cleared(workspace.root, workspace.store_dir, True, copies)
