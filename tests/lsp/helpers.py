"""Helpers for driving the real server through a real LSP client (pytest-lsp)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace"
STATUS = "codesearch/status"


def server_config(**env: str) -> ClientServerConfig:
    """The real server, in a fresh store folder, with stderr kept by pytest-lsp."""
    store = tempfile.mkdtemp(prefix="codesearch-lsp-store-")
    environment = {**os.environ, "CODESEARCH_CACHE_DIR": store, **env}
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "codesearch", "serve", "--log-level", "info"],
        server_env=environment,
    )


def copy_workspace() -> Path:
    root = Path(tempfile.mkdtemp(prefix="codesearch-lsp-ws-")) / "ws"
    shutil.copytree(FIXTURE, root)
    return root


def record_status(client: LanguageClient) -> list[dict[str, Any]]:
    """Collect every codesearch/status payload the server sends, as plain dicts."""
    seen: list[dict[str, Any]] = []

    @client.feature(STATUS)
    def on_status(params: Any) -> None:
        seen.append(plain(params))

    return seen


def accept_registrations(client: LanguageClient) -> list[types.Registration]:
    """Answer client/registerCapability the way VS Code does, and remember what came."""
    registered: list[types.Registration] = []

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(params: types.RegistrationParams) -> None:
        registered.extend(params.registrations)

    return registered


async def wait_for(
    predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


async def wait_idle(
    statuses: list[dict[str, Any]], after: int = 0, timeout: float = 90.0
) -> dict[str, Any]:
    """The first idle status at or after index `after` with nothing pending."""

    def idle() -> dict[str, Any] | None:
        for status in statuses[after:]:
            if status["state"] == "idle" and status["pending"] == 0:
                return status
        return None

    return await wait_for(idle, timeout, "an idle status")  # type: ignore[no-any-return]


def folder(root: Path) -> types.WorkspaceFolder:
    return types.WorkspaceFolder(uri=root.as_uri(), name=root.name)


def plain(value: Any) -> Any:
    """pygls hands custom results over as namedtuples; tests read plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return plain(
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )
    )


def save(client: LanguageClient, path: Path) -> None:
    client.text_document_did_save(
        types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=path.as_uri())
        )
    )


def watched(client: LanguageClient, *changes: tuple[Path, types.FileChangeType]) -> None:
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=p.as_uri(), type=t) for p, t in changes]
        )
    )
