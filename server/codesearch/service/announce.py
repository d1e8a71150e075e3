"""What the service tells its listener: status, progress, errors and warnings.

One owner for "when is it worth saying": an error is said once while it lasts, a status
no more often than the tracker allows, progress at most every 0.2 s. Callbacks arrive on
the worker thread; a listener that fails is logged, never allowed to stop indexing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from codesearch.service.status import ServiceStatus, State, StatusTracker
from codesearch.workspace import FileProblem, IndexProgress, Workspace

log = logging.getLogger(__name__)

# Errors of the model (local or remote) share one report while they last: a remote
# endpoint's message counts its retries, so its words change with every try.
MODEL_ERROR = "model"


@dataclass(frozen=True)
class ProgressEvent:
    kind: str  # "begin" | "report" | "end"
    run: int  # one id per indexing run
    done: int
    total: int
    message: str


class ServiceListener(Protocol):
    """Callbacks from the worker thread; implementations hand them to their own loop."""

    def on_status(self, status: ServiceStatus) -> None: ...

    def on_progress(self, event: ProgressEvent) -> None: ...

    def on_problems(self, root: Path, problems: dict[str, FileProblem | None]) -> None: ...

    def on_error(self, message: str) -> None: ...

    def on_warning(self, message: str) -> None: ...


class Announcer:
    """Sends statuses, errors and warnings to the listener, each when it is worth saying."""

    def __init__(
        self,
        tracker: StatusTracker,
        listener: ServiceListener,
        current: Callable[[], ServiceStatus],
    ) -> None:
        self._tracker = tracker
        self.listener = listener
        self._current = current  # the service's status now (counts from every root)

    def status_changed(self, force: bool = False) -> None:
        status = self._current()
        if not self._tracker.should_send(status, force=force):
            return
        try:
            self.listener.on_status(status)
        except Exception:
            log.exception("status listener failed")

    def set_state(self, state: State) -> None:
        self._tracker.set_state(state)
        self.status_changed(force=True)

    def fail(self, message: str, *, source: str | None = None) -> None:
        first_time = self._tracker.fail(message, source=source)
        self.status_changed(force=True)
        if first_time:
            self.listener.on_error(message)

    def warn(self, message: str) -> None:
        try:
            self.listener.on_warning(message)
        except Exception:
            log.exception("warning listener failed: %s", message)

    def progress(self, event: ProgressEvent) -> None:
        self.listener.on_progress(event)

    def report_sources(self, workspace: Workspace) -> bool:
        """After a run: a provider that is down is an error said once while it lasts (True:
        its entities wait for the next run), a shared tier that is down one warning."""
        problem = workspace.embedding_problem
        if problem is not None:
            self.fail(problem, source=MODEL_ERROR)
        tier = workspace.shared.problem if workspace.shared is not None else None
        if self._tracker.tier_went_down(tier) and tier is not None:
            self.warn(tier)
        return problem is not None


class ProgressReporter:
    """Turns one run's IndexProgress into begin/report/end events (at most every 0.2 s)."""

    def __init__(self, announce: Announcer, tracker: StatusTracker, run: int) -> None:
        self._announce = announce
        self._tracker = tracker
        self._run = run
        self._started = False
        self._last_report = 0.0

    def __call__(self, update: IndexProgress) -> None:
        if update.phase != "embedding" or not update.total:
            return
        self._tracker.progress = (update.done, update.total)
        message = f"Indexing {update.done}/{update.total} entities"
        now = time.monotonic()
        if not self._started:
            self._started = True
            self._announce.set_state(State.INDEXING)
            self._announce.progress(
                ProgressEvent("begin", self._run, update.done, update.total, message)
            )
        elif now - self._last_report >= 0.2 or update.done == update.total:
            self._last_report = now
            self._announce.progress(
                ProgressEvent("report", self._run, update.done, update.total, message)
            )
            self._announce.status_changed()

    def end(self) -> None:
        if self._started:
            done, total = self._tracker.progress or (0, 0)
            self._announce.progress(
                ProgressEvent("end", self._run, done, total, "Indexing finished")
            )
        self._tracker.progress = None
