"""The model starts loading as soon as a root's index is open, on a thread of its own
(issue 12, bug 6): the first search after a warm restart no longer waits for the whole
load, and indexing never waits for it when nothing changed."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.embedding.types import Encoder
from codesearch.service import IndexService
from codesearch.workspace import ModelLoader, Workspace


class Silent:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_model_loads_beside_the_index_and_never_holds_it_up(tmp_path: Path) -> None:
    root, store = tmp_path / "ws", tmp_path / "store"
    root.mkdir()
    (root / "upload.py").write_text("def retry_failed_upload(path):\n    return send(path)\n")
    encoder = FakeEncoder()
    with Workspace(root, Settings(), encoder=encoder, store_dir=store) as warm:
        warm.index()  # a warm store: nothing to index at the next start

    release = threading.Event()
    loaded_on: list[str] = []

    def slow_load() -> Encoder:
        loaded_on.append(threading.current_thread().name)
        release.wait(30)
        return encoder

    loader = ModelLoader(encoder.model_id, "fake", slow_load)
    service = IndexService(
        Settings(),
        Silent(),
        workspace_factory=lambda r, s: Workspace(r, s, model_loader=loader, store_dir=store),
    )
    try:
        service.add_folder(root)
        wait_until(lambda: loaded_on)  # started without any search asking for it
        assert loaded_on[0] not in ("codesearch-indexer", threading.current_thread().name)
        # the index pass and a reindex finish while the load is still held
        assert service.wait_idle(10)
        assert service.reindex().result(10)[0].unchanged == 1
        workspace = service.workspace(root.resolve())
        assert workspace is not None and not workspace.model_loaded
        calls = len(encoder.calls)
        release.set()
        wait_until(lambda: workspace.model_loaded)
        hits = service.search("retry failed upload")
        assert [rh.hit.name for rh in hits[:1]] == ["retry_failed_upload"]
        assert len(encoder.calls) == calls + 1 and loaded_on == [loaded_on[0]]  # loaded once
    finally:
        release.set()
        service.shutdown()


def test_a_model_that_cannot_load_puts_the_service_in_error(tmp_path: Path) -> None:
    from codesearch.embedding.types import ModelLoadError

    root = tmp_path / "ws"
    root.mkdir()
    errors: list[str] = []

    class Listener(Silent):
        def on_error(self, message: str) -> None:
            errors.append(message)

    def broken() -> Encoder:
        raise ModelLoadError("no model at /nowhere")

    loader = ModelLoader("broken-model", "broken", broken)
    service = IndexService(
        Settings(),
        Listener(),
        workspace_factory=lambda r, s: Workspace(
            r, s, model_loader=loader, store_dir=tmp_path / "s"
        ),
    )
    try:
        service.add_folder(root)
        wait_until(lambda: errors)
        assert errors == ["no model at /nowhere"]
        assert service.wait_idle(10)
        assert service.status().state == "error"
    finally:
        service.shutdown()
