"""A third-party MCP client: the MCP Inspector's CLI mode lists and calls our tools.

The Inspector (`@modelcontextprotocol/inspector`, a devDependency of the root package.json,
installed by `npm ci`) is the protocol's reference client, written on the TypeScript SDK: it
starts `codesearch mcp` itself over stdio, makes one request, prints the JSON result and
exits (non-zero when the tool answered isError).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
INSPECTOR = REPO / "node_modules" / ".bin" / "mcp-inspector"
FIXTURE = REPO / "tests" / "fixtures" / "workspace"


def codesearch_command() -> str:
    script = Path(sys.executable).parent / "codesearch"
    found = str(script) if script.exists() else shutil.which("codesearch")
    assert found, "the codesearch console script is not installed"
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """An indexed copy of the fixture (each Inspector call starts a fresh server on it)."""
    if not INSPECTOR.exists() or shutil.which("node") is None:
        pytest.skip("the MCP Inspector is not installed: run `npm ci` at the repository root")
    root = tmp_path_factory.mktemp("inspector") / "project"
    shutil.copytree(FIXTURE, root)
    env = {**os.environ, "CODESEARCH_CACHE_DIR": str(tmp_path_factory.mktemp("store"))}
    indexed = subprocess.run(
        [codesearch_command(), "index", str(root)], env=env, capture_output=True, text=True
    )
    assert indexed.returncode == 0, indexed.stderr
    return root, env


def inspect(project: tuple[Path, dict[str, str]], *request: str) -> tuple[int, dict[str, Any], str]:
    root, env = project
    done = subprocess.run(
        [str(INSPECTOR), "--cli", codesearch_command(), "mcp", "--path", str(root), *request],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    start = done.stdout.find("{")
    assert start >= 0, f"no JSON from the Inspector:\n{done.stdout}\n{done.stderr}"
    answer: dict[str, Any] = json.JSONDecoder().raw_decode(done.stdout[start:])[0]
    return done.returncode, answer, done.stderr


def test_the_inspector_lists_the_tools(project: tuple[Path, dict[str, str]]) -> None:
    code, answer, stderr = inspect(project, "--method", "tools/list")
    assert code == 0, stderr
    tools = {tool["name"]: tool for tool in answer["tools"]}
    assert set(tools) == {"search_code", "find_similar", "index_status"}
    assert tools["search_code"]["inputSchema"]["required"] == ["query"]
    assert "outputSchema" in tools["search_code"]


def test_the_inspector_calls_search_code(project: tuple[Path, dict[str, str]]) -> None:
    code, answer, stderr = inspect(
        project,
        "--method", "tools/call", "--tool-name", "search_code",
        "--tool-arg", "query=retry failed uploads", "--tool-arg", "limit=3",
    )  # fmt: skip
    assert code == 0 and not answer["isError"], stderr
    first = answer["structuredContent"]["hits"][0]
    assert (first["name"], first["path"]) == ("retry_failed_upload", "uploader/upload.py")
    assert len(answer["structuredContent"]["hits"]) <= 3
    assert "retry_failed_upload" in answer["content"][0]["text"]


def test_the_inspector_gets_an_error_for_a_path_outside(
    project: tuple[Path, dict[str, str]],
) -> None:
    code, answer, _ = inspect(
        project,
        "--method", "tools/call", "--tool-name", "find_similar",
        "--tool-arg", "path=../../etc/passwd", "--tool-arg", "line=1",
    )  # fmt: skip
    assert code != 0 and answer["isError"], answer
    assert "outside the workspace folders" in answer["content"][0]["text"]


def test_the_inspector_calls_index_status(project: tuple[Path, dict[str, str]]) -> None:
    code, answer, stderr = inspect(project, "--method", "tools/call", "--tool-name", "index_status")
    assert code == 0 and not answer["isError"], stderr
    status = answer["structuredContent"]
    assert status["entities"] > 0 and status["model"].startswith("all-MiniLM-L6-v2")
