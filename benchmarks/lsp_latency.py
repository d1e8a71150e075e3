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
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from benchmarks.common import RESULTS, percentile, rss_mib, start_server, write_results
from benchmarks.corpora import PROJECTS, fetch


def edit_targets(root: Path, count: int) -> list[tuple[Path, int]]:
    """(file, offset) of `return` statements in different methods to edit."""
    targets: list[tuple[Path, int]] = []
    for path in sorted(root.rglob("*.py")):
        match = re.search(r"\n        return ", path.read_text())
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
    started = time.monotonic()
    server = await start_server(root, work / "store")
    cold = await server.idle_after(0, 3600)
    cold_s = time.monotonic() - started
    rss_after_index = rss_mib(server.pid)

    latencies: list[float] = []
    embedded_per_save: list[int] = []
    for number, (path, offset) in enumerate(edit_targets(root, args.saves)):
        marker = f"latency_marker_{number}_{int(time.time())}"
        text = path.read_text()
        path.write_text(text[:offset] + f"\n        {marker} = None" + text[offset:])
        before = int(server.statuses[-1].get("embeddedTotal", 0))
        mark = len(server.statuses)
        t0 = time.monotonic()
        server.client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri())
            )
        )
        relative = str(path.relative_to(root))
        while True:
            # searchable = the edit was embedded and a search for its new identifier
            # returns the edited file first
            embedded_now = int(server.statuses[-1].get("embeddedTotal", 0)) > before
            if embedded_now:
                hits = await server.search(marker, limit=1)
                if hits and hits[0]["path"] == relative:
                    break
            await asyncio.sleep(0.02)
        latencies.append(time.monotonic() - t0)
        status = await server.idle_after(mark, 120)
        embedded_per_save.append(int(status.get("embeddedTotal", 0)) - before)

    rss_final = rss_mib(server.pid)
    await server.close()
    shutil.rmtree(work, ignore_errors=True)
    return {
        "project": f"{args.project}=={PROJECTS[args.project].version} (tests/ excluded)",
        "entities": cold["entities"],
        "files": cold["files"],
        "cold_index_seconds": round(cold_s, 1),
        "saves": len(latencies),
        "save_to_searchable_median_s": round(statistics.median(latencies), 3),
        "save_to_searchable_p95_s": round(percentile(latencies, 0.95), 3),
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
    write_results(asyncio.run(run(args)), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
