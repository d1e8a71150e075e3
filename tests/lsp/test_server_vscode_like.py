"""The real server, real model, through a client with VS Code's capabilities: progress,
workspace/configuration and dynamic file watchers are all supported."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcMethodNotFound
from pytest_lsp import LanguageClient, client_capabilities
from tests.lsp.helpers import (
    accept_registrations,
    copy_workspace,
    execute,
    folder,
    record_status,
    save,
    server_config,
    wait_for,
    wait_idle,
    watched,
)

pytestmark = pytest.mark.slow
ROOT = copy_workspace()
STATUSES: list[dict[str, Any]] = []
REGISTERED: list[types.Registration] = []
INITIALIZED: list[types.InitializeResult] = []


@pytest_lsp.fixture(config=server_config(), scope="module")
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    seen = record_status(lsp_client)
    globals()["REGISTERED"] = accept_registrations(lsp_client)
    lsp_client.set_configuration({"codesearch": {"batchSize": 16}})
    result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            workspace_folders=[folder(ROOT)],
            root_uri=ROOT.as_uri(),
            initialization_options={"maxFileSize": 1048576},
        )
    )
    globals()["STATUSES"] = seen
    INITIALIZED.append(result)
    yield
    await lsp_client.shutdown_session()


def embedded() -> int:
    return int(STATUSES[-1].get("embeddedTotal", 0)) if STATUSES else 0


async def settle(after: int) -> dict[str, Any]:
    await asyncio.sleep(0.5)  # let the debounce fire
    return await wait_idle(STATUSES, after)


async def test_initial_index_reports_progress_and_status(client: LanguageClient) -> None:
    status = await wait_idle(STATUSES)
    assert status["entities"] >= 15 and status["files"] == 6
    assert status["model"] == "all-MiniLM-L6-v2 (onnx-int8)" and status["lastError"] is None
    assert any(s["state"] == "indexing" for s in STATUSES)
    reports = [r for token, r in client.progress_reports.items() if "codesearch" in str(token)]
    assert reports, "no work-done progress was created"
    kinds = [type(v).__name__ for v in reports[0]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert any(getattr(v, "message", "") and "entities" in v.message for v in reports[0])
    assert [r.method for r in REGISTERED] == ["workspace/didChangeWatchedFiles"]


async def test_status_command_matches_notification(client: LanguageClient) -> None:
    status = await execute(client, "codesearch.status")
    assert status["state"] == "idle" and status["entities"] == STATUSES[-1]["entities"]


async def test_search_command_and_workspace_symbol_find_by_meaning(client: LanguageClient) -> None:
    hits = await execute(client, "codesearch.search", {"query": "retry failed uploads", "limit": 5})
    first = hits[0]
    assert first["name"] == "retry_failed_upload"
    assert first["uri"] == (ROOT / "uploader" / "upload.py").as_uri()
    assert first["range"]["start"]["line"] == 9  # 0-based line of `def retry_failed_upload`
    assert "retry" in first["matched"] and first["snippet"].startswith("def retry_failed_upload")
    symbols = await client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="validate email address")
    )
    top = {s.name: s for s in symbols[:2]}
    assert "EmailValidator.isValidEmail" in top
    assert top["EmailValidator.isValidEmail"].kind == types.SymbolKind.Method
    exact = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="debounce"))
    assert exact[0].name == "debounce"


async def test_initialize_asks_for_save_notifications_and_no_document_text(
    client: LanguageClient,
) -> None:
    sync = INITIALIZED[0].capabilities.text_document_sync
    assert sync == types.TextDocumentSyncOptions(
        open_close=False,
        change=types.TextDocumentSyncKind.None_,
        save=types.SaveOptions(include_text=False),
    )


async def test_opened_and_typed_text_is_ignored_and_the_save_indexes(
    client: LanguageClient,
) -> None:
    """What a client that sends buffers anyway gets: no errors, and the index follows the
    file on disk when it is saved."""
    await wait_idle(STATUSES)
    target = ROOT / "uploader" / "session.py"
    text = 'def refresh_login_session(user):\n    """Renew a login session."""\n    user.renew()\n'
    uri = target.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text="")
        )
    )
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    query = {"query": "refresh login session", "limit": 3}
    hits = await execute(client, "codesearch.search", query)
    assert all(h["name"] != "refresh_login_session" for h in hits)  # unsaved: not indexed
    mark = len(STATUSES)
    target.write_text(text)
    save(client, target)
    await settle(mark)
    hits = await execute(client, "codesearch.search", query)
    assert hits[0]["name"] == "refresh_login_session"
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    await execute(client, "codesearch.status")
    assert client.error is None
    assert [m for m in client.messages if m.type == types.MessageType.Error] == []
    assert [m for m in client.log_messages if m.type == types.MessageType.Error] == []
    target.unlink()
    watched(client, (target, types.FileChangeType.Deleted))
    await settle(len(STATUSES))


async def test_save_of_one_changed_function_embeds_exactly_one(client: LanguageClient) -> None:
    await wait_idle(STATUSES)
    before, mark = embedded(), len(STATUSES)
    target = ROOT / "uploader" / "upload.py"
    target.write_text(target.read_text().replace("% 65521", "% 65535"))
    save(client, target)
    await settle(mark)
    await wait_for(lambda: embedded() == before + 1, 30, "one embedding")
    await asyncio.sleep(0.5)
    assert embedded() == before + 1


async def test_burst_of_saves_is_coalesced(client: LanguageClient) -> None:
    before, mark = embedded(), len(STATUSES)
    target = ROOT / "web" / "debounce.js"
    original = target.read_text()
    for i in range(10):
        target.write_text(original.replace("wait);", f"wait + {i});"))
        save(client, target)
    await settle(mark)
    await asyncio.sleep(0.6)
    assert embedded() == before + 1  # only the final text of the one changed function


async def test_watched_file_create_rename_delete(client: LanguageClient) -> None:
    mark = len(STATUSES)
    created = ROOT / "uploader" / "tokens.py"
    created.write_text(
        'def rotate_api_tokens(store):\n    """Rotate expiring API tokens."""\n    store.rotate()\n'
    )
    watched(client, (created, types.FileChangeType.Created))
    await settle(mark)
    hits = await execute(client, "codesearch.search", {"query": "rotate api tokens", "limit": 1})
    assert hits[0]["name"] == "rotate_api_tokens"

    before, mark = embedded(), len(STATUSES)
    renamed = ROOT / "uploader" / "credentials.py"
    created.rename(renamed)
    watched(
        client, (created, types.FileChangeType.Deleted), (renamed, types.FileChangeType.Created)
    )
    await settle(mark)
    hits = await execute(client, "codesearch.search", {"query": "rotate api tokens", "limit": 1})
    assert hits[0]["path"] == "uploader/credentials.py" and embedded() == before

    mark = len(STATUSES)
    renamed.unlink()
    watched(client, (renamed, types.FileChangeType.Deleted))
    await settle(mark)
    hits = await execute(client, "codesearch.search", {"query": "rotate api tokens", "limit": 5})
    assert all(h["name"] != "rotate_api_tokens" for h in hits)


async def test_a_file_that_is_not_utf8_is_indexed_with_a_diagnostic_until_fixed(
    client: LanguageClient,
) -> None:
    """Issue 14, item 3: a Latin-1 comment no longer drops the file's functions; the user
    hears of the guessed encoding as information, and the note clears once fixed."""
    legacy = ROOT / "web" / "legacy.py"
    legacy.write_bytes(
        "# Auteur: Jos\u00e9 M\u00fcller\n"
        "def normalise_postal_address(street, city):\n"
        "    return street.strip() + ', ' + city.strip()\n".encode("latin-1")
    )
    mark = len(STATUSES)
    save(client, legacy)
    await settle(mark)
    uri = legacy.as_uri()
    diagnostics = await wait_for(lambda: client.diagnostics.get(uri), 30, "diagnostics")
    assert [d.source for d in diagnostics] == ["codesearch"]
    assert diagnostics[0].severity == types.DiagnosticSeverity.Information
    assert "not valid UTF-8" in diagnostics[0].message and "line 1" in diagnostics[0].message
    assert "cp1252" in diagnostics[0].message
    assert STATUSES[-1]["failed"] == 0
    hits = await execute(client, "codesearch.search", {"query": "normalise a postal address"})
    assert hits[0]["name"] == "normalise_postal_address"
    assert hits[0]["range"]["start"] == {"line": 1, "character": 0}
    legacy.write_text(
        "# Auteur: Jos\u00e9 M\u00fcller\ndef normalise_postal_address(street, city):\n"
        "    return street\n",
        encoding="utf-8",
    )
    save(client, legacy)
    await wait_for(
        lambda: uri in client.diagnostics and len(client.diagnostics[uri]) == 0,
        30,
        "cleared diagnostics",
    )


async def test_find_similar_and_reindex(client: LanguageClient) -> None:
    hits = await execute(
        client,
        "codesearch.findSimilar",
        {
            "uri": (ROOT / "uploader" / "upload.py").as_uri(),
            "position": {"line": 11, "character": 4},
        },
    )
    assert hits and all(h["name"] != "retry_failed_upload" for h in hits)
    summary = await execute(client, "codesearch.reindex")
    assert summary["embedded"] == 0 and summary["entities"] >= 15
    forced = await execute(client, "codesearch.reindex", {"force": True})
    assert forced["embedded"] == forced["entities"]


async def test_malformed_requests_get_errors_and_the_server_survives(
    client: LanguageClient,
) -> None:
    bad_calls: list[tuple[str, list[Any]]] = [
        ("codesearch.noSuchCommand", []),
        ("codesearch.search", []),
        ("codesearch.search", [{"query": 42}]),
        ("codesearch.search", [{"query": "x", "limit": "ten"}]),
        ("codesearch.search", ["not an object"]),
        ("codesearch.findSimilar", [{"uri": "file:///etc/passwd", "position": {"line": 0}}]),
        ("codesearch.findSimilar", [{"uri": "untitled:Untitled-1", "position": {"line": 0}}]),
        ("codesearch.reindex", [{"force": "yes"}]),
    ]
    for command, arguments in bad_calls:
        with pytest.raises(JsonRpcInvalidParams):
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=command, arguments=arguments)
            )
    with pytest.raises(JsonRpcMethodNotFound):
        await client.protocol.send_request_async("codesearch/unknownMethod", {})
    result = await execute(client, "codesearch.status")
    assert result["state"] in ("idle", "indexing")


async def test_settings_change_takes_effect(client: LanguageClient) -> None:
    await wait_idle(STATUSES)
    mark = len(STATUSES)
    client.set_configuration({"codesearch": {"exclude": ["web/**"], "batchSize": 16}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await asyncio.sleep(0.5)
    await wait_idle(STATUSES, mark)
    hits = await execute(client, "codesearch.search", {"query": "debounce a function", "limit": 20})
    assert all(not h["path"].startswith("web/") for h in hits)
    mark = len(STATUSES)
    client.set_configuration({"codesearch": {"batchSize": "huge"}})
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    await wait_for(lambda: any("batchSize" in m.message for m in client.messages), 30, "a warning")
    await wait_idle(STATUSES, mark)
    hits = await execute(client, "codesearch.search", {"query": "debounce a function", "limit": 3})
    assert hits[0]["name"] == "debounce"  # invalid value ignored, exclusion lifted again


async def test_pause_holds_indexing_and_resume_catches_up(client: LanguageClient) -> None:
    await wait_idle(STATUSES)
    assert await execute(client, "codesearch.pause") == {"paused": True}
    target = ROOT / "services" / "invoices.py"
    target.write_text(
        'def add_sales_tax(total, rate):\n    """Add sales tax."""\n    return total * (1 + rate)\n'
    )
    save(client, target)
    await asyncio.sleep(1.5)
    hits = await execute(client, "codesearch.search", {"query": "add sales tax", "limit": 3})
    assert all(h["name"] != "add_sales_tax" for h in hits)  # paused: not indexed yet
    mark = len(STATUSES)
    assert await execute(client, "codesearch.resume") == {"paused": False}
    await wait_idle(STATUSES, mark)
    hits = await execute(client, "codesearch.search", {"query": "add sales tax", "limit": 3})
    assert hits[0]["name"] == "add_sales_tax"
