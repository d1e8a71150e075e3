"""Per-key debouncing: a burst of saves of one file becomes one piece of work."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Debouncer(Generic[K]):
    """Calls `fire(keys)` once no new `touch(key)` arrived for `delay` seconds.

    Each touch of a key restarts only that key's wait, so a file saved ten times in a
    second is handed over once, while other files go on their own clocks. Keys that
    become due together are handed over in one call (one batch for the model).
    """

    def __init__(self, delay: float, fire: Callable[[list[K]], None]) -> None:
        self.delay = delay
        self._fire = fire
        self._lock = threading.Lock()
        self._due: dict[K, float] = {}
        self._timer: threading.Timer | None = None
        self._clock: Callable[[], float] = _monotonic
        self._closed = False

    def touch(self, key: K) -> None:
        with self._lock:
            if self._closed:
                return
            self._due[key] = self._clock() + self.delay
            self._arm()

    def cancel(self, key: K) -> None:
        with self._lock:
            self._due.pop(key, None)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._due)

    def flush(self) -> None:
        """Hand over everything pending now (shutdown, tests)."""
        with self._lock:
            keys = list(self._due)
            self._due.clear()
        if keys:
            self._fire(keys)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._due.clear()
            if self._timer is not None:
                self._timer.cancel()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if not self._due:
            self._timer = None
            return
        wait = max(0.0, min(self._due.values()) - self._clock())
        self._timer = threading.Timer(wait, self._tick)
        self._timer.daemon = True
        self._timer.start()

    def _tick(self) -> None:
        now = self._clock()
        with self._lock:
            # keys due within a short grace window go together: one batch for the model
            grace = min(0.05, self.delay / 2)
            ready = [k for k, due in self._due.items() if due <= now + grace]
            for key in ready:
                del self._due[key]
            self._arm()
        if ready:
            self._fire(ready)


def _monotonic() -> float:
    import time

    return time.monotonic()
