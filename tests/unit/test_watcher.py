"""The folder watcher keeps an IndexService in step with the disk (real watchfiles events,
fake model): files written, changed, deleted, folders moved in and out, ignore files."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import watchfiles
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.service import IndexService
from codesearch.service.log_listener import LogListener
from codesearch.service.watcher import FolderWatcher, SourceFilter

DEADLINE_S = 20.0


@pytest.fixture
def root(tmp_path: Path) -> Path:
    # under a folder named like one the scan skips: only folders below the root count
    folder = tmp_path / "build" / "project"
    (folder / "pkg").mkdir(parents=True)
    (folder / "pkg" / "core.py").write_text("def parse_config(text):\n    return text\n")
    return folder


@pytest.fixture
def watched(root: Path, tmp_path: Path) -> Iterator[IndexService]:
    service = IndexService(
        Settings(store_dir=str(tmp_path / "store")), LogListener(), encoder=FakeEncoder()
    )
    watcher = FolderWatcher(service)
    service.add_folder(root)
    watcher.add(root)
    assert service.wait_idle(DEADLINE_S) and watcher.ready.wait(DEADLINE_S)
    yield service
    watcher.close()
    service.shutdown()


def names(service: IndexService, query: str) -> set[str]:
    return {rooted.hit.name for rooted in service.search(query, limit=50)}


def eventually(check: Callable[[], bool]) -> bool:
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False


def test_written_changed_and_deleted_files_follow_the_disk(
    watched: IndexService, root: Path
) -> None:
    source = root / "pkg" / "billing.py"
    source.write_text("def charge_invoice(total):\n    return total\n")
    assert eventually(lambda: "charge_invoice" in names(watched, "charge invoice"))
    source.write_text("def refund_invoice(total):\n    return -total\n")
    assert eventually(lambda: "refund_invoice" in names(watched, "refund invoice"))
    assert "charge_invoice" not in names(watched, "charge invoice")
    source.unlink()
    assert eventually(lambda: "refund_invoice" not in names(watched, "refund invoice"))
    assert "parse_config" in names(watched, "parse config")  # the rest stays


def test_folders_moved_in_and_out(watched: IndexService, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "shipping"
    outside.mkdir(parents=True)
    (outside / "rates.py").write_text("def shipping_rate(weight):\n    return weight\n")
    shutil.move(str(outside), str(root / "shipping"))  # a rename: one event for the folder
    assert eventually(lambda: "shipping_rate" in names(watched, "shipping rate"))
    shutil.move(str(root / "shipping"), str(tmp_path / "gone"))
    assert eventually(lambda: "shipping_rate" not in names(watched, "shipping rate"))


def test_an_ignore_file_change_applies_its_rules(watched: IndexService, root: Path) -> None:
    (root / "pkg" / "secret_keys.py").write_text("def rotate_keys():\n    return 1\n")
    assert eventually(lambda: "rotate_keys" in names(watched, "rotate keys"))
    (root / ".codesearchignore").write_text("secret_keys.py\n")
    assert eventually(lambda: "rotate_keys" not in names(watched, "rotate keys"))
    (root / ".codesearchignore").unlink()
    assert eventually(lambda: "rotate_keys" in names(watched, "rotate keys"))


def test_the_filter_keeps_sources_and_ignore_files_below_the_root(tmp_path: Path) -> None:
    root = tmp_path / "node_modules" / "app"  # a skipped name above the root does not count
    keep = SourceFilter([root])
    added = watchfiles.Change.added
    assert keep(added, str(root / "src" / "a.py"))
    assert keep(added, str(root / "src" / ".gitignore"))
    assert keep(added, str(root / "src" / "newfolder"))  # extension-less: maybe a folder
    assert not keep(added, str(root / "node_modules" / "lib" / "a.js"))
    assert not keep(added, str(root / ".git" / "index"))
    assert not keep(added, str(root / "notes.txt"))
    assert not keep(added, str(tmp_path / "other" / "a.py"))
