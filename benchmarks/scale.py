"""A 100,000-entity workspace: search latency, warm restart, memory and store size.

    python -m benchmarks.scale [--entities 100000] [--project networkx]

The workspace is a real project copied side by side until it holds the requested number
of entities (copies share content keys, so only one copy's worth is embedded: the point
is the size of the index, not the embedding time, which benchmarks.index_speed measures).
Search latency is measured in-process over 200 natural-language and identifier queries,
with and without the query embedding; warm restart and RSS are measured on a real
`codesearch serve` process started over the built store.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import RESULTS, percentile, rss_mib, start_server, write_results
from benchmarks.corpora import PROJECTS, fetch
from codesearch.config import Settings
from codesearch.embedding.registry import load_encoder
from codesearch.parsing import extract_entities, language_for_path
from codesearch.search import rank
from codesearch.workspace import Workspace

QUERIES = [
    "shortest path between two nodes",
    "check whether the graph is connected",
    "read a graph from a file",
    "compute the degree of every node",
    "random graph generator",
    "minimum spanning tree",
    "breadth first search",
    "convert a graph to a numpy matrix",
    "remove self loops",
    "topological sort of a directed graph",
    "max flow",
    "node centrality",
    "isomorphism check",
    "community detection",
    "add_edge",
    "to_numpy_array",
    "is_directed",
    "pagerank",
    "DiGraph",
    "draw the graph with matplotlib",
]


def entity_count(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        language = language_for_path(path)
        if language and path.is_file():
            total += len(extract_entities(path.read_text(errors="replace"), language, path.name))
    return total


def build_workspace(project: str, target: int, into: Path) -> tuple[Path, int]:
    source = fetch(project)
    per_copy = entity_count(source)
    copies = max(1, -(-target // per_copy))
    root = into / "workspace"
    for number in range(copies):
        shutil.copytree(source, root / f"copy{number:03d}" / project)
    return root, per_copy * copies


async def serve_warm(root: Path, store: Path) -> dict[str, Any]:
    """Start a real server over the warm store: time to a searchable index, and its RSS."""
    started = time.monotonic()
    server = await start_server(root, store)
    idle = await server.idle_after(0, 600)
    ready_s = time.monotonic() - started
    first_search_started = time.monotonic()
    await server.search("shortest path", limit=10)
    first_search_s = time.monotonic() - first_search_started
    rss = rss_mib(server.pid)
    await server.close()
    return {
        "warm_restart_ready_s": round(ready_s, 2),
        "warm_restart_entities": idle["entities"],
        "warm_restart_embedded": idle.get("embeddedTotal", 0),
        "first_search_after_restart_s": round(first_search_s, 2),
        "server_rss_mib": round(rss, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--project", default="networkx", choices=sorted(PROJECTS))
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--keep", type=Path, help="build (or reuse) the workspace here")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="codesearch-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store"
    if (work / "workspace").exists():
        root = work / "workspace"
        expected = -1
    else:
        root, expected = build_workspace(args.project, args.entities, work)
    settings = Settings(store_dir=str(store))
    model = load_encoder(backend=settings.backend)  # the shipped default, as the server runs it
    started = time.perf_counter()
    with Workspace(root, settings, encoder=model).open() as ws:
        summary = ws.index()
    build_s = time.perf_counter() - started

    started = time.perf_counter()
    ws = Workspace(root, settings, encoder=model).open()
    open_s = time.perf_counter() - started
    index = ws.index_view
    assert index is not None
    queries = QUERIES * 10
    vectors = model.encode(queries, batch_size=32)
    search_only: list[float] = []
    with_embedding: list[float] = []
    embedding_only: list[float] = []
    for query in queries:
        t0 = time.perf_counter()
        model.encode([query], batch_size=1)
        embedding_only.append((time.perf_counter() - t0) * 1000)
    for query, vector in zip(queries, vectors, strict=True):
        t0 = time.perf_counter()
        rank(index, query, vector, limit=20)
        search_only.append((time.perf_counter() - t0) * 1000)
    for query in queries:
        t0 = time.perf_counter()
        ws.search(query, limit=20)
        with_embedding.append((time.perf_counter() - t0) * 1000)
    store_bytes = ws.store.size_bytes() if ws.store else 0
    entities = ws.counts().entities
    index_mib = index.memory_bytes() / 2**20
    ws.close()
    served = asyncio.run(serve_warm(root, store))

    results: dict[str, Any] = {
        "project": f"{args.project}=={PROJECTS[args.project].version}, copied side by side",
        "entities": entities,
        "entities_expected": expected,
        "files": summary.files,
        "build_seconds": round(build_s, 1),
        "embedded_while_building": summary.embedded,
        "search_ms_p50_excluding_query_embedding": round(statistics.median(search_only), 2),
        "search_ms_p95_excluding_query_embedding": round(percentile(search_only, 0.95), 2),
        "search_ms_p50_including_query_embedding": round(statistics.median(with_embedding), 2),
        "search_ms_p95_including_query_embedding": round(percentile(with_embedding, 0.95), 2),
        "query_embedding_ms_p50": round(statistics.median(embedding_only), 2),
        "query_embedding_ms_p95": round(percentile(embedding_only, 0.95), 2),
        "queries": len(queries),
        "backend": settings.backend,
        "warm_open_in_process_s": round(open_s, 2),
        "index_memory_mib": round(index_mib, 1),
        "store_bytes": store_bytes,
        "store_bytes_per_entity": round(store_bytes / max(entities, 1), 1),
        "numpy_threads_note": f"{os.cpu_count()} cores, numpy {np.__version__}",
        **served,
    }
    write_results(results, args.out)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
