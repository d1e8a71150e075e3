"""A file or entity that failed is tried again on the next index and the next save, even when
the file itself did not change (issue 14, item 2): a file made readable again with chmod, or
an entity the model failed on once, must not stay out of the index until someone edits it.

The read failure is injected at the reader seam here (tests run as root, for whom file modes
do not apply); tests/reliability/test_bad_input.py makes a real mode-000 file readable again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.index import reading
from codesearch.workspace import Workspace, pipeline

FLAKY = "def flaky_checksum(data):\n    return sum(data) % 251\n"
STEADY = "def steady_total(values):\n    return sum(values)\n"


def _workspace(tmp_path: Path, encoder: FakeEncoder) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    (root / "flaky.py").write_text(FLAKY)
    (root / "steady.py").write_text(STEADY)
    return Workspace(root, Settings(), encoder=encoder, store_dir=tmp_path / "store")


class _DeniedOnce:
    """read_source that refuses one file until `fixed` is set (a chmod 000 file, repaired
    by a chmod that changes neither its mtime nor its size)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.fixed = False

    def __call__(self, path: Path, **kwargs: int) -> reading.SourceFile:
        if Path(path).name == self.name and not self.fixed:
            raise reading.UnreadableFileError("permission denied", "permission", Path(path))
        return reading.read_source(path, **kwargs)


def _names(ws: Workspace, query: str) -> list[str]:
    return [hit.name for hit in ws.search(query, limit=5)]


def test_unreadable_file_is_read_again_on_the_next_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = _DeniedOnce("flaky.py")
    monkeypatch.setattr(pipeline, "read_source", reader)
    with _workspace(tmp_path, FakeEncoder()) as ws:
        first = ws.index()
        assert (first.failed_files, first.files) == (1, 2)
        assert "flaky_checksum" not in _names(ws, "flaky checksum")

        reader.fixed = True  # chmod 644: same mtime, same size
        second = ws.index()
        assert (second.failed_files, second.failed, second.parsed) == (0, 0, 1)
        assert second.embedded == 1  # the repaired file only; steady.py is unchanged
        assert ws.problems() == []
        assert _names(ws, "flaky checksum")[0] == "flaky_checksum"


def test_unreadable_file_is_read_again_when_another_file_is_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = _DeniedOnce("flaky.py")
    monkeypatch.setattr(pipeline, "read_source", reader)
    with _workspace(tmp_path, FakeEncoder()) as ws:
        ws.index()
        reader.fixed = True
        steady = ws.root / "steady.py"
        steady.write_text(STEADY + "\n\ndef steady_mean(values):\n    return 0\n")
        saved = ws.index_paths([steady])
        assert saved.failed_files == 0
        assert {"flaky.py", "steady.py"} <= set(saved.changed_paths)
        assert _names(ws, "flaky checksum")[0] == "flaky_checksum"


def test_entity_the_model_failed_on_is_embedded_on_the_next_index(tmp_path: Path) -> None:
    encoder = FakeEncoder(fail_on="flaky_checksum")
    with _workspace(tmp_path, encoder) as ws:
        first = ws.index()
        assert (first.failed, first.failed_files, first.entities) == (1, 0, 1)
        assert [f.name for p in ws.problems() for f in p.failures] == ["flaky_checksum"]

        encoder.fail_on = ""  # the model recovers (a transient error, memory freed)
        calls = len(encoder.encoded) + sum(len(c) for c in encoder.id_calls)
        second = ws.index()
        assert (second.failed, second.entities, second.embedded) == (0, 2, 1)
        assert len(encoder.encoded) + sum(len(c) for c in encoder.id_calls) == calls + 1
        assert ws.problems() == []
        assert _names(ws, "flaky checksum")[0] == "flaky_checksum"


def test_entity_failure_is_retried_on_a_save_of_another_file(tmp_path: Path) -> None:
    encoder = FakeEncoder(fail_on="flaky_checksum")
    with _workspace(tmp_path, encoder) as ws:
        ws.index()
        encoder.fail_on = ""
        steady = ws.root / "steady.py"
        steady.write_text(STEADY + "# saved\n")
        saved = ws.index_paths([steady])
        assert (saved.failed, saved.entities) == (0, 2)
        assert _names(ws, "flaky checksum")[0] == "flaky_checksum"


def test_files_that_failed_for_good_do_not_block_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Still unreadable: read again (and still reported) on each run, nothing else redone."""
    monkeypatch.setattr(pipeline, "read_source", _DeniedOnce("flaky.py"))
    with _workspace(tmp_path, FakeEncoder()) as ws:
        ws.index()
        again = ws.index()
        assert (again.failed_files, again.embedded, again.unchanged) == (1, 0, 1)
        assert [p.error for p in ws.problems()] == ["permission denied"]
