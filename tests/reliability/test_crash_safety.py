"""kill -9 the indexer (the CLI and the language server) at random points of a cold index.

Each trial starts a cold index of a small real corpus (~110 entities, batch size 4: ~28
commit points), picks a random point of its progress (0 to all vectors stored), waits
until the store holds that many vectors, waits a random part of one batch more, and sends
SIGKILL. Kill points so land before the first commit, between and inside batches, and
after the last one (while file records are written). Then:

* the store opens without a recovery (a kill never damages it) and everything in it is
  right: every stored vector equals the clean index's vector for its key, and every file
  record equals the clean index's and names only stored vectors;
* a restart completes the index, embeds exactly the entities whose vectors were not stored
  yet and finds all the others cached (nothing already stored is embedded again);
* the result equals a clean from-scratch index: same files, entities and vectors.

Most restarts run in this process with the already-loaded model (the Workspace code that
the CLI and the server drive); every fourth restarts the real CLI or server instead. Two
trials run at a time (imports are single-threaded; the machine has two cores).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.conftest import BATCH_SIZE, Reference
from tests.reliability.rawlsp import RawServer
from tests.reliability.support import (
    MODEL_LOADED,
    Snapshot,
    StderrWatcher,
    assert_same_index,
    assert_subset_of,
    child_env,
    cli_json,
    expected_work,
    snapshot,
    start_cli,
)

from codesearch.config import Settings
from codesearch.locations import workspace_store_dir
from codesearch.store import Store
from codesearch.workspace import Workspace

pytestmark = pytest.mark.slow

CLI_KILLS = int(os.environ.get("CODESEARCH_CRASH_KILLS_CLI", "12"))
SERVER_KILLS = int(os.environ.get("CODESEARCH_CRASH_KILLS_SERVER", "8"))
REAL_RESTART_EVERY = int(os.environ.get("CODESEARCH_CRASH_REAL_EVERY", "4"))
SEED = int(os.environ.get("CODESEARCH_CRASH_SEED", "20261124"))
PARALLEL = 2  # two trials at a time, one torch thread each: both cores busy, none spinning
POLL_S = 0.01
VICTIM_THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
ATTEMPTS = 4  # a run that finishes before its kill point is retried with a new point

_model_lock = threading.Lock()  # in-process restarts share one model


@dataclass
class Trial:
    number: int
    killed_at_vectors: int  # vectors in the store when the kill was sent
    stored: float  # fraction of the clean index's vectors that survived the kill
    finished_first: int  # runs that ended before their kill point
    real_restart: bool


class VectorCounter:
    """Vectors committed so far, read like any other reader of the SQLite file would."""

    def __init__(self, store: Path) -> None:
        self.db = store / "cache.db"
        self._connection: sqlite3.Connection | None = None

    def __call__(self) -> int:
        if self._connection is None:
            if not self.db.exists():
                return 0
            try:
                self._connection = sqlite3.connect(
                    f"{self.db.as_uri()}?mode=ro", uri=True, timeout=5
                )
            except sqlite3.Error:
                return 0
        try:
            row = self._connection.execute(
                "SELECT count(*) FROM Cache WHERE key LIKE 'v:%'"
            ).fetchone()
        except sqlite3.Error:
            return 0  # tables not created yet
        return int(row[0])

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def kill_at_progress(
    pid: int,
    alive: Callable[[], bool],
    store: Path,
    target: int,
    jitter: float,
    timeout: float = 300,
) -> int | None:
    """SIGKILL once `target` vectors are stored plus `jitter` seconds; None if it ended first."""
    count = VectorCounter(store)
    try:
        deadline = time.monotonic() + timeout
        while count() < target:
            if not alive():
                return None
            if time.monotonic() > deadline:
                raise AssertionError(f"no progress to {target} vectors in {timeout}s")
            time.sleep(POLL_S)
        end = time.monotonic() + jitter
        while time.monotonic() < end:
            if not alive():
                return None
            time.sleep(0.002)
        if not alive():
            return None
        os.kill(pid, signal.SIGKILL)
        return count()
    finally:
        count.close()


def _restart_in_process(root: Path, base: Path, model: Any) -> dict[str, Any]:
    settings = Settings(batch_size=BATCH_SIZE, store_dir=str(base))
    with _model_lock, Workspace(root, settings, encoder=model) as ws:
        assert ws.store is not None and ws.store.recovered is None
        return ws.index().to_json()


def _check_after_kill(store: Path, reference: Reference) -> Snapshot:
    before = snapshot(store, reference.model_id)  # fails if opening needed a recovery
    assert_subset_of(before, reference.snapshot)
    return before


def _check_restart(
    before: Snapshot, embedded: int, cached: int, store: Path, reference: Reference
) -> None:
    expect_embed, expect_cached = expected_work(before, reference.snapshot)
    assert embedded == expect_embed, "something already stored was embedded again"
    assert cached == expect_cached
    assert_same_index(snapshot(store, reference.model_id), reference.snapshot)


def _pick(rng: random.Random, reference: Reference) -> tuple[int, float]:
    """A kill point: a number of stored vectors, then a part of one batch's time."""
    total = len(reference.snapshot.vectors)
    batch_seconds = reference.seconds * BATCH_SIZE / max(1, reference.entities)
    return rng.randint(0, total), rng.uniform(0.0, 2.0 * batch_seconds)


