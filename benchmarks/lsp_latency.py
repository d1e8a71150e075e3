"""Save-to-searchable latency through a real LSP client, and the server's memory.

    python -m benchmarks.lsp_latency [--project networkx] [--saves 20]

Starts `codesearch serve`, opens a copy of a real project (>= 2,000 entities), waits for
the cold index, then edits one function at a time: each edit adds a unique identifier,
the client sends didSave and the clock runs until a `codesearch.search` for that
identifier returns the edited function first. Reports median/p95 latency (the 0.3 s save
debounce included), entities embedded per save, and server RSS after indexing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from benchmarks.corpora import PROJECTS, fetch

RESULTS = Path(__file__).resolve().parent / "results"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def plain(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def edit_targets(root: Path, count: int) -> list[tuple[Path, int]]:
    """(file, offset) of `return` statements in different functions to edit."""
    targets: list[tuple[Path, int]] = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text()
        match = re.search(r"\n        return ", text)
        if match:
            targets.append((path, match.start()))
        if len(targets) == count:
            break
    return targets


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="codesearch-lsp-bench-"))
    root = work / args.project
    shutil.copytree(fetch(args.project), root)
    (root / ".codesearchignore").write_text("tests/\n")
    stderr = open(work / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
    client = LanguageClient("codesearch-bench", "1")
    statuses: list[dict[str, Any]] = []

    @client.feature("codesearch/status")
    def on_status(params: Any) -> None:
        statuses.append(plain(params))

    env_cache = str(work / "store")
    await client.start_io(
        sys.executable,
        "-m",
        "codesearch",
        "serve",
        env={**__import__("os").environ, "CODESEARCH_CACHE_DIR": env_cache},
        stderr=stderr,
    )
    server_pid = client._server.pid  # type: ignore[union-attr]
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
        )
    )
    client.initialized(types.InitializedParams())

    async def idle_after(mark: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for status in statuses[mark:]:
                if status["state"] == "idle" and status["pending"] == 0:
                    return status
            await asyncio.sleep(0.01)
        raise TimeoutError("server did not become idle")

    started = time.monotonic()
    cold = await idle_after(0, 3600)
    cold_s = time.monotonic() - started
    rss_after_index = rss_mib(server_pid)

    latencies: list[float] = []
    embedded_per_save: list[int] = []
    for number, (path, offset) in enumerate(edit_targets(root, args.saves)):
        marker = f"latency_marker_{number}_{int(time.time())}"
        text = path.read_text()
        path.write_text(text[:offset] + f"\n        {marker} = None" + text[offset:])
        before = statuses[-1].get("embeddedTotal", 0)
        mark = len(statuses)
        t0 = time.monotonic()
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri())
            )
        )
        while True:
            hits = plain(
                await client.workspace_execute_command_async(
                    types.ExecuteCommandParams(
                        command="codesearch.search", arguments=[{"query": marker, "limit": 1}]
                    )
                )
            )
            # searchable = the edited function comes first, matched on the new identifier
            if hits and marker.lower() in hits[0]["matched"]:
                break
            await asyncio.sleep(0.02)
        latencies.append(time.monotonic() - t0)
        status = await idle_after(mark, 120)
        embedded_per_save.append(int(status.get("embeddedTotal", 0)) - int(before))

    rss_final = rss_mib(server_pid)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    stderr.close()
    shutil.rmtree(work, ignore_errors=True)
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "project": f"{args.project}=={PROJECTS[args.project].version} (tests/ excluded)",
        "entities": cold["entities"],
        "files": cold["files"],
        "cold_index_seconds": round(cold_s, 1),
        "saves": len(latencies),
        "save_to_searchable_median_s": round(statistics.median(latencies), 3),
        "save_to_searchable_p95_s": round(p95, 3),
        "save_to_searchable_all_s": [round(x, 3) for x in latencies],
        "debounce_s": 0.3,
        "entities_embedded_per_save": embedded_per_save,
        "server_rss_mib_after_index": round(rss_after_index, 1),
        "server_rss_mib_after_saves": round(rss_final, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="networkx", choices=sorted(PROJECTS))
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS / "lsp_latency.json")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key:<32} {value}")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
