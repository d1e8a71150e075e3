"""Per-key debouncing: a burst of saves of one file becomes one piece of work."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Debouncer(Generic[K]):
    """A key is due once no new `touch(key)` arrived for `delay` seconds.

    Each touch of a key restarts only that key's wait, so a file saved ten times in a
    second is handed over once, while other files go on their own clocks. Keys that
    become due together (within a short grace window) are handed over together: one
    batch for the model.

    It keeps no thread of its own: its owner (the indexing worker) sleeps until
    `next_due()` and takes what `pop_due()` gives. The clock is a parameter, so tests
    run on a fake one.
    """

    def __init__(self, delay: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.delay = delay
        self._clock = clock
        self._lock = threading.Lock()
        self._due: dict[K, float] = {}
        self._closed = False

    def touch(self, key: K) -> None:
        with self._lock:
            if not self._closed:
                self._due[key] = self._clock() + self.delay

    def cancel(self, key: K) -> None:
        with self._lock:
            self._due.pop(key, None)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._due)

    def next_due(self) -> float | None:
        """When the earliest key is due (on the debouncer's clock), None if none waits."""
        with self._lock:
            return min(self._due.values(), default=None)

    def pop_due(self) -> list[K]:
        """Keys due now, and those due within the grace window after them."""
        now = self._clock()
        grace = min(0.05, self.delay / 2)
        with self._lock:
            if not any(due <= now for due in self._due.values()):
                return []
            ready = [key for key, due in self._due.items() if due <= now + grace]
            for key in ready:
                del self._due[key]
            return ready

    def pop_all(self) -> list[K]:
        """Everything pending, due or not (shutdown, tests)."""
        with self._lock:
            keys = list(self._due)
            self._due.clear()
            return keys

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._due.clear()
