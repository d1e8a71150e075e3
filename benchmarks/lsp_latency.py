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

# a method whose body starts with `return`: an edit there lands inside the embedded window
# (an edit past the window changes the keywords but, rightly, embeds nothing)
_SHORT_METHOD = re.compile(r"\n    def (\w+)\(self[^)\n]*\)[^:\n]*:\n(?=        return )")


def edit_targets(root: Path, count: int) -> list[tuple[Path, str]]:
    """(file, method name) of short methods outside tests/, at most two per file."""
    targets: list[tuple[Path, str]] = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] == "tests" or "tests" in path.parts:
            continue
        names = dict.fromkeys(m.group(1) for m in _SHORT_METHOD.finditer(path.read_text()))
        targets.extend((path, name) for name in list(names)[:2])
        if len(targets) >= count:
            break
    return targets[:count]


def insert_marker(path: Path, method: str, marker: str) -> None:
    """Make `marker = None` the first statement of the method (found afresh each time)."""
    text = path.read_text()
    for match in _SHORT_METHOD.finditer(text):
        if match.group(1) == method:
            offset = match.end()
            path.write_text(text[:offset] + f"        {marker} = None\n" + text[offset:])
            return
    raise LookupError(f"{method} not found in {path}")


def marker_word(number: int) -> str:
    """A made-up identifier no code contains and no other marker shares a part with."""
    letters = "bcdfghjklmnpqrstvwxz"
    word = ""
    value = number + 20**3
    while value:
        value, digit = divmod(value, len(letters))
        word += letters[digit]
    return "qz" + word


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
    ranks: list[int] = []
    for number, (path, method) in enumerate(edit_targets(root, args.saves)):
        marker = marker_word(number)
        insert_marker(path, method, marker)
        before = int(server.statuses[-1].get("embeddedTotal", 0))
        mark = len(server.statuses)
        t0 = time.monotonic()
        server.client.text_document_did_save(
            types.DidSaveTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=path.as_uri())
            )
        )
        relative = str(path.relative_to(root))
        deadline = t0 + 120
        while True:
            # searchable = the edit is embedded and a search for the new identifier finds
            # the edited method by it (the identifier among the hit's matched terms)
            if int(server.statuses[-1].get("embeddedTotal", 0)) > before:
                hits = await server.search(marker, limit=10)
                found = [
                    i
                    for i, hit in enumerate(hits, 1)
                    if hit["path"] == relative
                    and hit["name"].endswith(method)
                    and marker in hit["matched"]
                ]
                if found:
                    ranks.append(found[0])
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"save {number} ({relative}, {method}) never became searchable")
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
        "rank_of_edited_method_for_its_new_identifier": ranks,
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
