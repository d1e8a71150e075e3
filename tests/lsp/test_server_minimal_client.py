"""A client that supports nothing optional (no progress, no configuration requests, no
dynamic registration): the server must neither hang on requests nobody answers nor send
progress nobody asked for."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient
from tests.lsp.helpers import (
    copy_workspace,
    execute,
    folder,
    record_status,
    server_config,
    wait_idle,
)

pytestmark = pytest.mark.slow
ROOT = copy_workspace()
STATUSES: list[dict[str, Any]] = []


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    globals()["STATUSES"] = record_status(lsp_client)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=ROOT.as_uri(),
            initialization_options={"settings": {"exclude": ["native/**"]}},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_indexes_from_root_uri_without_progress(client: LanguageClient) -> None:
    status = await wait_idle(STATUSES)
    assert status["files"] == 5  # native/ excluded by initializationOptions
    assert client.progress_reports == {}


async def test_search_and_symbols_work(client: LanguageClient) -> None:
    hits = await execute(client, "codesearch.search", {"query": "hash a password with salt"})
    assert hits[0]["name"] == "HashPassword"
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="checksum"))
    assert symbols[0].name == "compute_checksum"
    assert await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="")) == []


async def test_workspace_folders_can_be_added_and_removed(client: LanguageClient) -> None:
    extra = copy_workspace()
    mark = len(STATUSES)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=[folder(extra)], removed=[])
        )
    )
    status = await wait_idle(STATUSES, mark)
    assert status["files"] == 5 + 5  # the same exclude setting applies to every folder
    hits = await execute(client, "codesearch.search", {"query": "retry failed uploads"})
    assert {h["uri"].split("/ws/")[0] for h in hits[:2]} == {
        ROOT.parent.as_uri(),
        extra.parent.as_uri(),
    }
    mark = len(STATUSES)
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(added=[], removed=[folder(extra)])
        )
    )
    status = await wait_idle(STATUSES, mark)
    assert status["files"] == 5
