"""Counts kept as files change: a status never walks the files, and stays right.

A status is asked for on the editor's event loop after every save, so it must not cost
O(files) (issue 12, bug 4); a too-large file saved again and again is one skipped file,
not one more each time (bug 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.index.reading import SourceFile, UnreadableFileError, read_source
from codesearch.service import IndexService
from codesearch.workspace import Workspace, pipeline

LIMIT = 4096  # the smallest size cap the settings accept
LOCKED = b"# locked\n"


def refusing_reader(path: Path, **options: Any) -> SourceFile:
    """read_source refusing files that start with LOCKED, as a mode-000 file is refused
    (tests run as root, whom file modes do not stop)."""
    if Path(path).read_bytes().startswith(LOCKED):
        raise UnreadableFileError("permission denied", "permission", Path(path))
    return read_source(path, **options)


class NoWalking(dict[str, Any]):
    """A manifest table that refuses to be walked (status must not need to)."""

    def _refuse(self, *_: object) -> Any:
        raise AssertionError("the manifests were walked")

    __iter__ = values = items = keys = _refuse  # type: ignore[assignment]


def write(root: Path, rel: str, data: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def truth(ws: Workspace) -> dict[str, Any]:
    """What the store says (the manifests are the truth), plus the selection's skips: the
    counts, and each failed and skipped file (issue 14, item 6)."""
    assert ws.store is not None
    manifests = list(ws.store.manifests())
    skipped_files = [(p, reason) for reason, paths in ws.skipped_paths().items() for p in paths]
    for m in manifests:
        if m.skipped:
            skipped_files.append((m.path, "binary" if "binary" in m.skipped else "too_large"))
    skipped: dict[str, int] = {}
    for _, reason in skipped_files:
        skipped[reason] = skipped.get(reason, 0) + 1
    return {
        "files": len(manifests),
        "entities": sum(len(m.entities) for m in manifests),
        "failed_files": sum(1 for m in manifests if m.error),
        "failed_entities": sum(len(m.failures) for m in manifests),
        "skipped": skipped,
        "failed_file_list": sorted((m.path, m.error) for m in manifests if m.error),
        "failed_entity_list": sorted(
            (m.path, f.name, f.start_line, f.reason) for m in manifests for f in m.failures
        ),
        "skipped_file_list": sorted(skipped_files),
    }


def status_without_walking(ws: Workspace) -> dict[str, Any]:
    assert ws.catalog is not None
    table = ws.catalog._manifests
    ws.catalog._manifests = NoWalking(table)
    try:
        status = ws.status()
    finally:
        ws.catalog._manifests = table
    counts, problems = status.counts, status.problems
    return {
        "files": counts.files,
        "entities": counts.entities,
        "failed_files": counts.failed_files,
        "failed_entities": counts.failed_entities,
        "skipped": counts.skipped,
        "failed_file_list": [(f.path, f.reason) for f in problems.failed_files],
        "failed_entity_list": [
            (e.path, e.name, e.line, e.reason) for e in problems.failed_entities
        ],
        "skipped_file_list": [(f.path, f.reason) for f in problems.skipped_files],
    }


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setattr(pipeline, "read_source", refusing_reader)
    root = tmp_path / "ws"
    write(root, "good.py", "def alpha():\n    return 1\n\ndef beta():\n    return 2\n")
    write(root, "unreadable.py", LOCKED + b"def f():\n    return 1\n")
    write(root, "binary.py", b"\x00\x01 binary")
    write(root, "big.py", "x = 1\n" * 1000)  # 6,000 bytes: over LIMIT
    encoder = FakeEncoder(fail_on="poison")
    settings = Settings(max_file_size=LIMIT)
    with Workspace(root, settings, encoder=encoder, store_dir=tmp_path / "store") as opened:
        yield opened


def test_counts_stay_right_through_every_change(ws: Workspace) -> None:
    root = ws.root

    def check(**expected: Any) -> None:
        now = status_without_walking(ws)
        assert now == truth(ws)
        for key, value in expected.items():
            assert now[key] == value, key

    ws.index()
    check(files=3, entities=2, failed_files=1, failed_entities=0,
          skipped={"binary": 1, "too_large": 1},
          skipped_file_list=[("big.py", "too_large"), ("binary.py", "binary")])  # fmt: skip
    write(root, "good.py", "def alpha():\n    return 1\n\ndef poison():\n    return 2\n")
    ws.index_paths([root / "good.py"])  # a save whose entity the model refuses
    check(entities=1, failed_entities=1)
    assert [(e.path, e.name, e.line) for e in ws.status().problems.failed_entities] == [
        ("good.py", "poison", 4)
    ]
    write(root, "good.py", "def alpha():\n    return 1\n\ndef gamma():\n    return 3\n")
    ws.index_paths([root / "good.py"])  # fixed
    check(entities=2, failed_entities=0)
    write(root, "unreadable.py", "def fixed():\n    return 1\n")
    ws.index_paths([root / "unreadable.py"])
    check(files=3, entities=3, failed_files=0)
    write(root, "binary.py", "def no_longer_binary():\n    return 1\n")
    ws.index_paths([root / "binary.py"])
    check(files=3, entities=4, skipped={"too_large": 1})
    (root / "good.py").unlink()
    ws.remove_paths([root / "good.py"])
    check(files=2, entities=2)
    ws.index()  # a full pass agrees with what the saves left
    check(files=2, entities=2, failed_files=0, skipped={"too_large": 1})
    ws.clear()
    check(files=0, entities=0, failed_files=0, failed_entities=0, skipped={})


def test_a_too_large_file_saved_again_is_still_one_skipped_file(ws: Workspace) -> None:
    root = ws.root
    ws.index()
    for _ in range(3):
        ws.index_paths([root / "big.py"])
        assert ws.counts().skipped["too_large"] == 1
        assert ws.skipped_paths()["too_large"] == ["big.py"]
        assert ws.status().counts.skipped == {"binary": 1, "too_large": 1}
    write(root, "big.py", "def small_again():\n    return 1\n")
    summary = ws.index_paths([root / "big.py"])
    assert "too_large" not in ws.counts().skipped and summary.skipped == 1  # binary.py only
    assert ws.skipped_paths()["too_large"] == []
    assert "small_again" in [h.name for h in ws.search("small again", limit=3)]
    write(root, "big.py", "x = 1\n" * 1000)
    ws.index_paths([root / "big.py"])  # grew again: out of the index, one skipped file
    assert ws.counts().skipped["too_large"] == 1
    assert "small_again" not in [h.name for h in ws.search("small again", limit=3)]
    (root / "big.py").unlink()
    ws.remove_paths([root / "big.py"])  # deleted: no longer skipped either
    assert ws.skipped_paths()["too_large"] == [] and "too_large" not in ws.counts().skipped


class Silent:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def test_service_status_never_walks_the_manifests(ws: Workspace) -> None:
    ws.index()
    service = IndexService(
        Settings(max_file_size=LIMIT), Silent(), workspace_factory=lambda root, s: ws
    )
    try:
        service.add_folder(ws.root)
        assert service.wait_idle(30)
        assert ws.catalog is not None
        table = ws.catalog._manifests
        ws.catalog._manifests = NoWalking(table)
        try:
            status = service.status()
        finally:
            ws.catalog._manifests = table
        assert (status.files, status.entities, status.failed, status.skipped) == (3, 2, 1, 2)
    finally:
        service.shutdown()
