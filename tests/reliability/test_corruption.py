"""A damaged or foreign store is detected at open, moved aside (never deleted), rebuilt, and
the user is told once: by the engine (`Store.recovered`), the CLI (one stderr line) and the
language server (one window/showMessage warning, then an index like any other).

The engine cases use the deterministic fake encoder (the model is not what is tested here);
the language-server case runs the real server and model.
"""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import diskcache
import pytest
from tests.reliability.rawlsp import RawServer
from tests.reliability.support import child_env, run_cli
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.locations import workspace_store_dir
from codesearch.store import SCHEMA_VERSION, Store, StoreMeta
from codesearch.workspace import Workspace

DB = "cache.db"


def _open(root: Path, store: Path, model_id: str = "fake-model") -> Workspace:
    return Workspace(
        root, Settings(), encoder=FakeEncoder(model_id=model_id), store_dir=store
    ).open()


def _build(root: Path, store: Path, model_id: str = "fake-model") -> int:
    with _open(root, store, model_id) as ws:
        assert ws.store is not None and ws.store.recovered is None
        return ws.index().entities


def _fingerprint(store: Path) -> str:
    """The rows of the store when SQLite can read them, else the file's bytes."""
    db = store / DB
    try:
        connection = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT key, raw, mode, filename, value FROM Cache ORDER BY key"
            ).fetchall()
        finally:
            connection.close()
        return "rows:" + hashlib.sha256(repr(rows).encode()).hexdigest()
    except sqlite3.DatabaseError:
        return "bytes:" + hashlib.sha256(db.read_bytes()).hexdigest()


def _page_size(db: Path) -> int:
    size = int.from_bytes(db.read_bytes()[16:18], "big")
    return 65536 if size == 1 else size


# -- the kinds of damage --------------------------------------------------------------------


