"""The parse-ahead helper of a cold index: what the model's thread sees of it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from codesearch.entities import Entity
from codesearch.index.scan import ScannedFile
from codesearch.workspace import pipeline


def _item(index: int, entities: int) -> Any:
    work = pipeline.FileWork(ScannedFile(f"f{index}.py", Path(f"f{index}.py"), 1, 1, "python"))
    work.entities = [
        Entity(f"f{index}.py", f"fn{n}", "function", "python", n + 1, n + 1, "pass")
        for n in range(entities)
    ]
    return work


class _Stub:
    """A parse function that waits until the test lets it go."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.parsed: list[str] = []

    def parse(self, item: Any) -> None:
        self.go.wait(10)
        self.parsed.append(item.scanned.rel_path)


def _wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_busy_while_parsing_and_idle_once_done() -> None:
    stub = _Stub()
    ahead = pipeline.ParseAhead([_item(0, 3)], stub.parse, should_stop=None)
    try:
        _wait_for(ahead.is_busy)  # parsing (held by the stub): the model should spare a core
        stub.go.set()
        chunks = list(ahead.chunks())
        assert [len(c) for c in chunks] == [1]
        _wait_for(lambda: not ahead.is_busy())
    finally:
        ahead.stop()


def test_chunks_waiting_for_the_model_are_merged_in_order() -> None:
    """Ten files of 100 entities are queued as chunks of 100, 600 and 300 entities (the
    first small so the model starts at once); a model that comes for them late gets them
    as one chunk, which sorts by length better than three."""
    stub = _Stub()
    stub.go.set()
    items = [_item(i, 100) for i in range(10)]
    ahead = pipeline.ParseAhead(items, stub.parse, should_stop=None)
    try:
        _wait_for(lambda: ahead._queue.qsize() >= 3)
        chunks = list(ahead.chunks())
    finally:
        ahead.stop()
    assert len(chunks) == 1
    assert [w.scanned.rel_path for w in chunks[0]] == [f"f{i}.py" for i in range(10)]
    assert ahead.entities_parsed == 1000
