"""The harness's only contact with the engine: index a folder and answer queries, and
(for the miss analysis) list what the parser extracts from one file.

Everything else in benchmarks/semble is engine-agnostic, so when the engine's API changes
only this module needs a look. `search_repository` uses the public face only:
Workspace(root, Settings(...)).open(), .index(), .search(query, limit=...);
`extracted_entities` uses codesearch.parsing's extract_entities and language_for_path.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.semble.metrics import CUTOFF, distinct_files
from codesearch.config import Settings
from codesearch.parsing import extract_entities, language_for_path
from codesearch.workspace import IndexProgress, Workspace

FIRST_LIMIT = 100  # entity hits asked for first; widened until CUTOFF distinct files come out
PROGRESS_EVERY_S = 15.0


@dataclass(frozen=True)
class EntityHit:
    """A hit as the harness keeps it; `path` is relative to the indexed folder."""

    path: str
    name: str
    kind: str
    start_line: int
    end_line: int


@dataclass
class RepositoryRun:
    entities: int
    files: int
    embedded: int  # entities sent to the model in this run (0 when the cache had them all)
    failed: int
    index_seconds: float
    query_ms_p50: float
    hits: list[list[EntityHit]] = field(default_factory=list)  # per query, best first


def _progress_printer(label: str) -> Callable[[IndexProgress], None]:
    last = [time.monotonic()]

    def report(progress: IndexProgress) -> None:
        now = time.monotonic()
        if progress.phase != "done" and now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            print(
                f"  {label}: {progress.phase} {progress.done}/{progress.total} entities, "
                f"{progress.files_done}/{progress.files_total} files",
                file=sys.stderr,
                flush=True,
            )

    return report


def search_repository(
    root: Path,
    queries: Sequence[str],
    *,
    cache_dir: Path,
    backend: str,
    encoder: Any = None,
    label: str = "",
) -> RepositoryRun:
    """Index `root` (vectors kept in `cache_dir`, so a rerun embeds only what changed), then
    run every query, asking for enough hits that CUTOFF distinct files come out."""
    settings = Settings(backend=backend, store_dir=str(cache_dir))
    workspace = (
        Workspace(root, settings) if encoder is None else Workspace(root, settings, encoder=encoder)
    )
    with workspace.open():
        summary = workspace.index(progress=_progress_printer(label or root.name))
        total = workspace.counts().entities
        run = RepositoryRun(
            entities=total,
            files=workspace.counts().files,
            embedded=summary.embedded,
            failed=summary.failed,
            index_seconds=summary.seconds,
            query_ms_p50=0.0,
        )
        timings: list[float] = []
        for query in queries:
            limit = FIRST_LIMIT
            started = time.perf_counter()
            while True:
                found = workspace.search(query, limit=limit)
                files = distinct_files(hit.path for hit in found)
                if len(files) >= CUTOFF or len(found) < limit or limit >= total:
                    break
                limit *= 4
            timings.append((time.perf_counter() - started) * 1000)
            run.hits.append(
                [EntityHit(h.path, h.name, h.kind, h.start_line, h.end_line) for h in found]
            )
        run.query_ms_p50 = statistics.median(timings) if timings else 0.0
    del workspace
    gc.collect()  # the next repository loads its own model: free this one's first
    return run


def extracted_entities(path: Path, rel_path: str) -> list[tuple[str, str]] | None:
    """(kind, name) of every entity the engine extracts from one file, None when the
    engine does not parse its language (for the miss analysis: was the target indexable?)."""
    language = language_for_path(rel_path)
    if language is None:
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    return [(e.kind, e.name) for e in extract_entities(text, language, rel_path)]
