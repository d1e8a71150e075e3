"""A model that cannot load must not cost the working index (issue 14, item 1).

`codesearch index --model <hub name>` offline used to move the store aside as "built with
another model", then fail; back on the default model everything was embedded again. Now
the new model is loaded and probed first, and the store is switched only once it works.
The real model, the CLI and the language server run the same paths in tests/e2e and
tests/lsp; here fake encoders make the bookkeeping quick.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.embedding import hub, registry
from codesearch.embedding.registry import Backend, load_encoder, model_id_label
from codesearch.embedding.types import Encoder, ModelLoadError, ModelSpec, Vectors
from codesearch.service import IndexService, ServiceStatus
from codesearch.store import Store, stored_model_id
from codesearch.workspace import FileProblem, ModelLoader, Workspace

GOOD_ID = "all-MiniLM-L6-v2:1009c0031c742c0b+onnx-int8"
BAD_NAME = "sentence-transformers/all-mpnet-base-v2"


def _failing_loader(calls: list[str] | None = None) -> ModelLoader:
    def load() -> Encoder:
        if calls is not None:
            calls.append("load")
        raise ModelLoadError(
            f"could not load model {BAD_NAME!r}: not in the local cache and the network is "
            "off (HF_HUB_OFFLINE)"
        )

    return ModelLoader(f"hub:{BAD_NAME}+onnx-int8", BAD_NAME, load)


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "upload.py").write_text("def retry_failed_upload(job):\n    return job.retry()\n")
    (root / "cache.py").write_text("class LruCache:\n    def get(self, key):\n        return 1\n")
    return root


def _files(folder: Path) -> dict[str, bytes]:
    """Every byte a store keeps (SQLite's -wal/-shm scratch files left out: a reader
    makes them, and they hold no data once the writer closed)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


def test_a_model_that_cannot_load_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    root, store = _root(tmp_path), tmp_path / "store"
    with Workspace(root, Settings(), encoder=FakeEncoder(model_id=GOOD_ID), store_dir=store) as ws:
        built = ws.index()
    before = _files(store)
    calls: list[str] = []

    bad = Workspace(root, Settings(), model_loader=_failing_loader(calls), store_dir=store)
    with pytest.raises(ModelLoadError) as failed:
        bad.open()
    message = str(failed.value)
    assert "\n" not in message
    assert message.startswith(f"could not load model {BAD_NAME!r}")
    assert message.endswith("; the index built with all-MiniLM-L6-v2 (onnx-int8) is kept")
    assert calls == ["load"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "ws"]  # nothing moved
    assert _files(store) == before  # not a byte changed
    assert stored_model_id(store) == GOOD_ID

    with Workspace(root, Settings(), encoder=FakeEncoder(model_id=GOOD_ID), store_dir=store) as ws:
        again = ws.index()
        assert (again.embedded, again.unchanged, again.entities) == (0, 2, built.entities)


def test_a_model_that_loads_with_other_dimensions_moves_the_old_store_aside(
    tmp_path: Path,
) -> None:
    """A working new model does switch the store: the old one is moved, never deleted."""
    root, store = _root(tmp_path), tmp_path / "store"
    with Workspace(root, Settings(), encoder=FakeEncoder(model_id=GOOD_ID), store_dir=store) as ws:
        built = ws.index()
    other = FakeEncoder(dimensions=16, model_id="hub:other/model")
    with Workspace(root, Settings(), encoder=other, store_dir=store) as ws:
        assert ws.store is not None and ws.store.recovered is not None
        assert "was built with another model" in ws.store.recovered
        switched = ws.index()
        assert switched.embedded == built.entities
    [moved] = [p for p in tmp_path.iterdir() if p.name.startswith("store.old-model-")]
    kept = Store(moved, model_id=GOOD_ID)
    try:
        assert kept.recovered is None
        assert sum(len(m.entities) for m in kept.manifests()) == built.entities
    finally:
        kept.close()


def test_the_same_model_opens_without_loading_it(tmp_path: Path) -> None:
    """The check costs a warm start nothing: the model loads only when the store's differs."""
    root, store = _root(tmp_path), tmp_path / "store"
    with Workspace(root, Settings(), encoder=FakeEncoder(model_id=GOOD_ID), store_dir=store) as ws:
        ws.index()
    calls: list[str] = []
    loader = ModelLoader(GOOD_ID, "all-MiniLM-L6-v2 (onnx-int8)", _failing_loader(calls).load)
    with Workspace(root, Settings(), model_loader=loader, store_dir=store) as ws:
        assert ws.index().unchanged == 2
    assert calls == []


# -- the probe -------------------------------------------------------------------------


class BrokenEncoder(FakeEncoder):
    def __init__(self, result: Callable[[int], Vectors]) -> None:
        super().__init__()
        self.result = result

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        return self.result(len(texts))


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        (lambda n: np.full((n, 32), np.nan, dtype=np.float32), "NaN or infinite values"),
        (lambda n: np.ones((n, 16), dtype=np.float32) / 4, "shape (1, 16), expected (1, 32)"),
        (lambda n: np.zeros((n, 32), dtype=np.float32), "norm 0, expected 1"),
    ],
)
def test_a_model_that_loads_but_gives_unusable_vectors_fails_to_load(
    monkeypatch: pytest.MonkeyPatch, result: Callable[[int], Vectors], problem: str
) -> None:
    monkeypatch.setitem(
        registry.BACKENDS, "broken", Backend(lambda s, t: BrokenEncoder(result), lambda s: "b")
    )
    monkeypatch.setattr(registry, "_loaded", {})
    with pytest.raises(ModelLoadError, match="gives unusable vectors") as failed:
        load_encoder(ModelSpec("tiny", "/m", True, "tiny:1"), backend="broken")
    assert problem in str(failed.value)
    assert registry._loaded == {}  # a failed probe is not kept for the next caller


