"""The per-file debouncer on its own: bursts coalesce, other keys keep their own clocks."""

from __future__ import annotations

import threading
import time

from codesearch.debounce import Debouncer


def collect() -> tuple[list[list[str]], threading.Event, Debouncer[str]]:
    fired: list[list[str]] = []
    event = threading.Event()

    def fire(keys: list[str]) -> None:
        fired.append(sorted(keys))
        event.set()

    return fired, event, Debouncer(0.15, fire)


def test_burst_of_touches_fires_once() -> None:
    fired, event, debouncer = collect()
    for _ in range(20):
        debouncer.touch("a.py")
        time.sleep(0.01)
    assert event.wait(2)
    time.sleep(0.3)
    assert fired == [["a.py"]]


def test_newer_touch_restarts_only_its_own_wait() -> None:
    fired, event, debouncer = collect()
    debouncer.touch("a.py")
    time.sleep(0.1)
    debouncer.touch("b.py")
    assert event.wait(2)
    time.sleep(0.3)
    assert fired == [["a.py"], ["b.py"]]


def test_keys_due_together_fire_together_and_cancel_drops() -> None:
    fired, event, debouncer = collect()
    debouncer.touch("a.py")
    debouncer.touch("b.py")
    debouncer.touch("c.py")
    debouncer.cancel("c.py")
    assert event.wait(2)
    time.sleep(0.2)
    assert fired == [["a.py", "b.py"]]


def test_flush_and_close() -> None:
    fired, _, debouncer = collect()
    debouncer.touch("a.py")
    assert debouncer.pending == 1
    debouncer.flush()
    assert fired == [["a.py"]] and debouncer.pending == 0
    debouncer.close()
    debouncer.touch("b.py")
    time.sleep(0.3)
    assert fired == [["a.py"]]
