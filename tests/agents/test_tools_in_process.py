"""The MCP tools through the SDK's own client, in process, over a fake encoder (fast).

The SDK's in-memory transport carries real MCP messages (the initialize handshake, tools/list,
tools/call, roots/list) between the SDK's client and our server; only the model is a fake.
tests/agents/test_stdio.py runs the same face as a subprocess on the real model.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from tests.agents.schemas import union_types
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.entities import ENTITY_KINDS
from codesearch.mcp.roots import RootSet
from codesearch.mcp.server import create_server
from codesearch.service import IndexService
from codesearch.service.log_listener import LogListener
from codesearch.service.watcher import FolderWatcher

RootsFn = Callable[[], list[Path]]


UNEMBEDDABLE = "refused_by_the_model"  # the fake model fails on any text holding it


@pytest.fixture
def service(tmp_path: Path) -> Iterator[IndexService]:
    svc = IndexService(
        Settings(store_dir=str(tmp_path / "store")),
        LogListener(),
        encoder=FakeEncoder(fail_on=UNEMBEDDABLE),
    )
    yield svc
    svc.shutdown()


@asynccontextmanager
async def connected(
    service: IndexService,
    fixed: list[Path],
    *,
    client_roots: RootsFn | None = None,
    watch: bool = False,
) -> AsyncIterator[tuple[Client, RootSet]]:
    """Our server behind the SDK's client (the handshake protocol, as stdio clients use)."""
    watcher = FolderWatcher(service) if watch else None
    roots = RootSet(service, watcher, fixed)

    async def list_roots(context: Any) -> types.ListRootsResult:
        assert client_roots is not None
        return types.ListRootsResult(
            roots=[types.Root(uri=folder.as_uri()) for folder in client_roots()]
        )

    try:
        async with Client(
            create_server(service, roots),
            mode="legacy",
            list_roots_callback=list_roots if client_roots else None,
        ) as client:
            yield client, roots
    finally:
        if watcher is not None:
            watcher.close()


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def names(result: types.CallToolResult) -> list[str]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return [hit["name"] for hit in result.structured_content["hits"]]


async def test_tools_are_listed_with_strict_schemas(
    service: IndexService, workspace_copy: Path
) -> None:
    async with connected(service, [workspace_copy]) as (client, _):
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(listed) == {"search_code", "find_similar", "index_status"}
    for tool in listed.values():
        assert union_types(tool.input_schema) == [], tool.name
        assert tool.output_schema is not None and union_types(tool.output_schema) == []
        assert tool.description and len(tool.description) > 100  # written for a model
    search = listed["search_code"].input_schema
    assert search["required"] == ["query"]
    props = search["properties"]
    assert props["limit"]["default"] == 10 and props["limit"]["maximum"] == 50
    assert props["max_chars"]["default"] == 8000
    assert props["kind"]["enum"] == ["", *ENTITY_KINDS] and props["path_glob"]["default"] == ""
    assert listed["find_similar"].input_schema["required"] == ["path", "line"]
    hit_fields = listed["search_code"].output_schema["$defs"]["HitOut"]["required"]
    for field in ("path", "root", "start_line", "end_line", "name", "kind", "language"):
        assert field in hit_fields
    assert {"score", "weak", "snippet", "matched"} <= set(hit_fields)


async def test_search_gives_hits_with_snippets_as_structure_and_text(
    service: IndexService, workspace_copy: Path
) -> None:
    async with connected(service, [workspace_copy]) as (client, _):
        service.wait_idle(30)
        result = await client.call_tool("search_code", {"query": "retry failed upload"})
        assert names(result)[0] == "retry_failed_upload"
        hit = result.structured_content["hits"][0]  # type: ignore[index]
        assert hit["path"] == "uploader/upload.py" and hit["root"] == str(workspace_copy)
        assert hit["snippet"].startswith("def retry_failed_upload(")
        assert (hit["start_line"], hit["end_line"]) == (10, 17)
        assert "uploader/upload.py:10-17 function retry_failed_upload" in text(result)
        assert "def retry_failed_upload(" in text(result)

        only_go = await client.call_tool("search_code", {"query": "cache", "language": "go"})
        assert names(only_go) and all(
            h["language"] == "go"
            for h in only_go.structured_content["hits"]  # type: ignore[index]
        )
        classes = await client.call_tool("search_code", {"query": "upload", "kind": "class"})
        assert all(h["kind"] == "class" for h in classes.structured_content["hits"])  # type: ignore[index]
        in_web = await client.call_tool("search_code", {"query": "date", "path_glob": "web/*"})
        assert all(h["path"].startswith("web/") for h in in_web.structured_content["hits"])  # type: ignore[index]


