"""What a status in another process knows (issue 14, items 6 and 7): when the folder was
last indexed and which files the scan left out are kept in the store, not only in the
memory of the process that indexed; a folder never indexed is not opened at all."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.workspace import Workspace

LIMIT = 4096


def _workspace(root: Path, store: Path) -> Workspace:
    return Workspace(root, Settings(max_file_size=LIMIT), encoder=FakeEncoder(), store_dir=store)


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.py").write_text("def alpha():\n    return 1\n")
    (root / "big.py").write_text("x = 1\n" * 1000)  # over LIMIT: left out by the scan
    (root / "data.py").write_bytes(b"\x00 binary")  # left out when read
    return root


def test_another_process_sees_when_and_what_was_left_out(tmp_path: Path) -> None:
    root, store = _folder(tmp_path), tmp_path / "store"
    before = time.time()
    with _workspace(root, store) as ws:
        ws.index()
    with _workspace(root, store) as again:  # as `codesearch status` does: open, never scan
        status = again.status()
    assert status.indexed and status.last_indexed is not None
    assert before <= status.last_indexed <= time.time()
    assert status.counts.skipped == {"binary": 1, "too_large": 1}
    assert [(f.path, f.reason) for f in status.problems.skipped_files] == [
        ("big.py", "too_large"),
        ("data.py", "binary"),
    ]


def test_a_save_that_fixes_a_skipped_file_is_remembered_too(tmp_path: Path) -> None:
    root, store = _folder(tmp_path), tmp_path / "store"
    with _workspace(root, store) as ws:
        ws.index()
        (root / "big.py").write_text("def small_now():\n    return 1\n")
        ws.index_paths([root / "big.py"])
    with _workspace(root, store) as again:
        assert [f.path for f in again.status().problems.skipped_files] == ["data.py"]


def test_a_folder_without_code_is_indexed_and_its_store_opens_clean(tmp_path: Path) -> None:
    """The time and the skips are written before any model metadata exists: that is not
    a damaged store ("entries but no metadata")."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "big.py").write_text("x = 1\n" * 1000)
    store = tmp_path / "store"
    with _workspace(root, store) as ws:
        assert ws.index().entities == 0
    with _workspace(root, store) as again:
        assert again.store is not None and again.store.recovered is None
        status = again.status()
        assert status.indexed and [f.path for f in status.problems.skipped_files] == ["big.py"]


def test_not_indexed_until_a_full_pass_finishes_and_again_after_clear(tmp_path: Path) -> None:
    root, store = _folder(tmp_path), tmp_path / "store"
    never = _workspace(root, store)
    assert not never.has_store and not never.status().indexed
    assert not store.exists()  # asking wrote nothing
    with _workspace(root, store) as ws:
        assert not ws.index(should_stop=lambda: True).entities  # stopped before the end
        assert not ws.status().indexed
        ws.index()
        assert ws.status().indexed
        ws.clear()
        status = ws.status()
        assert not status.indexed and status.last_indexed is None
        assert not status.problems  # the skips went with the rest
