"""Incremental indexing of a real folder with the real model: only what changed is embedded."""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

import pytest
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.embedding.types import Vectors
from codesearch.search import SearchFilters
from codesearch.workspace import Workspace, pipeline

pytestmark = pytest.mark.slow


def open_ws(root: Path, model: TorchEncoder, **settings: object) -> Workspace:
    return Workspace(root, Settings(**settings), encoder=model).open()  # type: ignore[arg-type]


def names(ws: Workspace, query: str, limit: int = 5) -> list[str]:
    return [h.name for h in ws.search(query, limit=limit)]


def test_cold_then_unchanged_reindex_parses_and_embeds_nothing(
    workspace_copy: Path, model: TorchEncoder
) -> None:
    with open_ws(workspace_copy, model) as ws:
        cold = ws.index()
        assert cold.files == 6 and cold.entities >= 15
        assert cold.embedded == cold.entities and cold.failed == 0
        warm = ws.index()
        assert (warm.parsed, warm.embedded, warm.unchanged) == (0, 0, 6)
    # a new process (new Workspace object) over the same store: still nothing to do
    with open_ws(workspace_copy, model) as again:
        assert again.counts().entities == cold.entities
        summary = again.index()
        assert summary.parsed == 0 and summary.embedded == 0


def test_editing_one_function_re_embeds_exactly_that_function(
    workspace_copy: Path, model: TorchEncoder
) -> None:
    target = workspace_copy / "uploader" / "upload.py"
    with open_ws(workspace_copy, model) as ws:
        ws.index()
        text = target.read_text()
        target.write_text(text.replace("total = (total + byte) % 65521", "total ^= byte"))
        summary = ws.index()
        assert summary.parsed == 1 and summary.embedded == 1
        assert summary.cached == 5  # the other five entities of that file come from the cache
        assert names(ws, "compute checksum", 1) == ["compute_checksum"]


def test_inserting_lines_above_functions_embeds_nothing(
    workspace_copy: Path, model: TorchEncoder
) -> None:
    target = workspace_copy / "uploader" / "upload.py"
    with open_ws(workspace_copy, model) as ws:
        ws.index()
        target.write_text("# a new comment\n\n\n" + target.read_text())
        summary = ws.index()
        assert summary.parsed == 1 and summary.embedded == 0
        hit = ws.search("retry failed upload", limit=1)[0]
        assert hit.name == "retry_failed_upload" and hit.start_line == 13  # moved down by 3


def test_renamed_and_duplicated_files_embed_nothing(
    workspace_copy: Path, model: TorchEncoder
) -> None:
    with open_ws(workspace_copy, model) as ws:
        before = ws.index()
        (workspace_copy / "uploader" / "upload.py").rename(workspace_copy / "uploader" / "moved.py")
        shutil.copy(workspace_copy / "web" / "debounce.js", workspace_copy / "web" / "copy.js")
        summary = ws.index()
        assert summary.embedded == 0 and summary.removed == 1
        assert summary.entities == before.entities + 1
        assert {h.path for h in ws.search("retry failed upload", limit=3)} >= {"uploader/moved.py"}


def test_deleted_files_and_entities_disappear_from_results(
    workspace_copy: Path, model: TorchEncoder
) -> None:
    with open_ws(workspace_copy, model) as ws:
        ws.index()
        assert "isValidEmail" in " ".join(names(ws, "validate an email address"))
        (workspace_copy / "services" / "EmailValidator.java").unlink()
        target = workspace_copy / "uploader" / "upload.py"
        text = target.read_text()
        start = text.index("def compute_checksum")
        end = text.index("class ChunkedUploader")
        target.write_text(text[:start] + text[end:])
        summary = ws.index()
        assert summary.removed == 1
        found = names(ws, "validate an email address", 20) + names(ws, "checksum", 20)
        assert not any("isValidEmail" in n or n == "compute_checksum" for n in found)


def test_changing_the_model_re_embeds_everything(
    workspace_copy: Path, model: TorchEncoder, tmp_path: Path
) -> None:
    from codesearch.embedding.registry import load_encoder

    with open_ws(workspace_copy, model) as ws:
        first = ws.index()
    other_dir = tmp_path / "other-minilm"
    other_dir.symlink_to(Path(model.spec.source), target_is_directory=True)
    other = load_encoder(str(other_dir), backend="torch")
    assert other.model_id != model.model_id
    with Workspace(workspace_copy, Settings(), encoder=other).open() as ws:
        assert ws.counts().entities == 0  # the old model's vectors are not mixed in
        summary = ws.index()
        assert summary.embedded == first.entities


