"""Copies of a store moved aside (damaged, another model, another format) do not pile up:
only the newest of each kind is kept, pruned when a store is opened or moved aside
(issue 14, item 4)."""

from __future__ import annotations

from pathlib import Path

from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.store import Store
from codesearch.store_copies import prune_copies, remove_copies, set_aside_copies
from codesearch.workspace import Workspace


def _copy(store: Path, suffix: str) -> Path:
    path = store.with_name(f"{store.name}.{suffix}")
    path.mkdir(parents=True)
    (path / "cache.db").write_bytes(b"old")
    return path


def test_opening_a_store_keeps_only_the_newest_copy_of_each_kind(tmp_path: Path) -> None:
    store = tmp_path / "project-abc123"
    old_corrupt = _copy(store, "corrupt-20250101-120000")
    same_second = _copy(store, "corrupt-20250301-080000")
    newest_corrupt = _copy(store, "corrupt-20250301-080000-2")
    old_model = _copy(store, "old-model-20240101-000000")
    newest_model = _copy(store, "old-model-20250101-000000")
    only_schema = _copy(store, "old-schema-20230101-000000")
    # beside it, and never touched: another store, a name that only looks alike, a link
    other_store = _copy(tmp_path / "project-abc1234", "corrupt-20200101-000000")
    unrelated = _copy(store, "backup")
    (tmp_path / f"{store.name}.corrupt-20000101-000000").symlink_to(unrelated)

    Store(store).close()

    assert not old_corrupt.exists() and not same_second.exists() and not old_model.exists()
    for kept in (newest_corrupt, newest_model, only_schema, other_store, unrelated):
        assert kept.exists(), kept
    assert (tmp_path / f"{store.name}.corrupt-20000101-000000").is_symlink()
    assert prune_copies(store) == []  # nothing more to prune


def test_damage_after_damage_leaves_one_copy_the_latest(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def alpha():\n    return 1\n")
    store = tmp_path / "stores" / "ws-store"
    moved_to: list[str] = []
    for attempt in range(3):
        with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=store) as ws:
            assert ws.store is not None
            if attempt:
                assert ws.store.recovered is not None
                moved_to.append(ws.store.recovered.rpartition("moved to ")[2])
            assert ws.index().entities == 1
        (store / "cache.db").write_bytes(b"garbage" * 600)  # damaged again
    copies = set_aside_copies(store)
    assert [c.kind for c in copies] == ["corrupt"]
    assert str(copies[0].path) == moved_to[-1]  # the newest is the one kept


def test_remove_copies_deletes_every_copy_and_names_them(tmp_path: Path) -> None:
    store = tmp_path / "project-abc123"
    store.mkdir()
    made = {
        _copy(store, "corrupt-20250101-120000"),
        _copy(store, "old-model-20250101-120000"),
    }
    assert set(remove_copies(store)) == made
    assert sorted(p.name for p in tmp_path.iterdir()) == [store.name]