async def test_the_answer_keeps_to_its_size_budget_and_says_what_it_cut(
    service: IndexService, workspace_copy: Path
) -> None:
    async with connected(service, [workspace_copy]) as (client, _):
        service.wait_idle(30)
        full = await client.call_tool("search_code", {"query": "upload file", "limit": 20})
        assert full.structured_content["dropped"] == 0  # type: ignore[index]
        for budget in (3000, 1200, 600):
            cut = await client.call_tool(
                "search_code", {"query": "upload file", "limit": 20, "max_chars": budget}
            )
            data = cut.structured_content
            assert data is not None and not cut.is_error
            assert len(text(cut)) <= budget and len(json.dumps(data)) <= budget
            assert data["snippet_lines"] < 12 or data["dropped"] > 0
            assert "max_chars" in data["note"]
            assert data["found"] == full.structured_content["found"]  # type: ignore[index]
        kept = [h["name"] for h in data["hits"]]
        assert kept == names(full)[: len(kept)]  # the best hits are the ones kept


async def test_paths_outside_the_roots_are_errors_and_the_server_goes_on(
    service: IndexService, workspace_copy: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "secret.py"
    outside.write_text("def leak():\n    return 'secret'\n")
    (workspace_copy / "link.py").symlink_to(outside)
    (workspace_copy / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    async with connected(service, [workspace_copy]) as (client, _):
        service.wait_idle(30)
        good = {"path": "uploader/upload.py", "line": 12}
        assert names(await client.call_tool("find_similar", good))
        for bad in (
            "../secret.py",
            str(outside),
            "link.py",
            "linked_dir/secret.py",
            "uploader/../../secret.py",
            "/etc/passwd",
            "",
        ):
            result = await client.call_tool("find_similar", {"path": bad, "line": 1})
            assert result.is_error, bad
            assert "secret" not in text(result).replace(bad, "")  # nothing read from it
            assert names(await client.call_tool("find_similar", good))  # still serving
        absolute = await client.call_tool(
            "find_similar", {"path": str(workspace_copy / "uploader/upload.py"), "line": 12}
        )
        assert names(absolute) == names(await client.call_tool("find_similar", good))
        not_code = await client.call_tool("find_similar", {"path": "uploader/upload.py", "line": 2})
        assert not_code.is_error and "no indexed function" in text(not_code)


async def test_malformed_arguments_are_errors_and_the_next_call_works(
    service: IndexService, workspace_copy: Path
) -> None:
    async with connected(service, [workspace_copy]) as (client, _):
        service.wait_idle(30)
        for tool, arguments in (
            ("search_code", {}),
            ("search_code", {"query": ""}),
            ("search_code", {"query": "   "}),
            ("search_code", {"query": "x", "limit": 0}),
            ("search_code", {"query": "x", "limit": 51}),
            ("search_code", {"query": "x", "limit": "many"}),
            ("search_code", {"query": "x", "kind": "table"}),
            ("search_code", {"query": "x", "language": "cobol"}),
            ("search_code", {"query": ["a", "b"]}),
            ("search_code", {"query": "x", "max_chars": 10}),
            ("find_similar", {"path": "uploader/upload.py"}),
            ("find_similar", {"path": "uploader/upload.py", "line": 0}),
            ("no_such_tool", {}),
        ):
            result = await client.call_tool(tool, arguments)
            assert result.is_error, (tool, arguments)
            assert text(result)
            assert names(await client.call_tool("search_code", {"query": "checksum"}))
        unknown = await client.call_tool("search_code", {"query": "x", "kind": "table"})
        assert "function" in text(unknown)  # the choices are named


async def test_index_status_names_failed_and_skipped_files(
    service: IndexService, workspace_copy: Path
) -> None:
    (workspace_copy / "broken.py").write_text(f"def {UNEMBEDDABLE}():\n    return 1\n")
    (workspace_copy / "blob.py").write_bytes(b"def f():\n    return 1\x00\x00\n")
    async with connected(service, [workspace_copy]) as (client, _):
        service.wait_idle(30)
        result = await client.call_tool("index_status", {})
    assert not result.is_error
    data = result.structured_content
    assert data is not None
    assert data["state"] == "idle" and data["model"] == "fake-model"
    (root,) = data["roots"]
    assert root["root"] == str(workspace_copy) and root["entities"] == data["entities"] > 0
    assert [f["path"] for f in root["failed"]] == ["broken.py"]
    assert f"could not embed function {UNEMBEDDABLE}" in root["failed"][0]["reason"]
    assert {"path": "blob.py", "reason": "binary"} in root["skipped"]
    assert "broken.py" in text(result) and "blob.py" in text(result)


# roots are deprecated in the 2026-07-28 protocol only; clients on the handshake protocols
# (every client today, and the SDK's stdio client) share them this way
@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
async def test_roots_come_from_the_client_and_follow_its_changes(
    service: IndexService, workspace_copy: Path, tmp_path: Path
) -> None:
    billing = tmp_path / "billing"
    billing.mkdir()
    (billing / "invoice.py").write_text("def charge_invoice(total):\n    return total\n")
    offered = [billing]
    async with connected(service, [], client_roots=lambda: list(offered)) as (client, roots):
        assert await wait_for(lambda: roots.folders == [billing.resolve()])
        service.wait_idle(30)
        assert names(await client.call_tool("search_code", {"query": "charge invoice"}))[0] == (
            "charge_invoice"
        )
        offered[:] = [workspace_copy]
        await client.send_roots_list_changed()
        assert await wait_for(lambda: roots.folders == [workspace_copy.resolve()])
        service.wait_idle(30)
        found = names(await client.call_tool("search_code", {"query": "charge invoice"}))
        assert "charge_invoice" not in found
        assert names(await client.call_tool("search_code", {"query": "retry failed upload"}))[
            0
        ] == ("retry_failed_upload")


async def test_no_root_at_all_is_a_clear_error(service: IndexService) -> None:
    async with connected(service, []) as (client, _):
        result = await client.call_tool("search_code", {"query": "anything"})
    assert result.is_error and "--path" in text(result)


async def test_a_file_written_to_disk_is_found_without_any_editor(
    service: IndexService, workspace_copy: Path
) -> None:
    async with connected(service, [workspace_copy], watch=True) as (client, _):
        service.wait_idle(30)
        source = workspace_copy / "billing" / "invoice.py"
        source.parent.mkdir()
        source.write_text("def charge_overdue_invoice(total):\n    return total * 2\n")
        assert await wait_for_hit(client, "charge overdue invoice", "charge_overdue_invoice")
        source.unlink()
        assert await wait_for_hit(client, "charge overdue invoice", None)


async def wait_for(check: Callable[[], bool], deadline_s: float = 20.0) -> bool:
    import anyio

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if check():
            return True
        await anyio.sleep(0.05)
    return check()


async def wait_for_hit(
    client: Client, query: str, name: str | None, deadline_s: float = 30.0
) -> bool:
    """Poll until `name` is the first hit (None: until no hit has that query's name)."""
    import anyio

    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        found = names(await client.call_tool("search_code", {"query": query}))
        if (name is None and not any("overdue" in n for n in found)) or (
            found and found[0] == name
        ):
            return True
        await anyio.sleep(0.1)
    return False


def test_union_detector_sees_unions() -> None:
    assert union_types({"properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}}})
    assert union_types({"type": ["string", "null"]})
    assert union_types({"oneOf": [{}]}) and union_types({"$defs": {"X": {"type": "null"}}})
    assert not union_types({"properties": {"a": {"type": "string", "default": ""}}})
