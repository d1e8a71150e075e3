"""Load: 500 saves across 50 files in a few seconds while a search runs every 100 ms.

The real server and model. No request may fail, the server may never report an error, the
final index must equal a from-scratch index of the final files (same entities, same vectors
within 1e-6), and the server's resident memory must come back near where it was before.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.reliability.rawlsp import RawServer
from tests.reliability.support import Snapshot, child_env, snapshot

from codesearch.config import Settings
from codesearch.locations import workspace_store_dir
from codesearch.workspace import Workspace

pytestmark = pytest.mark.slow

FILES = 50
ROUNDS = 10  # 10 saves of each file: 500 saves
SAVE_WINDOW_S = 4.0
SEARCH_EVERY_S = 0.1
RSS_SLACK_KB = 64 * 1024  # allocator arenas and torch caches may keep some pages
QUERIES = ("parse a record", "compute the total", "handle an event", "Handler", "split fields")


def _text(number: int, version: int) -> str:
    """Four entities; each new version changes one function, the rest stay cached."""
    return (
        f"def parse_record_{number}(line):\n"
        f"    fields = line.split(',')\n"
        f"    return [field.strip() for field in fields if field]\n\n\n"
        f"def compute_total_{number}(items):\n"
        f"    total = 0\n"
        f"    for item in items:\n"
        f"        total += item * {version + 1}  # weight of round {version}\n"
        f"    return total\n\n\n"
        f"class Handler{number}:\n"
        f'    """Handles events of kind {number % 7}."""\n\n'
        f"    def handle(self, event):\n"
        f"        return event.get('kind', 'unknown-{number}')\n"
    )


class Searcher(threading.Thread):
    """A search every 100 ms; every reply must be a result; samples the server's RSS."""

    def __init__(self, server: RawServer) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.stop = threading.Event()
        self.replies: list[dict[str, Any]] = []
        self.latencies: list[float] = []
        self.rss: list[int] = []

    def run(self) -> None:
        number = 0
        while not self.stop.is_set():
            started = time.monotonic()
            query = QUERIES[number % len(QUERIES)]
            if number % 3 == 2:
                reply = self.server.request("workspace/symbol", {"query": query}, timeout=60)
            else:
                reply = self.server.command("codesearch.search", {"query": query, "limit": 10})
            self.latencies.append(time.monotonic() - started)
            self.replies.append(reply)
            self.rss.append(self.server.rss_kb())
            number += 1
            self.stop.wait(max(0.0, SEARCH_EVERY_S - (time.monotonic() - started)))


def _settled(server: RawServer) -> dict[str, Any]:
    """Idle with nothing pending, twice in a row half a second apart."""
    previous: dict[str, Any] | None = None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status = server.command("codesearch.status")["result"]
        if status["state"] == "idle" and status["pending"] == 0:
            if previous is not None and previous["entities"] == status["entities"]:
                return status
            previous = status
        else:
            previous = None
        time.sleep(0.5)
    raise AssertionError("the server never settled")


# The saves embed files one at a time, the reference all at once. The int8 backend (the
# default) quantises activations with one scale per batch, so a text's vector moves with its
# batchmates: 200 functions of requests alone vs in batches of 32 gave cosine 0.993 mean,
# 0.984 min. torch fp32 agrees to ~1e-7.
SAME_TEXT_MIN_COSINE = 0.97


def _assert_same_entities(actual: Snapshot, reference: Snapshot) -> None:
    """Same files and entities; every entity's vector the same up to batch effects (old
    versions may stay cached)."""
    assert sorted(actual.manifests) == sorted(reference.manifests)
    for path, manifest in reference.manifests.items():
        mine = {k: v for k, v in actual.manifests[path].items() if k != "mtime_ns"}
        theirs = {k: v for k, v in manifest.items() if k != "mtime_ns"}
        assert mine == theirs, path
    cosines = [
        float(np.dot(actual.vectors[key], reference.vectors[key]))
        for keys in reference.entity_keys.values()
        for key in keys
    ]
    assert min(cosines) >= SAME_TEXT_MIN_COSINE, min(cosines)


def test_500_saves_while_searching(
    tmp_path: Path, shipped_model: Any, figures: dict[str, Any]
) -> None:
    model = shipped_model  # the server under test runs the default backend
    root = tmp_path / "ws"
    root.mkdir()
    paths = [root / f"pkg{n % 5}" / f"module_{n:02d}.py" for n in range(FILES)]
    for number, path in enumerate(paths):
        path.parent.mkdir(exist_ok=True)
        path.write_text(_text(number, 0))
    base = tmp_path / "cache"
    server = RawServer(child_env(CODESEARCH_CACHE_DIR=str(base)))
    searcher = Searcher(server)
    try:
        server.initialize([root])
        first = server.wait_idle()
        assert first["entities"] == FILES * 4
        for query in QUERIES * 4:  # warm the query path before the baseline
            assert "result" in server.command("codesearch.search", {"query": query})
        baseline = server.rss_kb()

        searcher.start()
        started = time.monotonic()
        saves = 0
        for version in range(1, ROUNDS + 1):
            for number, path in enumerate(paths):
                path.write_text(_text(number, version))
                server.notify("textDocument/didSave", {"textDocument": {"uri": path.as_uri()}})
                saves += 1
                due = started + SAVE_WINDOW_S * saves / (FILES * ROUNDS)
                time.sleep(max(0.0, due - time.monotonic()))
        save_seconds = time.monotonic() - started
        time.sleep(0.6)  # past the debounce
        final = _settled(server)
        settled_seconds = time.monotonic() - started
        time.sleep(2.0)  # searches go on against the settled index
        searcher.stop.set()
        searcher.join(60)
        after = server.rss_kb()
        assert all(s["state"] != "error" and s["lastError"] is None for s in server.statuses)
        assert server.shutdown() == 0
    finally:
        searcher.stop.set()
        server.kill()

    failed = [r for r in searcher.replies if "result" not in r]
    assert not failed, failed[:3]
    assert len(searcher.replies) >= (settled_seconds / SEARCH_EVERY_S) * 0.3
    assert saves == FILES * ROUNDS and save_seconds < SAVE_WINDOW_S + 2
    assert final["entities"] == FILES * 4

    reference_store = tmp_path / "reference"
    with Workspace(root, Settings(), encoder=model, store_dir=reference_store) as ws:
        assert ws.index().entities == FILES * 4
    _assert_same_entities(
        snapshot(workspace_store_dir(root, base), model.model_id),
        snapshot(reference_store, model.model_id),
    )
    peak = max(searcher.rss)
    assert after <= baseline + RSS_SLACK_KB, (baseline, peak, after)
    figures.update(
        saves=saves,
        save_seconds=round(save_seconds, 2),
        searches=len(searcher.replies),
        failed_requests=0,
        search_p50_ms=round(1000 * float(np.median(searcher.latencies)), 1),
        search_max_ms=round(1000 * max(searcher.latencies), 1),
        seconds_to_settle=round(settled_seconds, 2),
        embedded_total=final["embeddedTotal"],
        rss_baseline_mb=round(baseline / 1024, 1),
        rss_peak_mb=round(peak / 1024, 1),
        rss_after_mb=round(after / 1024, 1),
        entities_lost=0,
    )
    shutil.rmtree(reference_store, ignore_errors=True)
