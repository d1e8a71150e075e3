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
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codesearch.config import Settings
from codesearch.embedding.types import DEFAULT_MODEL_NAME, Encoder, ModelLoadError
from codesearch.search import Hit, SearchFilters
from codesearch.service.announce import (
    MODEL_ERROR,
    Announcer,
    ProgressEvent,
    ProgressReporter,
    ServiceListener,
)
from codesearch.service.jobs import Job, JobKind, all_of
from codesearch.service.problems import problems_update
from codesearch.service.queue import JobQueue
from codesearch.service.report import ServiceReport, build_report
from codesearch.service.roots import Roots
from codesearch.service.status import ServiceStatus, State, StatusTracker, shared_cache_state
from codesearch.store import StoreError
from codesearch.workspace import (
    FileProblem,
    IndexSummary,
    SearchHits,
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
        self._roots = Roots()
        self._queue = JobQueue(debounce_s)
        self._cancel = threading.Event()
        self._paused = threading.Event()
        self._stopping = False
        self._run = 0
        self._status = StatusTracker()
        self._announce = Announcer(self._status, listener, self.status)
        self._worker = threading.Thread(target=self._loop, name="codesearch-indexer", daemon=True)
        self._worker.start()

    # -- public API (any thread) ----------------------------------------------------------
    @property
    def roots(self) -> list[Path]:
        return self._roots.asked()

    def add_folder(self, root: Path | str) -> None:
        self._roots.ask(Path(root).resolve())
        self._submit(Job(JobKind.INDEX, Path(root).resolve()))

    def remove_folder(self, root: Path | str) -> None:
        self._roots.drop(Path(root).resolve())
        self._submit(Job(JobKind.CLOSE, Path(root).resolve()))

    def file_changed(self, path: Path | str) -> None:
        """A save or a watcher event: re-index the file after the debounce (on the worker)."""
        target = Path(path)
        root = self.root_for(target)
        if root is None:
            return
        self._queue.save((root, str(target)))
        self._announce.status_changed()

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
        self._announce.status_changed(force=True)

    def resume(self) -> None:
        self._paused.clear()
        for root in self.roots:
            self._submit(Job(JobKind.INDEX, root))

    def update_settings(self, settings: Settings) -> None:
        """Apply new settings: reopen the workspaces and bring them up to date. Each keeps
        serving until its replacement is open; one whose model fails to load never is."""
        old = self.settings
        self.settings = settings
        if not settings.enable:
            self.cancel_current()
            self._announce.set_state(State.DISABLED)
            return
        if settings == old and self._status.state is not State.DISABLED:
            return
        self._status.forget_reported_error()
        for root in self._roots.asked():
            self._submit(Job(JobKind.REOPEN, root))

    def root_for(self, path: Path | str) -> Path | None:
        """The innermost workspace root holding path (multi-root folders may nest)."""
        return self._roots.innermost(Path(path), self._queue.roots_waiting())

    def workspace(self, root: Path) -> Workspace | None:
        return self._roots.get(root)

    def search(
        self, query: str, *, limit: int = 20, filters: SearchFilters | None = None
    ) -> SearchHits[RootHit]:
        """Every root (what is indexed so far) as one index, best first (with a notice)."""
        if not self.settings.enable:
            return SearchHits()
        opened = self._roots.items()
        root_of = {id(ws): root for root, ws in opened}
        found = search_workspaces([ws for _, ws in opened], query, limit=limit, filters=filters)
        if self._status.set_notice(found.notice):
            self._announce.status_changed(force=True)
        return SearchHits((RootHit(root_of[id(ws)], hit) for ws, hit in found), found.notice)

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
        return self._roots.owner(Path(path), self._queue.roots_waiting())

    def status(self) -> ServiceStatus:
        """O(roots): each root's catalog keeps its counts as files change."""
        workspaces = [ws for _, ws in self._roots.items()]
        model = workspaces[0].model_name if workspaces else self.settings.model
        counts, tier = (w.counts() for w in workspaces), shared_cache_state(workspaces)
        paused, pending = self._paused.is_set(), self._queue.pending()
        model = model or DEFAULT_MODEL_NAME
        return self._status.snapshot(counts, pending, model, paused=paused, shared_cache=tier)

    def report(self) -> ServiceReport:  # the status, and each failed or skipped file named
        return build_report(self.status(), self._roots.items())

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is pending (tests, CLI, shutdown)."""
        return self._queue.wait_idle(timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop after the batch in flight (vectors of finished batches are kept)."""
        self._stopping = True
        self._queue.stop()
        self._cancel.set()
        self._worker.join(timeout)
        for workspace in self._roots.pop_all():
            try:
                workspace.close()
            except Exception:
                log.exception("closing %s failed", workspace.root)

    # -- the queue ------------------------------------------------------------------------
    def _fan_out(self, kind: JobKind, force: bool) -> Future[list[IndexSummary]]:
        futures: list[Future[Any]] = []
        for root in self.roots:
            futures.append(Future())
            self._submit(Job(kind, root, force=force, future=futures[-1]))
        return all_of(futures)

    def _submit(self, job: Job) -> None:
        if self._queue.submit(job):
            self._announce.status_changed()

    def _loop(self) -> None:
        while (job := self._queue.take()) is not None:
            self._cancel.clear()
            try:
                result = self._run_job(job)
                if job.future is not None and not job.future.done():
                    job.future.set_result(result)
            except BaseException as exc:  # the worker must survive anything
                trace = not isinstance(exc, ModelLoadError)  # a model's error says it all
                log.error(
                    "indexing job %s for %s failed: %s",
                    job.kind.value,
                    job.root,
                    exc,
                    exc_info=trace,
                )
                if self._status.state is not State.ERROR:  # unexpected failures are errors too
                    self._announce.fail(f"indexing {job.root} failed: {type(exc).__name__}: {exc}")
                if job.future is not None and not job.future.done():
                    job.future.set_exception(exc)
            finally:
                if self._queue.empty() and self._status.state in (State.INDEXING, State.STARTING):
                    self._announce.set_state(State.IDLE)
                else:
                    self._announce.status_changed(force=True)

    # -- running one job (on the worker) -------------------------------------------------
    def _workspace_for(self, root: Path, fresh: Workspace | None = None) -> Workspace:
        """The root's open workspace, opening it (or `fresh`, made for new settings) first."""
        existing = self.workspace(root)
        if existing is not None:
            return existing
        workspace = fresh or self._factory(root, self.settings)
        self._roots.ask(root)  # a root stays asked for if it cannot open: a reindex retries
        if not workspace.model.provisional:  # a remote model's identity settles in open()
            workspace.check_model_for_store()  # another model's store: load first, say why
        # searches need the model; a warm index does not need it to index: load it beside
        # opening the index and the scan, so the first search after a restart waits little
        workspace.load_model_in_background(self._model_load_failed)
        workspace.open()
        self._roots.put(root, workspace)
        recovered = workspace.store.recovered if workspace.store is not None else None
        if recovered:  # said once: the next open finds a healthy store
            # a root opens for a full index pass: the new index is being built
            self._announce.warn(f"{recovered}; a new index is being built")
        return workspace

    def _reopen(self, root: Path) -> Workspace:
        """The root opened anew for the current settings, replacing the open workspace only
        once the new one's model works (raises ModelLoadError, and the old one stays)."""
        fresh = self._factory(root, self.settings)
        old = self._roots.get(root)
        if old is not None:
            fresh.check_model_for_store()  # a new model loads (and is probed) first
            self._roots.pop(root)
            old.close()
        workspace = self._workspace_for(root, fresh)
        if old is not None and (gone := _gone(old, workspace)):
            self.listener.on_problems(root, gone)
        return workspace

    def _model_load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ModelLoadError):
            self._announce.fail(str(exc), source=MODEL_ERROR)
        else:
            log.error("loading the model failed", exc_info=exc)

    def _run_job(self, job: Job) -> IndexSummary | None:
        if job.kind is JobKind.CLOSE:
            workspace = self._roots.pop(job.root)
            cleared = _cleared(workspace) if workspace is not None else {}
            if workspace is not None:
                workspace.close()
            if cleared:
                self.listener.on_problems(job.root, cleared)
            return None
        if not self.settings.enable:
            self._announce.set_state(State.DISABLED)
            return None
        try:
            if job.kind is JobKind.REOPEN:
                workspace = self._reopen(job.root)
                job = replace(job, kind=JobKind.INDEX)
            else:
                workspace = self._workspace_for(job.root)
            if job.kind is JobKind.CLEAR:
                cleared = _cleared(workspace)
                workspace.clear()
                if cleared:
                    self.listener.on_problems(job.root, cleared)
                job = replace(job, kind=JobKind.INDEX)
            return self._index(workspace, job)
        except (ModelLoadError, StoreError, FileNotFoundError, ValueError) as exc:
            self._announce.fail(
                str(exc), source=MODEL_ERROR if isinstance(exc, ModelLoadError) else None
            )
            raise

    def _index(self, workspace: Workspace, job: Job) -> IndexSummary:
        before = {p.path for p in workspace.problems()}
        self._run += 1
        report = ProgressReporter(self._announce, self._status, self._run)

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
        # a failed load, or an endpoint that is down, is no recovery
        model_failed = self._announce.report_sources(workspace) or workspace.model.error is not None
        if not summary.cancelled and not model_failed and self._status.recover():
            self._announce.status_changed(force=True)
        now = {p.path: p for p in workspace.problems()}
        update = problems_update(before, now, summary.changed_paths)
        if update:
            self.listener.on_problems(workspace.root, update)
        if summary.cancelled and self._paused.is_set():
            log.info("indexing paused for %s", workspace.root)
        return summary


def _gone(old: Workspace, new: Workspace) -> dict[str, FileProblem | None]:
    """Diagnostics that clear the old workspace's problems the new one does not have."""
    return {p.path: None for p in old.problems() if new.problem_for(p.path) is None}


def _cleared(workspace: Workspace) -> dict[str, FileProblem | None]:
    """Diagnostics that clear every problem of a root (closed or cleared)."""
    return {p.path: None for p in workspace.problems()}