def test_filters_and_similar(workspace_copy: Path, model: TorchEncoder) -> None:
    with open_ws(workspace_copy, model) as ws:
        ws.index()
        go_only = ws.search("cache lookup", filters=SearchFilters(language="go"))
        assert go_only and all(h.language == "go" for h in go_only)
        classes = ws.search("upload", filters=SearchFilters(kind="class"))
        assert classes and all(h.kind == "class" for h in classes)
        web = ws.search("parse", filters=SearchFilters(path_glob="web/*"))
        assert web and all(h.path.startswith("web/") for h in web)
        similar = ws.similar(workspace_copy / "uploader" / "upload.py", 12, limit=3)
        assert similar and all(h.name != "retry_failed_upload" for h in similar)


def test_bad_files_are_recorded_per_file_and_others_still_index(
    workspace_copy: Path, model: TorchEncoder
) -> None:
    legacy_text = "# r\u00e9sum\u00e9\ndef strip_accents(text):\n    return text\n"
    (workspace_copy / "legacy.py").write_bytes(legacy_text.encode("latin-1"))
    (workspace_copy / "binary.py").write_bytes(b"\x00\x01\x02 binary")
    (workspace_copy / "broken.py").write_text("def ok_before():\n    return 1\n\ndef broken(:\n")
    (workspace_copy / "big.py").write_text("x = 1\n" * 400_000)
    (workspace_copy / "empty.py").write_text("")
    with open_ws(workspace_copy, model) as ws:
        summary = ws.index()
        problems = {p.path: p for p in ws.problems()}
        legacy = problems["legacy.py"]  # not UTF-8: indexed, with a warning (issue 14)
        assert legacy.error is None and "not valid UTF-8" in (legacy.warning or "")
        assert "strip_accents" in names(ws, "remove accents from text", 3)
        assert "binary.py" not in problems  # skipped on purpose, not a failure
        assert "big.py" not in problems
        counts = ws.counts().skipped
        assert counts.get("binary") == 1 and counts.get("too_large") == 1
        assert "ok_before" in names(ws, "ok before", 3)
        assert summary.failed_files == 0
        assert ws.index().parsed == 0  # a warning is no failure: nothing is read again


def test_store_lives_outside_the_workspace_and_is_private(
    workspace_copy: Path, model: TorchEncoder, isolated_cache: Path
) -> None:
    with open_ws(workspace_copy, model) as ws:
        ws.index()
        assert ws.store_dir.is_relative_to(isolated_cache)
        assert not ws.store_dir.is_relative_to(workspace_copy)
        assert os.stat(ws.store_dir).st_mode & 0o777 == 0o700


def test_warm_start_uses_the_snapshot_only_when_it_is_current(
    workspace_copy: Path, model: TorchEncoder
) -> None:
    with open_ws(workspace_copy, model) as ws:
        ws.index()
        expected = [(h.path, h.name) for h in ws.search("retry failed uploads")]
    with open_ws(workspace_copy, model) as warm:
        assert warm.store is not None and warm.catalog is not None
        # loaded from the snapshot
        assert warm.catalog.snapshot_generation == warm.store.generation()
        assert [(h.path, h.name) for h in warm.search("retry failed uploads")] == expected
        # an edit indexed, then the process dies before writing a new snapshot
        target = workspace_copy / "web" / "debounce.js"
        target.write_text(target.read_text().replace("function debounce", "function throttle"))
        assert warm.index_paths([target]).embedded == 1
        warm.close(save_snapshot=False)  # no snapshot written: a crash
    with open_ws(workspace_copy, model) as after_crash:
        assert after_crash.store is not None and after_crash.catalog is not None
        assert after_crash.catalog.snapshot_generation != after_crash.store.generation()
        names = [h.name for h in after_crash.search("throttle", limit=3)]
        assert "throttle" in names and "debounce" not in names


class _Abort(BaseException):
    """Not an embedding error (those are caught per entity): it ends the index run."""


class _ThresholdSpy(FakeEncoder):
    """Records the garbage collector's thresholds while the model is working."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.seen: list[tuple[int, int, int]] = []
        self.fail = fail

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        self.seen.append(gc.get_threshold())
        if self.fail:
            raise _Abort
        return super().encode(texts, batch_size)


def test_indexing_relaxes_the_garbage_collector_and_always_restores_it(
    workspace_copy: Path, tmp_path: Path
) -> None:
    before = gc.get_threshold()
    spy = _ThresholdSpy()
    with Workspace(workspace_copy, Settings(), encoder=spy, store_dir=tmp_path / "a") as ws:
        ws.index()
    assert spy.seen and all(seen == pipeline.INDEXING_GC_THRESHOLD for seen in spy.seen)
    assert gc.get_threshold() == before
    failing = _ThresholdSpy(fail=True)
    store_b = tmp_path / "b"
    with (
        Workspace(workspace_copy, Settings(), encoder=failing, store_dir=store_b) as ws,
        pytest.raises(_Abort),
    ):
        ws.index()
    assert failing.seen and gc.get_threshold() == before
