"""Start, settings and stop: `initialize`, `initialized`, `workspace/didChangeConfiguration`,
`shutdown`.

Settings come from `initializationOptions`, then from `workspace/configuration` when the
client offers it; invalid values are shown to the user and replaced by defaults.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types

from codesearch.config import parse_settings
from codesearch.contract import CONFIG_SECTION
from codesearch.lsp import files
from codesearch.lsp.convert import plain, uri_to_path
from codesearch.lsp.language_server import CodesearchServer
from codesearch.lsp.progress import ProgressBridge

log = logging.getLogger(__name__)
REQUEST_TIMEOUT_S = 5.0  # for requests to the client that it may never answer


def initialize(ls: CodesearchServer, params: types.InitializeParams) -> None:
    settings, errors = parse_settings(plain(params.initialization_options))
    ls.settings = settings
    ls.init_errors = errors


async def initialized(ls: CodesearchServer, params: types.InitializedParams) -> None:
    ls.loop = asyncio.get_running_loop()
    ls.progress_bridge = ProgressBridge(ls)
    for error in ls.init_errors:
        ls.show(f"Codesearch settings: {error}")
    pulled = await pull_configuration(ls)
    if pulled:
        settings, errors = parse_settings(pulled)
        for error in errors:
            ls.show(f"Codesearch settings: {error}")
        ls.settings = settings
    service = ls.service = ls.service_factory(ls.settings.with_env_defaults(), ls)
    await files.register_watchers(ls)
    roots = workspace_roots(ls)
    if not ls.settings.enable:
        service.update_settings(ls.settings.with_env_defaults())
    for root in roots:
        service.add_folder(root)
    if not roots:
        ls.send_status(service.status())


async def did_change_configuration(
    ls: CodesearchServer, params: types.DidChangeConfigurationParams
) -> None:
    pulled = await pull_configuration(ls)
    if pulled is None:
        raw = plain(params.settings)
        pulled = raw.get(CONFIG_SECTION, raw) if isinstance(raw, dict) else raw
    if pulled is not None:
        apply_settings(ls, pulled, source="changed")


async def shutdown(ls: CodesearchServer, *args: Any) -> None:
    service, ls.service = ls.service, None
    if service is not None:
        await asyncio.get_running_loop().run_in_executor(None, service.shutdown)
    if ls.progress_bridge is not None:
        ls.progress_bridge.close()
    ls.queries.shutdown(wait=False, cancel_futures=True)


def apply_settings(ls: CodesearchServer, raw: Any, *, source: str) -> None:
    settings, errors = parse_settings(raw)
    for error in errors:
        ls.show(f"Codesearch settings ({source}): {error}")
    ls.settings = settings
    if ls.service is not None:
        ls.service.update_settings(settings.with_env_defaults())


async def pull_configuration(ls: CodesearchServer) -> Any | None:
    """The `codesearch` section from the client, or None if it cannot give one."""
    caps = ls.client_capabilities
    if not (caps.workspace and caps.workspace.configuration):
        return None
    try:
        result = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=CONFIG_SECTION)])
            ),
            REQUEST_TIMEOUT_S,
        )
    except Exception as exc:
        log.warning("workspace/configuration failed: %s", exc)
        return None
    return plain(result[0]) if result else None


def workspace_roots(ls: CodesearchServer) -> list[Path]:
    """The client's workspace folders, or its root URI when it sent no folders."""
    roots: list[Path] = []
    for folder in ls.workspace.folders.values():
        path = uri_to_path(folder.uri)
        if path is not None:
            roots.append(path)
    if not roots and ls.workspace.root_uri:
        path = uri_to_path(ls.workspace.root_uri)
        if path is not None:
            roots.append(path)
    return roots


def register(server: CodesearchServer) -> None:
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.SHUTDOWN)(shutdown)
