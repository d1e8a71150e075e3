"""A model that cannot load puts the server in the error state with a message saying what
to fix; the server stays up and answers."""

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
    wait_for,
)

pytestmark = pytest.mark.slow
ROOT = copy_workspace()
STATUSES: list[dict[str, Any]] = []


@pytest_lsp.fixture(config=server_config(CODESEARCH_MODEL="/nonexistent/model-dir"), scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    globals()["STATUSES"] = record_status(lsp_client)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            workspace_folders=[folder(ROOT)],
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_error_state_message_and_server_alive(client: LanguageClient) -> None:
    status = await wait_for(
        lambda: next((s for s in STATUSES if s["state"] == "error"), None), 60, "error state"
    )
    assert "/nonexistent/model-dir" in status["lastError"]
    await wait_for(lambda: client.messages, 30, "a message")
    message = client.messages[0]
    assert message.type == types.MessageType.Error
    assert "model" in message.message and "/nonexistent/model-dir" in message.message
    result = await execute(client, "codesearch.status")
    assert result["state"] == "error"
    symbols = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="upload"))
    assert symbols == []
