"""With the real model: after a warm restart the model is loaded without any search asking
for it, and a search made right after the start finds what it should (issue 12, bug 6)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from codesearch.config import Settings
from codesearch.service import IndexService
from codesearch.workspace import Workspace

pytestmark = pytest.mark.slow


class Silent:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def test_warm_restart_loads_the_model_before_any_search(
    workspace_copy: Path, shipped_model: Any, tmp_path: Path
) -> None:
    settings = Settings(store_dir=str(tmp_path / "stores"))
    with Workspace(workspace_copy, settings, encoder=shipped_model) as first:
        assert first.index().entities >= 15  # the store is warm from here on
    service = IndexService(settings, Silent())  # loads the model the way the server does
    try:
        service.add_folder(workspace_copy)
        deadline = time.monotonic() + 60
        workspace = None
        while workspace is None or not workspace.model_loaded:
            assert time.monotonic() < deadline, "the model was never loaded"
            workspace = service.workspace(workspace_copy.resolve())
            time.sleep(0.01)
        assert workspace.model_name == "all-MiniLM-L6-v2 (onnx-int8)"
        hits = service.search("retry failed uploads", limit=3)
        assert hits and hits[0].hit.name == "retry_failed_upload"
        assert service.wait_idle(60) and service.status().embedded_total == 0
    finally:
        service.shutdown()
