"""Servers made by `create_server` in this process, driven over JSON-RPC (fake encoder, fast).

Every handler runs as it does behind stdio (same dispatch, same event loop); only the model
is a stand-in. The real server with the real model runs in the other tests of this folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tests.lsp.inprocess import InProcessClient, ResponseError
from tests.support.fakes import FakeEncoder

from codesearch import contract
from codesearch.contract import STATUS_FIELDS
from codesearch.lsp.server import create_server
from codesearch.service import IndexService

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace"
INVALID_PARAMS = -32602


def copy_fixture(base: Path, name: str = "ws") -> Path:
    root = base / name
    shutil.copytree(FIXTURE, root)
    return root


async def test_initialize_advertises_save_notifications_only(tmp_path: Path) -> None:
    client = InProcessClient()
    result = await client.initialize([copy_fixture(tmp_path)])
    assert result["capabilities"]["textDocumentSync"] == {
        "openClose": False,
        "change": 0,  # TextDocumentSyncKind.None
        "save": {"includeText": False},
    }
    assert result["capabilities"]["executeCommandProvider"]["commands"] == [
        c.id for c in contract.COMMANDS
    ]
    await client.shutdown()


async def test_opened_and_typed_text_is_dropped_and_a_save_reindexes(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    client = InProcessClient()
    await client.initialize([root])
    await client.wait_idle()
    target = root / "uploader" / "tokens.py"
    uri = target.as_uri()
    text = "def rotate_api_tokens(store):\n    store.rotate()\n"
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ""}},
    )
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]},
    )
    hits = await client.command("codesearch.search", {"query": "rotate_api_tokens"})
    assert all(h["name"] != "rotate_api_tokens" for h in hits)  # unsaved text is not indexed
    assert client.server.workspace.text_documents == {}  # and not kept either
    mark = len(client.statuses())
    target.write_text(text)
    client.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
    await client.wait_idle(after=mark + 1)
    hits = await client.command("codesearch.search", {"query": "rotate_api_tokens"})
    assert hits[0]["name"] == "rotate_api_tokens"
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    errors = [m for m in client.received if "error" in m]
    assert errors == []
    await client.shutdown()


async def test_two_servers_in_one_process_keep_their_own_state(tmp_path: Path) -> None:
    first_root = copy_fixture(tmp_path, "first")
    second_root = tmp_path / "second"
    (second_root / "pkg").mkdir(parents=True)
    (second_root / "pkg" / "ledger.py").write_text(
        "def balance_ledger(entries):\n    return sum(e.amount for e in entries)\n"
    )
    first, second = InProcessClient(), InProcessClient()
    assert first.server is not second.server
    await first.initialize([first_root])
    await second.initialize([second_root])
    first_status, second_status = await first.wait_idle(), await second.wait_idle()
    assert (first_status["files"], second_status["files"]) == (6, 1)

    ledger = await second.command("codesearch.search", {"query": "balance_ledger"})
    assert [h["name"] for h in ledger][:1] == ["balance_ledger"]
    elsewhere = await first.command("codesearch.search", {"query": "balance_ledger"})
    assert all(h["name"] != "balance_ledger" for h in elsewhere)

    assert await first.command("codesearch.pause") == {"paused": True}
    assert (await first.command("codesearch.status"))["paused"] is True
    assert (await second.command("codesearch.status"))["paused"] is False
    await first.shutdown()
    assert (await second.command("codesearch.status"))["state"] == "idle"
    await second.shutdown()


async def test_status_payload_has_the_contract_fields_and_shows_a_pause(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    client = InProcessClient()
    await client.initialize([root])
    await client.wait_idle()
    names = [f.name for f in STATUS_FIELDS]
    assert all(list(s) == names for s in client.statuses())
    assert all(s["state"] in contract.SERVER_STATES for s in client.statuses())

    mark = len(client.statuses())
    await client.command("codesearch.pause")
    assert client.statuses()[mark:] and client.statuses()[-1]["paused"] is True
    target = root / "uploader" / "invoices.py"
    target.write_text("def add_sales_tax(total, rate):\n    return total * (1 + rate)\n")
    client.notify("textDocument/didSave", {"textDocument": {"uri": target.as_uri()}})
    mark = len(client.statuses())
    await client.wait_idle(after=mark)
    hits = await client.command("codesearch.search", {"query": "add_sales_tax"})
    assert all(h["name"] != "add_sales_tax" for h in hits)  # paused: the save waits

    mark = len(client.statuses())
    assert await client.command("codesearch.resume") == {"paused": False}
    status = await client.wait_idle(after=mark)
    assert status["paused"] is False
    hits = await client.command("codesearch.search", {"query": "add_sales_tax"})
    assert hits[0]["name"] == "add_sales_tax"
    await client.shutdown()


async def test_workspace_symbol_puts_exact_then_prefix_names_first(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "names.py").write_text(
        "def parse_config_later(text):\n"
        '    """Read the settings file and parse it into a dict, later."""\n'
        "    return text\n\n"
        "def parse(text):\n"
        '    """Split a line."""\n'
        "    return text.split()\n\n"
        "def reparse(text):\n"
        '    """Parse the settings file again."""\n'
        "    return text\n"
    )
    client = InProcessClient()
    await client.initialize([root])
    await client.wait_idle()
    symbols = await client.request("workspace/symbol", {"query": "parse"})
    names = [s["name"] for s in symbols]
    assert names[:2] == ["parse", "parse_config_later"]
    assert set(names) == {"parse", "parse_config_later", "reparse"}
    assert await client.request("workspace/symbol", {"query": "  "}) == []
    await client.shutdown()


async def test_bad_command_arguments_are_invalid_params_and_change_nothing(
    tmp_path: Path,
) -> None:
    client = InProcessClient()
    await client.initialize([copy_fixture(tmp_path)])
    before = await client.wait_idle()
    for command, arguments in [
        ("codesearch.search", []),
        ("codesearch.search", [{"query": "x", "kind": "no-such-kind"}]),
        ("codesearch.search", [{"query": "x", "limit": contract.MAX_LIMIT + 1}]),
        ("codesearch.findSimilar", [{"uri": "untitled:1", "position": {"line": 0}}]),
        ("codesearch.reindex", [{"force": "yes"}]),
        ("codesearch.noSuchCommand", []),
    ]:
        with pytest.raises(ResponseError) as raised:
            await client.command(command, *arguments)
        assert raised.value.code == INVALID_PARAMS, (command, arguments)
    after = await client.command("codesearch.status")
    assert after["entities"] == before["entities"] and after["state"] == "idle"
    await client.shutdown()


async def test_a_failed_entity_is_a_warning_retried_by_the_next_save(tmp_path: Path) -> None:
    """Issue 14, item 2 in the editor: the function the model failed on is shown as a
    Warning on its lines; it is embedded on the next save, even of another file, and the
    warning clears."""
    root = copy_fixture(tmp_path)
    target = root / "uploader" / "flaky.py"
    target.write_text("def flaky_checksum(data):\n    return sum(data) % 251\n")
    encoder = FakeEncoder(fail_on="flaky_checksum")
    client = InProcessClient(
        create_server(
            lambda settings, listener: IndexService(
                settings, listener, encoder=encoder, debounce_s=0.05
            )
        )
    )
    await client.initialize([root])
    status = await client.wait_idle()
    assert status["failed"] == 1
    published = client.notifications("textDocument/publishDiagnostics")
    [diagnostic] = next(p["diagnostics"] for p in published if p["uri"] == target.as_uri())
    assert diagnostic["severity"] == 2  # Warning: a problem of the index, not of the code
    assert diagnostic["range"]["start"]["line"] == 0
    assert "flaky_checksum" in diagnostic["message"]

    encoder.fail_on = ""  # the model recovers
    other = root / "uploader" / "upload.py"
    mark = len(client.statuses())
    other.write_text(other.read_text() + "\n")
    client.notify("textDocument/didSave", {"textDocument": {"uri": other.as_uri()}})
    status = await client.wait_idle(after=mark + 1)
    assert status["failed"] == 0
    last = [p for p in client.notifications("textDocument/publishDiagnostics")
            if p["uri"] == target.as_uri()][-1]  # fmt: skip
    assert last["diagnostics"] == []
    hits = await client.command("codesearch.search", {"query": "flaky_checksum"})
    assert hits[0]["name"] == "flaky_checksum"
    await client.shutdown()
