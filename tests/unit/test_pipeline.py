"""The index pipeline keeps one embedder and one text preparator per workspace: building
them on every save made a private tokenizer copy per save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.embedding import batch
from codesearch.workspace import Workspace


def test_saves_reuse_the_one_preparator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[Any] = []

    class Counted(batch.TextPreparator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(batch, "TextPreparator", Counted)
    root = tmp_path / "ws"
    root.mkdir()
    target = root / "a.py"
    target.write_text("def first():\n    return 1\n")
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "s") as ws:
        ws.index()
        for number in range(3):
            target.write_text(f"def edited_{number}():\n    return {number}\n")
            assert ws.index_paths([target]).embedded == 1
    assert len(made) == 1
