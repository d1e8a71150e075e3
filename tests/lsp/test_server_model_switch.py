"""The `codesearch.model` setting changed to a model that cannot load, then back (issue 14,
item 1), through a real LSP client and the real server and model.

The server used to close the workspace, move its store aside as "built with another
model", fail to load, and embed everything again once the setting was put back. Now the
new model is tried first: the error names it and says the index is kept, searches keep
answering from that index, and going back re-embeds nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from tests.lsp.helpers import (
    accept_registrations,
    copy_workspace,
    execute,
    folder,
    record_status,
    server_config,
    wait_for,
    wait_idle,
)

pytestmark = pytest.mark.slow
ROOT = copy_workspace()
CONFIG = server_config(HF_HUB_OFFLINE="1")
STORE = Path(CONFIG.server_env["CODESEARCH_CACHE_DIR"]) if CONFIG.server_env else Path()
STATUSES: list[dict[str, Any]] = []
MISSING = "codesearch-tests/not-a-cached-model"


@pytest_lsp.fixture(config=CONFIG, scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    globals()["STATUSES"] = record_status(lsp_client)
    accept_registrations(lsp_client)
    lsp_client.set_configuration({"codesearch": {}})
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[folder(ROOT)],
        )
    )
    yield
    await lsp_client.shutdown_session()


def _change(client: LanguageClient, settings: dict[str, Any]) -> int:
    mark = len(STATUSES)
    client.set_configuration({"codesearch": settings})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    return mark


def _stores() -> list[str]:
    """The store folders (the models folder lives beside them when no other is set)."""
    return sorted(p.name for p in STORE.iterdir() if p.name != "models")


async def test_a_model_that_cannot_load_keeps_the_index_and_going_back_embeds_nothing(
    client: LanguageClient,
) -> None:
    ready = await wait_idle(STATUSES)
    assert ready["entities"] >= 15 and ready["embeddedTotal"] == ready["entities"]
    stores = _stores()
    assert len(stores) == 1

    mark = _change(client, {"model": MISSING})
    failed = await wait_for(
        lambda: next((s for s in STATUSES[mark:] if s["state"] == "error"), None), 60, "error"
    )
    error = failed["lastError"]
    assert error.startswith(f"could not load model '{MISSING}': not in the local cache")
    assert error.endswith("the index built with all-MiniLM-L6-v2 (onnx-int8) is kept")
    message = await wait_for(
        lambda: next((m for m in client.messages if MISSING in m.message), None), 30, "message"
    )
    assert message.type == types.MessageType.Error and "is kept" in message.message
    assert _stores() == stores  # nothing moved aside
    hits = await execute(client, "codesearch.search", {"query": "retry failed uploads"})
    assert hits and hits[0]["name"] == "retry_failed_upload"  # the index still answers
    status = await execute(client, "codesearch.status")
    assert status["entities"] == ready["entities"]
    assert status["model"] == "all-MiniLM-L6-v2 (onnx-int8)"  # the model that answers

    mark = _change(client, {"model": ""})
    back = await wait_idle(STATUSES, mark)
    assert back["lastError"] is None and back["entities"] == ready["entities"]
    assert back["embeddedTotal"] == ready["embeddedTotal"]  # nothing embedded again
    assert _stores() == stores
    hits = await execute(client, "codesearch.search", {"query": "retry failed uploads"})
    assert hits[0]["name"] == "retry_failed_upload"
