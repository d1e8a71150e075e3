"""IndexService: many workspace roots, one dedicated indexing worker, no editor protocol.

The language server is a thin face over this: it forwards folders, saves and file events
here and turns the listener callbacks into LSP notifications. All indexing happens on the
worker thread, which also waits out the save debounce (no timer thread), so the server's
event loop stays free to answer requests; searches run on the caller's thread against the
in-memory indexes while the worker embeds. Each root's model starts loading on a thread of
its own as soon as the root is added, so the first search does not wait for all of it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from codesearch.config import Settings
from codesearch.embedding.types import DEFAULT_MODEL_NAME, Encoder, ModelLoadError
from codesearch.search import Hit, SearchFilters
from codesearch.service.jobs import Job, JobKind, all_of
from codesearch.service.problems import problems_update
from codesearch.service.queue import JobQueue
from codesearch.service.report import ServiceReport, build_report
from codesearch.service.status import ServiceStatus, State, StatusTracker
from codesearch.store import StoreError
from codesearch.workspace import (
    FileProblem,
    IndexProgress,
    IndexSummary,
    Workspace,
    search_workspaces,
)

log = logging.getLogger(__name__)

__all__ = [
    "IndexService",
    "ProgressEvent",
    "RootHit",
    "ServiceListener",
    "ServiceReport",
    "ServiceStatus",
    "State",
]


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


@dataclass(frozen=True)
class RootHit:
    root: Path
    hit: Hit


class IndexService:
    """Owns one Workspace per root and the single worker thread that indexes them."""

    def __init__(
        self,
        settings: Settings,
        listener: ServiceListener,
        *,
        encoder: Encoder | None = None,
        debounce_s: float = 0.3,
        workspace_factory: Callable[[Path, Settings], Workspace] | None = None,
    ) -> None:
        self.settings = settings
        self.listener = listener
        self._factory = workspace_factory or (lambda r, s: Workspace(r, s, encoder=encoder))
        self._workspaces: dict[Path, Workspace] = {}
        self._lock = threading.Lock()  # guards _workspaces
        self._queue = JobQueue(debounce_s)
        self._cancel = threading.Event()
        self._paused = threading.Event()
        self._stopping = False
        self._run = 0
        self._status = StatusTracker()
        self._worker = threading.Thread(target=self._loop, name="codesearch-indexer", daemon=True)
        self._worker.start()

    # -- public API (any thread) ----------------------------------------------------------
    @property
    def roots(self) -> list[Path]:
        with self._lock:
            return list(self._workspaces)

    def add_folder(self, root: Path | str) -> None:
        self._submit(Job(JobKind.INDEX, Path(root).resolve()))

    def remove_folder(self, root: Path | str) -> None:
        self._submit(Job(JobKind.CLOSE, Path(root).resolve()))

    def file_changed(self, path: Path | str) -> None:
        """A save or a watcher event: re-index the file after the debounce (on the worker)."""
        target = Path(path)
        root = self.root_for(target)
        if root is None:
            return
        self._queue.save((root, str(target)))
        self._notify_status()

    def files_removed(self, paths: Iterable[Path | str]) -> None:
        for path in paths:
            target = Path(path)
            root = self.root_for(target)
            if root is not None:
                self._queue.forget_save((root, str(target)))
                self._submit(Job(JobKind.REMOVE, root, paths=frozenset({str(target)})))

    def reindex(self, *, force: bool = False) -> Future[list[IndexSummary]]:
        """Every root, incrementally (or everything re-embedded with force)."""
        return self._fan_out(JobKind.INDEX, force)

    def clear(self) -> Future[list[IndexSummary]]:
        return self._fan_out(JobKind.CLEAR, False)

    def cancel_current(self) -> None:
        self._cancel.set()

    def pause(self) -> None:
        self._paused.set()
        self._cancel.set()
        self._notify_status(force=True)

    def resume(self) -> None:
        self._paused.clear()
        for root in self.roots:
            self._submit(Job(JobKind.INDEX, root))

    def update_settings(self, settings: Settings) -> None:
        """Apply new settings: reopen the workspaces and bring them up to date."""
        old = self.settings
        self.settings = settings
        if not settings.enable:
            self.cancel_current()
            self._set_state(State.DISABLED)
            return
        if settings == old and self._status.state is not State.DISABLED:
            return
        self._status.forget_reported_error()
        for root in self.roots:
            self._submit(Job(JobKind.CLOSE, root, force=True))
            self._submit(Job(JobKind.INDEX, root))

    def root_for(self, path: Path | str) -> Path | None:
        """The innermost workspace root holding path (multi-root folders may nest)."""
        target = Path(path)
        best: Path | None = None
        roots = self.roots + self._queue.roots_waiting()
        for root in roots:
            inside = target == root or target.is_relative_to(root)
            if inside and (best is None or len(root.parts) > len(best.parts)):
                best = root
        return best

    def workspace(self, root: Path) -> Workspace | None:
        with self._lock:
            return self._workspaces.get(root)

    def search(
        self, query: str, *, limit: int = 20, filters: SearchFilters | None = None
    ) -> list[RootHit]:
        """Search every root (what is indexed so far) as one index, best first."""
        if not self.settings.enable:
            return []
        opened = self._open_workspaces()
        root_of = {id(ws): root for root, ws in opened}
        found = search_workspaces([ws for _, ws in opened], query, limit=limit, filters=filters)
        return [RootHit(root_of[id(ws)], hit) for ws, hit in found]

    def similar(self, path: Path, line: int, *, limit: int = 20) -> list[RootHit]:
        owner = self._owner(path)
        if owner is None:
            return []
        return [RootHit(owner[0], h) for h in owner[1].similar(path, line, limit=limit)]

    def entity_at(self, path: Path, line: int) -> tuple[Path, Hit] | None:
        owner = self._owner(path)
        found = owner[1].entity_at(path, line) if owner is not None else None
        return (owner[0], found[1]) if owner is not None and found else None

    def _owner(self, path: Path) -> tuple[Path, Workspace] | None:
        root = self.root_for(path)
        workspace = self.workspace(root) if root is not None else None
        return (root, workspace) if root is not None and workspace is not None else None

    def status(self) -> ServiceStatus:
        """O(roots): each root's catalog keeps its counts as files change."""
        pending = self._queue.pending()
        workspaces = [ws for _, ws in self._open_workspaces()]
        model = workspaces[0].model_name if workspaces else self.settings.model
        counts = (w.counts() for w in workspaces)
        paused = self._paused.is_set()
        return self._status.snapshot(counts, pending, model or DEFAULT_MODEL_NAME, paused=paused)

    def report(self) -> ServiceReport:  # the status, and each failed or skipped file named
        return build_report(self.status(), self._open_workspaces())

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is pending (tests, CLI, shutdown)."""
        return self._queue.wait_idle(timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop after the batch in flight (vectors of finished batches are kept)."""
        self._stopping = True
        self._queue.stop()
        self._cancel.set()
        self._worker.join(timeout)
        with self._lock:
            workspaces = list(self._workspaces.values())
            self._workspaces.clear()
        for workspace in workspaces:
            try:
                workspace.close()
            except Exception:
                log.exception("closing %s failed", workspace.root)

    # -- the queue ------------------------------------------------------------------------
    def _open_workspaces(self) -> list[tuple[Path, Workspace]]:
        with self._lock:
            return list(self._workspaces.items())

    def _fan_out(self, kind: JobKind, force: bool) -> Future[list[IndexSummary]]:
        futures: list[Future[Any]] = []
        for root in self.roots:
            futures.append(Future())
            self._submit(Job(kind, root, force=force, future=futures[-1]))
        return all_of(futures)

    def _submit(self, job: Job) -> None:
        if self._queue.submit(job):
            self._notify_status()

    def _loop(self) -> None:
        while (job := self._queue.take()) is not None:
            self._cancel.clear()
            try:
                result = self._run_job(job)
                if job.future is not None and not job.future.done():
                    job.future.set_result(result)
            except BaseException as exc:  # the worker must survive anything
                log.exception("indexing job %s for %s failed", job.kind.value, job.root)
                if self._status.state is not State.ERROR:  # unexpected failures are errors too
                    self._fail(f"indexing {job.root} failed: {type(exc).__name__}: {exc}")
                if job.future is not None and not job.future.done():
                    job.future.set_exception(exc)
            finally:
                if self._queue.empty() and self._status.state in (State.INDEXING, State.STARTING):
                    self._set_state(State.IDLE)
                else:
                    self._notify_status(force=True)

    # -- running one job (on the worker) -------------------------------------------------
    def _workspace_for(self, root: Path) -> Workspace:
        existing = self.workspace(root)
        if existing is not None:
            return existing
        workspace = self._factory(root, self.settings)
        # searches need the model; a warm index does not need it to index: load it beside
        # opening the index and the scan, so the first search after a restart waits little
        workspace.load_model_in_background(self._model_load_failed)
        workspace.open()
        with self._lock:
            self._workspaces[root] = workspace
        recovered = workspace.store.recovered if workspace.store is not None else None
        if recovered:  # said once: the next open finds a healthy store
            try:
                self.listener.on_warning(recovered)
            except Exception:
                log.exception("warning listener failed: %s", recovered)
        return workspace

    def _model_load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ModelLoadError):
            self._fail(str(exc))
        else:
            log.error("loading the model failed", exc_info=exc)

    def _run_job(self, job: Job) -> IndexSummary | None:
        if job.kind is JobKind.CLOSE:
            with self._lock:
                workspace = self._workspaces.pop(job.root, None)
            cleared = _cleared(workspace) if workspace is not None else {}
            if workspace is not None:
                workspace.close()
            if cleared and not job.force:  # force: a settings change, the root comes back
                self.listener.on_problems(job.root, cleared)
            return None
        if not self.settings.enable:
            self._set_state(State.DISABLED)
            return None
        try:
            workspace = self._workspace_for(job.root)
            if job.kind is JobKind.CLEAR:
                cleared = _cleared(workspace)
                workspace.clear()
                if cleared:
                    self.listener.on_problems(job.root, cleared)
                job = replace(job, kind=JobKind.INDEX)
            return self._index(workspace, job)
        except (ModelLoadError, StoreError, FileNotFoundError, ValueError) as exc:
            self._fail(str(exc))
            raise

    def _index(self, workspace: Workspace, job: Job) -> IndexSummary:
        before = {p.path for p in workspace.problems()}
        self._run += 1
        report = _ProgressReporter(self, self._run)

        def should_stop() -> bool:
            return self._cancel.is_set() or self._stopping or self._paused.is_set()

        try:
            if job.kind is JobKind.PATHS:
                summary = workspace.index_paths(
                    sorted(job.paths), progress=report, should_stop=should_stop
                )
            elif job.kind is JobKind.REMOVE:
                summary = workspace.remove_paths(sorted(job.paths))
            else:
                summary = workspace.index(force=job.force, progress=report, should_stop=should_stop)
        finally:
            report.end()
        self._status.add_embedded(summary.embedded)
        model_failed = workspace.model.error is not None  # a failed load is no recovery
        if not summary.cancelled and not model_failed and self._status.recover():
            self._notify_status(force=True)
        now = {p.path: p for p in workspace.problems()}
        update = problems_update(before, now, summary.changed_paths)
        if update:
            self.listener.on_problems(workspace.root, update)
        if summary.cancelled and self._paused.is_set():
            log.info("indexing paused for %s", workspace.root)
        return summary

    # -- telling the listener ----------------------------------------------------------
    def _fail(self, message: str) -> None:
        first_time = self._status.fail(message)
        self._notify_status(force=True)
        if first_time:
            self.listener.on_error(message)

    def _set_state(self, state: State) -> None:
        self._status.set_state(state)
        self._notify_status(force=True)

    def _notify_status(self, force: bool = False) -> None:
        status = self.status()
        if not self._status.should_send(status, force=force):
            return
        try:
            self.listener.on_status(status)
        except Exception:
            log.exception("status listener failed")


