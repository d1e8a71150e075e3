"""The real server indexing through an embedding endpoint and a shared cache set in its
settings, driven by a real LSP client (pytest-lsp); then the endpoint is killed.

Real parts: the test embedding server (tests/support/embedding_server.py, the packaged model
behind `/v1/embeddings`, requiring an API key) and a password-protected redis-server, both
started here and stopped after. The server's log goes to a file, scanned at the end.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from tests.lsp.helpers import (
    copy_workspace,
    execute,
    folder,
    plain,
    record_status,
    save,
    wait_for,
    wait_idle,
)
from tests.support.remote_parts import redis_binary, start_embedding_server, start_redis

pytestmark = pytest.mark.slow

API_KEY = "sk-lsp-4c1d8e2a9b7f3605"
REDIS_PASSWORD = "redis-lsp-pw-6e2f9a1c"
KEY_VAR = "TEAM_EMBED_KEY"
MODEL = "all-MiniLM-L6-v2"


async def test_the_server_indexes_through_the_endpoint_and_says_once_when_it_dies(
    tmp_path: Path,
) -> None:
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (.ci/run installs it with apt-get)")
    endpoint = start_embedding_server(
        "--backend", "torch", "--api-key-env", KEY_VAR, env={KEY_VAR: API_KEY}
    )
    redis = start_redis(password=REDIS_PASSWORD)
    root = copy_workspace()
    log = tmp_path / "server.log"
    store = tempfile.mkdtemp(prefix="codesearch-lsp-store-")
    config = ClientServerConfig(
        server_command=[
            "sh", "-c", f'exec "{sys.executable}" -m codesearch serve --log-level info 2>"{log}"'
        ],
        server_env={**os.environ, "CODESEARCH_CACHE_DIR": store, KEY_VAR: API_KEY},
    )  # fmt: skip
    client: LanguageClient = await config.start()
    statuses = record_status(client)
    settings = {
        "embedUrl": endpoint.base_url,
        "embedModel": MODEL,
        "embedApiKeyEnv": KEY_VAR,
        "sharedCache": redis.url,
    }
    client.set_configuration({"codesearch": settings})  # asked by workspace/configuration
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                workspace_folders=[folder(root)],
            )
        )
        status = await wait_idle(statuses, timeout=180)
        assert status["entities"] >= 15 and status["lastError"] is None
        assert status["model"] == f"{MODEL} @ {endpoint.base_url}"
        shown_cache = redis.url.replace(f":{REDIS_PASSWORD}@", "***@")
        assert status["sharedCache"] == {"url": shown_cache, "problem": None}
        assert endpoint.stats()["texts"] >= status["entities"]  # embedded over there

        symbols = await client.workspace_symbol_async(
            types.WorkspaceSymbolParams(query="retry failed uploads")
        )
        assert symbols and symbols[0].name == "retry_failed_upload"

        endpoint.kill()
        upload = root / "uploader" / "upload.py"
        for number in range(3):  # three saves while it is down: one message, not three
            with upload.open("a") as out:
                out.write(f"\n\ndef resume_upload_{number}(path):\n    return path\n")
            seen = len(statuses)
            save(client, upload)
            await wait_for(
                lambda seen=seen: next(  # type: ignore[misc]
                    (s for s in statuses[seen:] if s["state"] == "error" and s["pending"] == 0),
                    None,
                ),
                60,
                "the error state after a save",
            )
        status = statuses[-1]
        assert "unavailable" in status["lastError"] and endpoint.base_url in status["lastError"]
        await asyncio.sleep(1.0)  # a second message would be on its way by now
        errors = [m for m in client.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and "unavailable" in errors[0].message

        hits = await execute(client, "codesearch.search", {"query": "retry failed uploads"})
        assert hits[0]["name"] == "retry_failed_upload"  # by keywords, from the kept index
        now = await execute(client, "codesearch.status")
        assert now["notice"] is not None and "query embedding unavailable" in now["notice"]
        assert now["entities"] == status["entities"]  # nothing indexed before was lost
        await client.shutdown_session()
    finally:
        await client.stop()
        endpoint.stop()
        redis.stop()
    text = log.read_text(errors="replace")
    assert "HTTP Request" not in text  # httpx's line per request stays out of the log
    seen_by_user = [text, repr(statuses), repr([plain(m) for m in client.messages])]
    for shown in seen_by_user:
        assert API_KEY not in shown and REDIS_PASSWORD not in shown
