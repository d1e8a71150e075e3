"""Files and folders: saves, watched-file events and workspace folders reach the service here.

The index follows the disk. The server takes `textDocument/didSave` (without text) and
the file watchers it registers for the indexed extensions and the ignore files; it asks
for no document text (see `protocol`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types

from codesearch.contract import IGNORE_FILES_GLOB, SOURCE_GLOB
from codesearch.index.scan import IgnoreRules
from codesearch.lsp.convert import uri_to_path
from codesearch.lsp.language_server import CodesearchServer
from codesearch.lsp.protocol import TEXT_SYNC
from codesearch.service.changes import ignore_file_changed

log = logging.getLogger(__name__)
REGISTER_TIMEOUT_S = 5.0
WATCHERS_ID = "codesearch-watched-files"


def path_changed(ls: CodesearchServer, path: Path) -> None:
    """A saved or changed file; an ignore file re-reads the rules of its whole folder."""
    service = ls.service
    if service is None:
        return
    if IgnoreRules.is_ignore_file(path.name):
        ignore_file_changed(service, path)  # the rules changed: a full incremental pass
        return
    service.file_changed(path)


def did_save(ls: CodesearchServer, params: types.DidSaveTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    if path is not None:
        path_changed(ls, path)


def did_change_watched_files(
    ls: CodesearchServer, params: types.DidChangeWatchedFilesParams
) -> None:
    service = ls.service
    if service is None:
        return
    removed: list[Path] = []
    for change in params.changes:
        path = uri_to_path(change.uri)
        if path is None:
            continue
        if change.type == types.FileChangeType.Deleted and not IgnoreRules.is_ignore_file(
            path.name
        ):
            removed.append(path)
        else:
            path_changed(ls, path)
    if removed:
        service.files_removed(removed)


def did_change_workspace_folders(
    ls: CodesearchServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    service = ls.service
    if service is None:
        return
    for folder in params.event.removed:
        path = uri_to_path(folder.uri)
        if path is not None:
            service.remove_folder(path)
            ls.diagnostics.clear_root(path.resolve())
    for folder in params.event.added:
        path = uri_to_path(folder.uri)
        if path is not None:
            service.add_folder(path)


async def register_watchers(ls: CodesearchServer) -> None:
    """Watch the indexed files and the ignore files, when the client can register watchers."""
    caps = ls.client_capabilities
    watched = caps.workspace.did_change_watched_files if caps.workspace else None
    if not (watched and watched.dynamic_registration):
        return
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[
            types.FileSystemWatcher(glob_pattern=SOURCE_GLOB),
            types.FileSystemWatcher(glob_pattern=IGNORE_FILES_GLOB),
        ]
    )
    registration = types.Registration(
        id=WATCHERS_ID, method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options
    )
    try:
        await asyncio.wait_for(
            ls.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            ),
            REGISTER_TIMEOUT_S,
        )
    except Exception as exc:
        log.warning("could not register file watchers: %s", exc)


def register(server: CodesearchServer) -> None:
    server.feature(types.TEXT_DOCUMENT_DID_SAVE, TEXT_SYNC.save)(did_save)
    server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)(did_change_watched_files)
    server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)(did_change_workspace_folders)
