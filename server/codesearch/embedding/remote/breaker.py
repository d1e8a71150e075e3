"""A circuit breaker: an endpoint that is down costs one message, not one per batch.

Without it, every batch of a 100,000-function index would wait through its own retries
against a dead server and log its own failure. After a few consecutive failed attempts (by
any thread) the breaker opens: calls fail at once with the first clear reason, and one
warning is logged. After a cool-down one caller is let through as a trial; success closes
the breaker (logged once), failure opens it again for twice as long (up to a cap).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Literal

from codesearch.embedding.types import EncoderUnavailable

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Thread-safe; `check()` before each attempt, then `succeeded()` or `failed(reason)`."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 3,
        cooldown_s: float = 15.0,
        max_cooldown_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.name = name
        self.failure_threshold = failure_threshold
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state: State = "closed"
        self._failures = 0
        self._reason: str | None = None
        self._cooldown_s = cooldown_s
        self._opened_at = 0.0
        self._trial_running = False

    @property
    def state(self) -> State:
        with self._lock:
            return self._state

    @property
    def problem(self) -> str | None:
        """Why the endpoint is unusable (None while it works): what a status bar shows."""
        with self._lock:
            return None if self._state == "closed" else self._message()

    def check(self) -> None:
        """Raise EncoderUnavailable at once while open; let one trial through after the
        cool-down."""
        with self._lock:
            if self._state == "closed":
                return
            if self._state == "open" and self._clock() - self._opened_at >= self._cooldown_s:
                self._state = "half-open"
                self._trial_running = False
            if self._state == "half-open" and not self._trial_running:
                self._trial_running = True
                return
            raise EncoderUnavailable(self._message())

    def succeeded(self) -> None:
        with self._lock:
            recovered = self._state != "closed"
            self._state = "closed"
            self._failures = 0
            self._reason = None
            self._cooldown_s = self.base_cooldown_s
            self._trial_running = False
        if recovered:
            log.info("embedding endpoint %s answers again", self.name)

    def release_trial(self) -> None:
        """The trial ended without telling whether the endpoint works: let another try."""
        with self._lock:
            self._trial_running = False

    def failed(self, reason: str, *, definitive: bool = False) -> None:
        """One failed attempt; `definitive` (wrong key, wrong model) opens it at once."""
        with self._lock:
            self._failures += 1
            if self._state == "half-open":
                # the trial failed: wait longer before the next one, and say nothing new
                self._cooldown_s = min(self._cooldown_s * 2, self.max_cooldown_s)
                self._open(reason)
                return
            if self._state == "open":
                return
            if not definitive and self._failures < self.failure_threshold:
                return
            self._open(reason)
            message = self._message()
        log.warning("%s", message)

    def _open(self, reason: str) -> None:
        self._state = "open"
        self._reason = reason
        self._opened_at = self._clock()
        self._trial_running = False

    def _message(self) -> str:
        return (
            f"embedding endpoint {self.name} is unavailable ({self._reason}); "
            f"texts wait for the next index (next try in {self._cooldown_s:.0f} s)"
        )