def _run_lane(
    kills: int, trial: Callable[[int], Trial], figures: dict[str, Any], reference: Reference
) -> None:
    with ThreadPoolExecutor(PARALLEL) as pool:
        trials = list(pool.map(trial, range(1, kills + 1)))
    stored = [t.stored for t in trials]
    figures.update(
        kills=len(trials),
        runs_that_finished_before_their_kill_point=sum(t.finished_first for t in trials),
        real_process_restarts=sum(t.real_restart for t in trials),
        vectors_at_kill=sorted(t.killed_at_vectors for t in trials),
        stored_fraction_min=round(min(stored), 3),
        stored_fraction_median=round(statistics.median(stored), 3),
        stored_fraction_max=round(max(stored), 3),
        entities=reference.entities,
        entities_lost=0,
        re_embedded=0,
    )


def test_cli_kill_9_during_cold_index_then_restart(
    corpus: Path,
    reference: Reference,
    shipped_model: Any,
    tmp_path: Path,
    figures: dict[str, Any],
) -> None:
    env = child_env(**VICTIM_THREADS)

    def trial(number: int) -> Trial:
        rng = random.Random(SEED * 1000 + number)
        base = tmp_path / f"cli-{number}"
        store = workspace_store_dir(corpus, base)
        args = ["index", str(corpus), "--cache-dir", str(base), "--batch-size", str(BATCH_SIZE)]
        args += ["--threads", "1"]
        for attempt in range(ATTEMPTS):
            target, jitter = _pick(rng, reference)
            proc = start_cli([*args, "-v"], env)
            watcher = StderrWatcher(proc, MODEL_LOADED)
            at: int | None = None
            try:
                assert watcher.seen.wait(300), "the CLI never loaded the model"
                at = kill_at_progress(
                    proc.pid, lambda p=proc: p.poll() is None, store, target, jitter
                )
            finally:
                if proc.poll() is None and at is None:
                    proc.kill()
                returncode = proc.wait(60)
            if at is None:
                assert returncode == 0, "\n".join(watcher.lines[-20:])
                _reset(base)
                continue
            assert returncode == -signal.SIGKILL
            before = _check_after_kill(store, reference)
            real = number % REAL_RESTART_EVERY == 0
            summary = (
                cli_json(args, env) if real else _restart_in_process(corpus, base, shipped_model)
            )
            _check_restart(before, summary["embedded"], summary["cached"], store, reference)
            fraction = len(before.vectors) / len(reference.snapshot.vectors)
            return Trial(number, at, fraction, attempt, real)
        raise AssertionError(f"trial {number}: every run finished before its kill point")

    _run_lane(CLI_KILLS, trial, figures, reference)


def test_server_kill_9_during_cold_index_then_restart(
    corpus: Path,
    reference: Reference,
    shipped_model: Any,
    tmp_path: Path,
    figures: dict[str, Any],
) -> None:
    options = {"batchSize": BATCH_SIZE, "threads": 1}

    def trial(number: int) -> Trial:
        rng = random.Random(SEED * 1000 + 500 + number)
        base = tmp_path / f"server-{number}"
        store = workspace_store_dir(corpus, base)
        env = child_env(CODESEARCH_CACHE_DIR=str(base), **VICTIM_THREADS)
        for attempt in range(ATTEMPTS):
            target, jitter = _pick(rng, reference)
            server = RawServer(env)
            at: int | None = None
            try:
                server.initialize([corpus], options)
                server.wait_for(lambda s=server: _indexing(s), 300, "the first embedding progress")
                at = kill_at_progress(server.pid, server.alive, store, target, jitter, 300)
                if at is None or _idle(server):
                    at = None
            finally:
                returncode = server.kill()
            if at is None:
                _reset(base)
                continue
            assert returncode == -signal.SIGKILL
            before = _check_after_kill(store, reference)
            real = number % REAL_RESTART_EVERY == 0
            if real:
                again = RawServer(env)
                try:
                    again.initialize([corpus], options)
                    status = again.wait_idle(timeout=300)
                    assert status["entities"] == reference.entities and status["lastError"] is None
                    assert again.shutdown() == 0
                finally:
                    again.kill()
                embedded = status["embeddedTotal"]
                cached = expected_work(before, reference.snapshot)[1]  # not in the status
            else:
                summary = _restart_in_process(corpus, base, shipped_model)
                embedded, cached = summary["embedded"], summary["cached"]
            _check_restart(before, embedded, cached, store, reference)
            fraction = len(before.vectors) / len(reference.snapshot.vectors)
            return Trial(number, at, fraction, attempt, real)
        raise AssertionError(f"trial {number}: every run finished before its kill point")

    _run_lane(SERVER_KILLS, trial, figures, reference)


def _reset(base: Path) -> None:
    """A run that finished is no cold-index trial: start the next attempt cold again."""
    shutil.rmtree(base, ignore_errors=True)


def _indexing(server: RawServer) -> bool:
    """The model is loaded and embedding has begun (the first progress status)."""
    return any(s["state"] == "indexing" for s in server.statuses)


def _idle(server: RawServer) -> bool:
    statuses = server.statuses
    return bool(statuses) and statuses[-1]["state"] == "idle" and statuses[-1]["pending"] == 0


def test_the_kill_trigger_counts_what_a_store_holds(tmp_path: Path) -> None:
    """The kill trigger reads the store like any reader (and sees nothing when there is none)."""
    assert VectorCounter(tmp_path / "missing")() == 0
    store = Store(tmp_path / "s")
    count = VectorCounter(tmp_path / "s")
    store._cache.set("v:abc", b"\0" * 8)
    store._cache.set("m:file.py", {"path": "file.py"})
    assert count() == 1
    store._cache.set("v:def", b"\0" * 8)
    assert count() == 2
    count.close()
    store.close()