def test_model_labels_are_the_names_users_know() -> None:
    assert model_id_label(GOOD_ID) == "all-MiniLM-L6-v2 (onnx-int8)"
    assert model_id_label("all-MiniLM-L6-v2:1009c0031c742c0b") == "all-MiniLM-L6-v2"
    assert model_id_label(f"hub:{BAD_NAME}+onnx-int8") == f"{BAD_NAME} (onnx-int8)"
    assert model_id_label("fake-model") == "fake-model"


# -- hub names: from the cache, or a fast failure ----------------------------------------


def _fake_hub_cache(base: Path, name: str) -> Path:
    """The layout huggingface_hub keeps a downloaded snapshot in."""
    repo = base / ("models--" + name.replace("/", "--"))
    snapshot = repo / "snapshots" / "0123456789abcdef0123456789abcdef01234567"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snapshot.name)
    return snapshot


def test_a_cached_hub_model_loads_from_its_snapshot_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    snapshot = _fake_hub_cache(tmp_path, BAD_NAME)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(hub, "_ask_hub", _no_network)
    spec = ModelSpec(BAD_NAME, BAD_NAME, False, f"hub:{BAD_NAME}")
    found = hub.locate_hub_model(spec)
    assert (found.source, found.local) == (str(snapshot), True)
    assert (found.name, found.model_id) == (spec.name, spec.model_id)  # same identity


def test_a_hub_model_not_cached_fails_at_once_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hub, "_ask_hub", _no_network)
    with pytest.raises(ModelLoadError) as failed:
        hub.locate_hub_model(ModelSpec(BAD_NAME, BAD_NAME, False, f"hub:{BAD_NAME}"))
    assert str(failed.value) == (
        f"could not load model {BAD_NAME!r}: not in the local cache and the network is off "
        f"(HF_HUB_OFFLINE); tried hub name {BAD_NAME} in the local cache {tmp_path}"
    )


def _no_network(*_: Any) -> None:
    raise AssertionError("the hub was asked")


# -- the language server's settings: through the service ---------------------------------


class Listener:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.statuses: list[ServiceStatus] = []
        self.lock = threading.Lock()

    def on_status(self, status: ServiceStatus) -> None:
        with self.lock:
            self.statuses.append(status)

    def on_progress(self, event: object) -> None:
        pass

    def on_problems(self, root: Path, problems: dict[str, FileProblem | None]) -> None:
        pass

    def on_error(self, message: str) -> None:
        self.errors.append(message)

    def on_warning(self, message: str) -> None:
        pass


def _factory(store: Path, good: FakeEncoder) -> Callable[[Path, Settings], Workspace]:
    """Workspaces as settings make them: "bad" names a model that cannot load."""

    def make(root: Path, settings: Settings) -> Workspace:
        if settings.model == "bad":
            return Workspace(root, settings, model_loader=_failing_loader(), store_dir=store)
        return Workspace(root, settings, encoder=good, store_dir=store)

    return make


def test_a_bad_model_setting_keeps_the_index_serving_and_on_disk(tmp_path: Path) -> None:
    root, store = _root(tmp_path), tmp_path / "store"
    good = FakeEncoder(model_id=GOOD_ID)
    listener = Listener()
    service = IndexService(Settings(), listener, workspace_factory=_factory(store, good))
    try:
        service.add_folder(root)
        assert service.wait_idle(30)
        embedded = service.status().embedded_total
        before = _files(store)

        service.update_settings(Settings(model="bad"))
        assert service.wait_idle(30)
        status = service.status()
        assert status.state == "error" and status.last_error is not None
        assert status.last_error.endswith("built with all-MiniLM-L6-v2 (onnx-int8) is kept")
        assert listener.errors[-1] == status.last_error
        hits = service.search("retry failed upload")  # the old index still answers
        assert hits and hits[0].hit.name == "retry_failed_upload"
        assert status.model == GOOD_ID and status.entities == 3
        assert _files(store) == before

        service.update_settings(Settings())  # back to the default model
        assert service.wait_idle(30)
        status = service.status()
        assert (status.state, status.last_error) == ("idle", None)
        assert status.embedded_total == embedded  # nothing embedded again
        assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "ws"]
    finally:
        service.shutdown()


def test_a_root_whose_model_failed_at_start_opens_once_the_setting_is_fixed(
    tmp_path: Path,
) -> None:
    root, store = _root(tmp_path), tmp_path / "store"
    good = FakeEncoder(model_id=GOOD_ID)
    with Workspace(root, Settings(), encoder=good, store_dir=store) as ws:
        ws.index()
    listener = Listener()
    service = IndexService(Settings(model="bad"), listener, workspace_factory=_factory(store, good))
    try:
        service.add_folder(root)
        assert service.wait_idle(30)
        assert service.status().state == "error" and service.workspace(root.resolve()) is None
        assert "is kept" in listener.errors[-1]
        service.update_settings(Settings())
        assert service.wait_idle(30)
        status = service.status()
        assert (status.state, status.entities, status.embedded_total) == ("idle", 3, 0)
    finally:
        service.shutdown()