def truncate_half(store: Path) -> None:
    db = store / DB
    os.truncate(db, db.stat().st_size // 2 // _page_size(db) * _page_size(db))


def truncate_mid_page(store: Path) -> None:
    db = store / DB
    os.truncate(db, db.stat().st_size - 100)


def truncate_to_header(store: Path) -> None:
    db = store / DB
    os.truncate(db, 100)


def garbage_file(store: Path) -> None:
    db = store / DB
    db.write_bytes(random.Random(1).randbytes(db.stat().st_size))


def garbage_pages(store: Path) -> None:
    """The header stays valid; every page after the first is overwritten."""
    db = store / DB
    data = bytearray(db.read_bytes())
    page = _page_size(db)
    data[page:] = random.Random(2).randbytes(len(data) - page)
    db.write_bytes(bytes(data))


def _stale_snapshot(store: Path) -> None:
    """As after a crash that followed an edit: the warm-start snapshot no longer applies,
    so the next open reads every file record (a fresh snapshot is used instead of them)."""
    cache = diskcache.Cache(str(store))
    cache.set("generation", int(cache.get("generation", 0)) + 1)
    cache.close()


def garbage_value(store: Path) -> None:
    """One file record (a pickled manifest) replaced by bytes that do not unpickle."""
    _stale_snapshot(store)
    connection = sqlite3.connect(store / DB)
    with connection:
        key = connection.execute(
            "SELECT key FROM Cache WHERE key LIKE 'm:%' ORDER BY key LIMIT 1"
        ).fetchone()[0]
        connection.execute(
            "UPDATE Cache SET value = ? WHERE key = ?", (b"\x80\x05garbage" * 20, key)
        )
    connection.close()


def wrong_record(store: Path) -> None:
    """A file record that unpickles but has the wrong shape (a half-written older format)."""
    _stale_snapshot(store)
    cache = diskcache.Cache(str(store))
    key = next(k for k in cache.iterkeys() if k.startswith("m:"))
    cache.set(key, {"path": key[2:], "entities": [{"name": "f"}]})
    cache.close()


def missing_meta(store: Path) -> None:
    cache = diskcache.Cache(str(store))
    cache.delete("meta")
    cache.close()


def unreadable_meta(store: Path) -> None:
    cache = diskcache.Cache(str(store))
    cache.set("meta", {"schema_version": "one", "model": 3})
    cache.close()


def old_schema(store: Path) -> None:
    cache = diskcache.Cache(str(store))
    meta = dict(cache.get("meta"))
    meta["schema_version"] = SCHEMA_VERSION - 1
    cache.set("meta", meta)
    cache.close()


DAMAGE: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # name: (damage, folder suffix, words the message must hold)
    "truncated to half": (truncate_half, "corrupt", "truncated"),
    "truncated mid-page": (truncate_mid_page, "corrupt", "truncated"),
    "truncated to its header": (truncate_to_header, "corrupt", "truncated"),
    "garbage file": (garbage_file, "corrupt", "not an SQLite database"),
    "garbage pages": (garbage_pages, "corrupt", "damaged"),
    "garbage in a record": (garbage_value, "corrupt", "damaged"),
    "record of the wrong shape": (wrong_record, "corrupt", "unreadable file record"),
    "metadata missing": (missing_meta, "corrupt", "no metadata"),
    "metadata unreadable": (unreadable_meta, "corrupt", "unreadable metadata"),
    "older schema version": (old_schema, "old-schema", "store format"),
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_detected_moved_aside_rebuilt_and_told_once(
    kind: str, workspace_copy: Path, tmp_path: Path
) -> None:
    damage, suffix, words = DAMAGE[kind]
    store = tmp_path / "stores" / "ws-store"
    entities = _build(workspace_copy, store)
    damage(store)
    before = _fingerprint(store)

    with _open(workspace_copy, store) as ws:
        assert ws.store is not None
        message = ws.store.recovered
        assert message is not None and words in message, message
        assert ws.counts().entities == 0  # nothing of the damaged store is trusted
        summary = ws.index()
        assert summary.entities == entities and summary.failed == 0

    moved = [p for p in store.parent.iterdir() if p.name.startswith(f"{store.name}.{suffix}-")]
    assert len(moved) == 1, sorted(p.name for p in store.parent.iterdir())
    assert str(moved[0]) in message
    assert _fingerprint(moved[0]) == before  # the old bytes (or rows) are kept as they were
    with _open(workspace_copy, store) as ws:  # told once: the new store is healthy
        assert ws.store is not None and ws.store.recovered is None
        assert ws.counts().entities == entities


def test_another_model_moves_the_store_aside(workspace_copy: Path, tmp_path: Path) -> None:
    store = tmp_path / "ws-store"
    entities = _build(workspace_copy, store, model_id="fake-old-model")
    before = _fingerprint(store)
    with _open(workspace_copy, store, model_id="fake-new-model") as ws:
        assert ws.store is not None and ws.store.recovered is not None
        assert "another model (fake-old-model, now fake-new-model)" in ws.store.recovered
        assert ws.index().embedded == entities  # no vector of the old model is mixed in
    (moved,) = [p for p in tmp_path.iterdir() if ".old-model-" in p.name]
    assert _fingerprint(moved) == before


def test_a_locked_store_is_waited_for_not_moved(workspace_copy: Path, tmp_path: Path) -> None:
    """Another process writing (the server while the CLI opens) is not damage."""
    store = tmp_path / "ws-store"
    entities = _build(workspace_copy, store)
    connection = sqlite3.connect(store / DB, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN IMMEDIATE")
    releaser = threading.Timer(1.0, lambda: connection.execute("COMMIT"))
    releaser.start()
    try:
        with _open(workspace_copy, store) as ws:
            assert ws.store is not None and ws.store.recovered is None
            assert ws.counts().entities == entities
            assert ws.index().parsed == 0
    finally:
        releaser.join()
        connection.close()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("ws-store.")]


def test_a_kill_in_the_first_instant_leaves_an_empty_file_that_is_not_damage(
    workspace_copy: Path, tmp_path: Path
) -> None:
    store = tmp_path / "ws-store"
    store.mkdir()
    (store / DB).write_bytes(b"")
    with _open(workspace_copy, store) as ws:
        assert ws.store is not None and ws.store.recovered is None
        assert ws.index().entities > 0


@pytest.mark.parametrize("how", ["not a pickle of an index", "not a pickle at all"])
def test_a_damaged_warm_start_snapshot_falls_back_to_the_records(
    how: str, workspace_copy: Path, tmp_path: Path
) -> None:
    """The snapshot is a cache of the file records: when it cannot be read, they are."""
    store = tmp_path / "ws-store"
    entities = _build(workspace_copy, store)
    if how == "not a pickle of an index":
        cache = diskcache.Cache(str(store))
        generation, _ = cache.get("snapshot")
        cache.set("snapshot", (generation, b"\x80\x05garbage"))
        cache.close()
    else:
        connection = sqlite3.connect(store / DB)
        with connection:
            connection.execute("UPDATE Cache SET value = ? WHERE key = 'snapshot'", (b"\x00" * 64,))
        connection.close()
    with _open(workspace_copy, store) as ws:
        assert ws.store is not None and ws.store.recovered is None
        assert ws.counts().entities == entities
        assert ws.index().parsed == 0


def test_a_plain_vector_cache_without_metadata_is_not_damage(tmp_path: Path) -> None:
    """Stores opened without a model (the batch embedder's cache, benchmarks) keep no meta."""
    cache = Store(tmp_path / "vectors")
    cache._cache.set("v:key", b"\0" * 16)
    cache.close()
    again = Store(tmp_path / "vectors")
    assert again.recovered is None and again.has_vector("key")
    again.close()


def test_the_cli_says_it_once_on_stderr(workspace_copy: Path, tmp_path: Path) -> None:
    base = tmp_path / "cache"
    store = workspace_store_dir(workspace_copy, base)
    store.mkdir(parents=True)
    (store / DB).write_bytes(random.Random(3).randbytes(8192))
    args = ["status", "--path", str(workspace_copy), "--cache-dir", str(base)]
    first = run_cli(args, child_env())
    assert first.returncode == 0, first.stderr
    warnings = [line for line in first.stderr.splitlines() if line.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("codesearch: warning: "), first.stderr
    assert "moved to" in warnings[0] and ".corrupt-" in warnings[0]
    # status does not index: it names the command that does, and claims nothing more
    assert f"`codesearch index {workspace_copy}` builds a new one" in warnings[0]
    assert "being built" not in warnings[0]
    assert "not indexed yet" in first.stdout
    second = run_cli(args, child_env())
    assert second.returncode == 0 and second.stderr.strip() == "", second.stderr


@pytest.mark.slow
def test_the_server_starts_on_damaged_stores_warns_once_and_indexes(
    tmp_path: Path, workspace_copy: Path
) -> None:
    """Two folders: one store full of garbage, one truncated; the server must not crash."""
    base = tmp_path / "cache"
    second = tmp_path / "second"
    second.mkdir()
    (second / "tools.py").write_text(
        "def tool_a():\n    return 1\n\n\ndef tool_b():\n    return 2\n"
    )
    garbage = workspace_store_dir(workspace_copy, base)
    garbage.mkdir(parents=True)
    (garbage / DB).write_bytes(random.Random(4).randbytes(16384))
    truncated = workspace_store_dir(second, base)
    healthy = Store(truncated)
    healthy.set_meta(StoreMeta(SCHEMA_VERSION, "whatever", 384))
    for i in range(200):
        healthy._cache.set(f"v:{i}", b"\0" * 1536)
    healthy.close()
    truncate_half(truncated)

    server = RawServer(child_env(CODESEARCH_CACHE_DIR=str(base)))
    try:
        server.initialize([workspace_copy, second])
        status = server.wait_for(
            lambda: next(
                (
                    s
                    for s in server.statuses
                    if s["state"] == "idle" and s["pending"] == 0 and s["files"] == 7
                ),
                None,
            ),
            180,
            "both folders indexed",
        )
        assert status["entities"] > 15 and status["lastError"] is None
        time.sleep(0.3)
        warnings = [
            m["message"]
            for m in server.notifications("window/showMessage")
            if m["type"] == 2  # Warning
        ]
        assert len(warnings) == 2, warnings
        assert all(w.endswith("a new index is being built") for w in warnings), warnings
        assert any("not an SQLite database" in w for w in warnings)
        assert any("truncated" in w for w in warnings)
        assert server.alive()
        reply = server.command("codesearch.search", {"query": "tool a", "limit": 3})
        assert reply["result"] and reply["result"][0]["name"] == "tool_a"
        assert server.shutdown() == 0
    finally:
        server.kill()
    moved = sorted(p.name for p in base.iterdir() if ".corrupt-" in p.name)
    assert len(moved) == 2, moved