def _cleared(workspace: Workspace) -> dict[str, FileProblem | None]:
    """Diagnostics that clear every problem of a root (closed or cleared)."""
    return {p.path: None for p in workspace.problems()}


class _ProgressReporter:
    """Turns one run's IndexProgress into begin/report/end events (at most every 0.2 s)."""

    def __init__(self, service: IndexService, run: int) -> None:
        self._service = service
        self._run = run
        self._started = False
        self._last_report = 0.0

    def __call__(self, update: IndexProgress) -> None:
        if update.phase != "embedding" or not update.total:
            return
        service = self._service
        service._status.progress = (update.done, update.total)
        message = f"Indexing {update.done}/{update.total} entities"
        now = time.monotonic()
        if not self._started:
            self._started = True
            service._set_state(State.INDEXING)
            service.listener.on_progress(
                ProgressEvent("begin", self._run, update.done, update.total, message)
            )
        elif now - self._last_report >= 0.2 or update.done == update.total:
            self._last_report = now
            service.listener.on_progress(
                ProgressEvent("report", self._run, update.done, update.total, message)
            )
            service._notify_status()

    def end(self) -> None:
        service = self._service
        if self._started:
            done, total = service._status.progress or (0, 0)
            service.listener.on_progress(
                ProgressEvent("end", self._run, done, total, "Indexing finished")
            )
        service._status.progress = None
