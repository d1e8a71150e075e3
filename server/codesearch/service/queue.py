"""The indexing worker's queue: jobs waiting (coalesced by jobs.plan) and saves waiting out
their debounce. The worker sleeps here until the next job or the next due save, so no
timer thread is needed between a save and its indexing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from codesearch.debounce import Debouncer
from codesearch.service.jobs import Job, JobKind, pending_work, plan

SaveKey = tuple[Path, str]  # (root, path as the editor named it)


class JobQueue:
    """Thread-safe: the event loop and callers submit, the worker takes."""

    def __init__(self, debounce_s: float) -> None:
        self._cond = threading.Condition()
        self._jobs: list[Job] = []
        self._saves: Debouncer[SaveKey] = Debouncer(debounce_s)
        self._busy = False  # the worker holds a job it took
        self._stopping = False

    def submit(self, job: Job) -> bool:
        """Queue a job (coalesced with those waiting); False once stopping (its future is
        cancelled)."""
        with self._cond:
            if self._stopping:
                if job.future is not None:
                    job.future.cancel()
                return False
            self._jobs = plan(self._jobs, job)
            self._cond.notify_all()
            return True

    def save(self, key: SaveKey) -> None:
        """A saved file: handed over as a paths job once its debounce is over."""
        self._saves.touch(key)
        with self._cond:
            self._cond.notify_all()  # the worker recomputes how long to sleep

    def forget_save(self, key: SaveKey) -> None:
        self._saves.cancel(key)

    def pending(self) -> int:
        with self._cond:
            return pending_work(self._jobs) + self._saves.pending

    def roots_waiting(self) -> list[Path]:
        """Roots with a full pass waiting (they are roots before they are open)."""
        with self._cond:
            return [j.root for j in self._jobs if j.kind in (JobKind.INDEX, JobKind.REOPEN)]

    def empty(self) -> bool:
        with self._cond:
            return not self._jobs

    def take(self) -> Job | None:
        """The next job, once there is one (saves are handed over when due); None: stop."""
        with self._cond:
            while True:
                if self._stopping:
                    self._busy = False
                    self._cond.notify_all()
                    return None
                self._hand_over(self._saves.pop_due())
                if self._jobs:
                    self._busy = True
                    return self._jobs.pop(0)
                self._busy = False
                self._cond.notify_all()
                wake = self._saves.next_due()
                self._cond.wait(None if wake is None else max(0.0, wake - time.monotonic()))

    def wait_idle(self, timeout: float) -> bool:
        """Hand over every waiting save now, then wait until no job is left or running."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                self._hand_over(self._saves.pop_all())
                if not self._jobs and not self._busy:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))

    def stop(self) -> None:
        """Drop what waits and wake the worker so it ends."""
        self._saves.close()
        with self._cond:
            self._stopping = True
            self._jobs.clear()
            self._cond.notify_all()

    def _hand_over(self, keys: list[SaveKey]) -> None:
        """Due saves become one paths job per root (under the lock)."""
        by_root: dict[Path, set[str]] = {}
        for root, path in keys:
            by_root.setdefault(root, set()).add(path)
        for root, paths in by_root.items():
            self._jobs = plan(self._jobs, Job(JobKind.PATHS, root, paths=frozenset(paths)))
        if keys:
            self._cond.notify_all()
