"""Fixtures of the reliability suite: one small real corpus and its clean reference index."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.support import Snapshot, build_corpus, snapshot

from codesearch.config import Settings
from codesearch.workspace import Workspace

BATCH_SIZE = 4  # small batches: many commit points for the kills to land between
FIGURES_ENV = "CODESEARCH_RELIABILITY_FIGURES"  # a JSON-lines file to collect figures in


@dataclass
class Reference:
    root: Path
    snapshot: Snapshot
    seconds: float  # a warm, in-process cold index: how long there is to kill into
    entities: int
    model_id: str


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("corpus") / "project")


@pytest.fixture(scope="session")
def reference(
    corpus: Path, shipped_model: Any, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    """A clean from-scratch index of the corpus, with the real model as shipped (int8), the
    one the CLI and server children load by default."""
    model = shipped_model
    store = tmp_path_factory.mktemp("reference") / "store"
    started = time.perf_counter()
    with Workspace(corpus, Settings(batch_size=BATCH_SIZE), encoder=model, store_dir=store) as ws:
        summary = ws.index()
    seconds = time.perf_counter() - started
    assert summary.failed == 0 and summary.entities >= 80, summary
    snap = snapshot(store, model.model_id)
    assert snap.entity_count == summary.entities
    return Reference(corpus, snap, seconds, summary.entities, model.model_id)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """What a test proved (trials, faults, inputs), printed and optionally collected."""
    found: dict[str, Any] = {}
    yield found
    if not found:
        return
    line = json.dumps({"test": request.node.name, **found}, sort_keys=True)
    print(f"\nFIGURES {line}")
    target = os.environ.get(FIGURES_ENV)
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
