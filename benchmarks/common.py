"""Plumbing shared by the benchmarks: a real server behind a real client, and results."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from codesearch.locations import CACHE_DIR_ENV, MODELS_DIR_ENV, models_dir

RESULTS = Path(__file__).resolve().parent / "results"


def plain(value: Any) -> Any:
    """pygls hands custom payloads over as namedtuples; benchmarks read plain data."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def write_results(results: dict[str, Any], out: Path) -> None:
    """Print a results table and write it as JSON (the file is what READMEs quote)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    print(f"\nwritten to {out}")


@dataclass
class ServerSession:
    """`codesearch serve` over one folder, driven by pygls's client, with its statuses."""

    client: LanguageClient
    pid: int
    statuses: list[dict[str, Any]] = field(default_factory=list)

    async def idle_after(self, mark: int, timeout: float) -> dict[str, Any]:
        """The first idle status with nothing pending, at or after status number `mark`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for status in self.statuses[mark:]:
                if status["state"] == "idle" and status["pending"] == 0:
                    return status
            await asyncio.sleep(0.01)
        raise TimeoutError("the server did not become idle")

    async def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        hits = await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="codesearch.search", arguments=[{"query": query, "limit": limit}]
            )
        )
        return plain(hits)  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()  # type: ignore[no-untyped-call]


async def start_server(root: Path, store: Path) -> ServerSession:
    """Start the server on root with its store under `store`, and initialise it."""
    client = LanguageClient("codesearch-benchmark", "1")
    session = ServerSession(client, 0)

    @client.feature("codesearch/status")  # type: ignore[untyped-decorator]
    def on_status(params: Any) -> None:
        session.statuses.append(plain(params))

    await client.start_io(
        sys.executable,
        "-m",
        "codesearch",
        "serve",
        "--log-level",
        "warning",  # pygls pipes stderr and never reads it: keep the server quiet
        # the store is the benchmark's own; the int8 export is the one this process uses
        env={
            **os.environ,
            CACHE_DIR_ENV: str(store),
            MODELS_DIR_ENV: str(models_dir()),
        },
    )
    session.pid = client._server.pid  # type: ignore[union-attr]
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        )
    )
    client.initialized(types.InitializedParams())
    return session
