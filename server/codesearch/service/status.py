"""The service's state as the editor sees it: typed states, counters, and when to tell.

Counts come from each root's catalog, which keeps them as files change, so a status costs
O(roots), not O(files): it is built on the editor's event loop after every save.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from codesearch.workspace import CatalogCounts, Workspace

# A burst of progress while indexing is sent at most this often (state changes at once).
MIN_INTERVAL_S = 0.25


class State(str, enum.Enum):
    STARTING = "starting"
    INDEXING = "indexing"
    IDLE = "idle"
    ERROR = "error"
    DISABLED = "disabled"


@dataclass(frozen=True)
class SharedCacheState:
    """The team's vector tier as the status shows it."""

    url: str  # without credentials
    problem: str | None  # one sentence while it does not answer


@dataclass(frozen=True)
class ServiceStatus:
    state: State
    entities: int
    files: int
    pending: int
    failed: int
    skipped: int
    model: str
    last_error: str | None
    progress: tuple[int, int] | None = None
    embedded_total: int = 0  # entities sent to the model since the service started
    paused: bool = False  # pause() until resume(): nothing is embedded
    shared_cache: SharedCacheState | None = None  # the team's vector tier, when one is set
    notice: str | None = None  # why searches rank by keywords alone now (None: they do not)

    def to_json(self) -> dict[str, Any]:
        return {
            "state": State(self.state).value,
            "entities": self.entities,
            "files": self.files,
            "pending": self.pending,
            "failed": self.failed,
            "skipped": self.skipped,
            "model": self.model,
            "lastError": self.last_error,
            "progress": (
                {"done": self.progress[0], "total": self.progress[1]} if self.progress else None
            ),
            "embeddedTotal": self.embedded_total,
            "paused": self.paused,
            "sharedCache": (
                {"url": self.shared_cache.url, "problem": self.shared_cache.problem}
                if self.shared_cache is not None
                else None
            ),
            "notice": self.notice,
        }


def shared_cache_state(workspaces: Iterable[Workspace]) -> SharedCacheState | None:
    """The first shared tier among the roots' (they share the settings), as shown."""
    tier = next((w.shared for w in workspaces if w.shared is not None), None)
    return SharedCacheState(tier.shown_url, tier.problem) if tier is not None else None


class StatusTracker:
    """State, last error, progress and the embedded total; decides which statuses to send.

    Thread-safe: the worker, the model loader and the event loop all report here.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.state = State.STARTING
        self.last_error: str | None = None
        self.progress: tuple[int, int] | None = None
        self.embedded_total = 0
        self.notice: str | None = None
        self._tier_problem: str | None = None
        self._reported_error: str | None = None
        self._last_sent: ServiceStatus | None = None
        self._last_sent_at = float("-inf")
        self._clock = clock
        self._lock = threading.Lock()

    def set_state(self, state: State) -> None:
        with self._lock:
            self.state = state

    def fail(self, message: str, *, source: str | None = None) -> bool:
        """Enter the error state; True when this error was not reported yet (say it once).

        `source` names where an error comes from when its words change while it lasts (an
        embedding endpoint's message counts its retries): one report per source until the
        service recovers; without it, one per message.
        """
        with self._lock:
            self.last_error = message
            self.state = State.ERROR
            token = source or message
            if self._reported_error == token:
                return False
            self._reported_error = token
            return True

    def tier_went_down(self, problem: str | None) -> bool:
        """The shared tier's problem after a run (None: it answers); True when it is new
        (warn once while it lasts)."""
        with self._lock:
            new = problem is not None and self._tier_problem is None
            self._tier_problem = problem
            return new

    def set_notice(self, notice: str | None) -> bool:
        """Why the last search ranked by keywords alone (None: it did not); True if changed."""
        with self._lock:
            changed = notice != self.notice
            self.notice = notice
            return changed

    def recover(self) -> bool:
        """A run went through after an error: leave the error state (True if it was in it)."""
        with self._lock:
            if self.state is not State.ERROR:
                return False
            self.last_error = None
            self._reported_error = None
            self.state = State.INDEXING
            return True

    def forget_reported_error(self) -> None:
        """New settings: the same error, if it comes again, is worth saying again."""
        with self._lock:
            self._reported_error = None

    def add_embedded(self, count: int) -> None:
        with self._lock:
            self.embedded_total += count

    def snapshot(
        self,
        counts: Iterable[CatalogCounts],
        pending: int,
        model: str,
        *,
        paused: bool = False,
        shared_cache: SharedCacheState | None = None,
    ) -> ServiceStatus:
        entities = files = failed = skipped = 0
        for each in counts:
            entities += each.entities
            files += each.files
            failed += each.failed
            skipped += sum(each.skipped.values())
        with self._lock:
            return ServiceStatus(
                self.state,
                entities,
                files,
                pending,
                failed,
                skipped,
                model,
                self.last_error,
                self.progress,
                self.embedded_total,
                paused,
                shared_cache,
                self.notice,
            )

    def should_send(self, status: ServiceStatus, *, force: bool = False) -> bool:
        """Whether to send `status`: always when forced (a state change); else only when it
        differs from the last one sent, and while indexing at most every MIN_INTERVAL_S."""
        now = self._clock()
        with self._lock:
            if not force:
                if status == self._last_sent:
                    return False
                if now - self._last_sent_at < MIN_INTERVAL_S and status.state is State.INDEXING:
                    return False
            self._last_sent = status
            self._last_sent_at = now
            return True
