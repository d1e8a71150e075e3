"""`codesearch mcp` as a subprocess, driven by the MCP SDK's own stdio client, on the real
model: what an agent (Claude Code, Cursor, any MCP client) sees."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import StdioServerParameters
from mcp.client.session import ClientSession
from mcp.client.stdio import stdio_client
from tests.agents.schemas import union_types

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace"
FIRST_ANSWER_S = 300  # a cold machine exports the int8 model first
FRESH_DEADLINE_S = 60  # generous: the figure that matters is printed, not asserted


def codesearch_command() -> str:
    script = Path(sys.executable).parent / "codesearch"
    found = str(script) if script.exists() else shutil.which("codesearch")
    assert found, "the codesearch console script is not installed"
    return found


@asynccontextmanager
async def mcp_server(
    tmp_path: Path, *args: str, roots: list[Path] | None = None
) -> AsyncIterator[ClientSession]:
    """`codesearch mcp ARGS` with the SDK's client; its stderr goes to a file shown on failure."""
    params = StdioServerParameters(
        command=codesearch_command(), args=["mcp", *args], env=dict(os.environ)
    )

    async def list_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(
            roots=[types.Root(uri=folder.as_uri()) for folder in roots or []]
        )

    errlog = tmp_path / "server-stderr.log"
    with errlog.open("w") as err:
        try:
            async with (
                stdio_client(params, errlog=err) as (read, write),
                ClientSession(
                    read, write, list_roots_callback=list_roots if roots is not None else None
                ) as session,
            ):
                await session.initialize()
                yield session
        except BaseException:
            print(errlog.read_text(), file=sys.stderr)
            raise


def text(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


async def hits(session: ClientSession, query: str, **extra: Any) -> list[dict[str, Any]]:
    result = await session.call_tool("search_code", {"query": query, **extra})
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    found: list[dict[str, Any]] = result.structured_content["hits"]
    return found


async def until_indexed(session: ClientSession, deadline_s: float = FIRST_ANSWER_S) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        status = (await session.call_tool("index_status", {})).structured_content or {}
        if status.get("state") == "idle" and status.get("entities", 0) > 0:
            return
        await anyio.sleep(0.2)
    raise AssertionError(f"not indexed within {deadline_s} s: {status}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "my project"  # a space in the path on purpose
    shutil.copytree(FIXTURE, target)
    return target


async def test_tools_search_and_a_file_written_to_disk(tmp_path: Path, project: Path) -> None:
    async with mcp_server(tmp_path, "--path", str(project)) as session:
        tools = (await session.list_tools()).tools
        assert {t.name for t in tools} == {"search_code", "find_similar", "index_status"}
        for tool in tools:
            assert union_types(tool.input_schema) == [], tool.name
            assert tool.output_schema and union_types(tool.output_schema) == [], tool.name

        await until_indexed(session)
        first = (await hits(session, "retry failed uploads"))[0]
        assert (first["name"], first["path"]) == ("retry_failed_upload", "uploader/upload.py")
        assert not first["weak"] and first["snippet"].startswith("def retry_failed_upload(")
        assert first["matched"] == ["retry", "failed", "uploads"]
        absent = await session.call_tool("search_code", {"query": "render a 3d scene with shadows"})
        assert absent.structured_content and absent.structured_content["no_strong_match"]
        assert "No strong match" in text(absent)

        # an agent writes a file with its own tools: no editor, no other client tells us
        source = project / "billing" / "invoice.py"
        source.parent.mkdir()
        written = time.monotonic()
        source.write_text(
            "def apply_late_fee(invoice, days_overdue):\n"
            '    """Add a late payment fee for each day an invoice is overdue."""\n'
            "    return invoice.total * (1 + 0.01 * days_overdue)\n"
        )
        found_after = None
        while time.monotonic() - written < FRESH_DEADLINE_S:
            top = await hits(session, "late payment fee for an overdue invoice", limit=1)
            if top and top[0]["name"] == "apply_late_fee":
                found_after = time.monotonic() - written
                break
            await anyio.sleep(0.05)
        assert found_after is not None, "a file written to disk never became searchable"
        print(f"\nwritten to searchable: {found_after:.2f} s")

        similar = await session.call_tool(
            "find_similar", {"path": "billing/invoice.py", "line": 3, "limit": 3}
        )
        assert not similar.is_error and "apply_late_fee" in text(similar)


async def test_bad_paths_and_arguments_are_errors_and_the_server_keeps_serving(
    tmp_path: Path, project: Path
) -> None:
    (tmp_path / "secret.py").write_text("def leak():\n    return 'secret'\n")
    async with mcp_server(tmp_path, "--path", str(project)) as session:
        await until_indexed(session)
        for tool, arguments in (
            ("find_similar", {"path": "../secret.py", "line": 1}),
            ("find_similar", {"path": str(tmp_path / "secret.py"), "line": 1}),
            ("find_similar", {"path": "/etc/passwd", "line": 1}),
            ("search_code", {"query": "x", "limit": "ten"}),
            ("search_code", {"limit": 3}),
            ("search_code", {"query": "x", "kind": "table"}),
        ):
            result = await session.call_tool(tool, arguments)
            assert result.is_error, (tool, arguments)
            assert (await hits(session, "retry failed uploads"))[0]["name"] == (
                "retry_failed_upload"
            )


async def test_roots_given_by_the_client(tmp_path: Path, project: Path) -> None:
    async with mcp_server(tmp_path, roots=[project]) as session:
        await until_indexed(session)
        status = (await session.call_tool("index_status", {})).structured_content
        assert status and [r["root"] for r in status["roots"]] == [str(project.resolve())]
        assert (await hits(session, "matrix product"))[0]["name"] == "Matrix.multiply"
