"""IndexService: many workspace roots, one dedicated indexing worker, no editor protocol.

The language server is a thin face over this: it forwards folders, saves and file events
here and turns the listener callbacks into LSP notifications. All embedding happens on the
worker thread, so the server's event loop stays free to answer requests; searches run on
the caller's thread against the in-memory index while the worker embeds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from codesearch.config import Settings
from codesearch.debounce import Debouncer
from codesearch.embedding.types import DEFAULT_MODEL_NAME, Encoder, ModelLoadError
from codesearch.index.scan import to_rel_path
from codesearch.search import Hit, SearchFilters
from codesearch.store import StoreError
from codesearch.workspace import FileProblem, IndexProgress, IndexSummary, Workspace

log = logging.getLogger(__name__)

STATES = ("starting", "indexing", "idle", "error", "disabled")


@dataclass(frozen=True)
class ServiceStatus:
    state: str
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

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
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
        }


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


@dataclass
class _Job:
    kind: str  # "index" | "paths" | "remove" | "clear" | "close"
    root: Path
    force: bool = False
    paths: set[str] = field(default_factory=set)
    future: Future[Any] | None = None


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
        self._encoder = encoder
        self._factory = workspace_factory or self._default_factory
        self._workspaces: dict[Path, Workspace] = {}
        self._jobs: list[_Job] = []
        self._cond = threading.Condition()
        self._cancel = threading.Event()
        self._paused = threading.Event()
        self._stopping = False
        self._state = "starting"
        self._last_error: str | None = None
        self._reported_error: str | None = None
        self._progress: tuple[int, int] | None = None
        self._embedded_total = 0
        self._run = 0
        self._last_status: ServiceStatus | None = None
        self._last_status_at = 0.0
        self._debouncer: Debouncer[tuple[Path, str]] = Debouncer(debounce_s, self._debounced)
        self._worker = threading.Thread(target=self._loop, name="codesearch-indexer", daemon=True)
        self._worker.start()

    def _default_factory(self, root: Path, settings: Settings) -> Workspace:
        return Workspace(root, settings, encoder=self._encoder)

    # -- public API (any thread) ----------------------------------------------------------
    @property
    def roots(self) -> list[Path]:
        with self._cond:
            return list(self._workspaces)

    def add_folder(self, root: Path | str) -> None:
        root = Path(root).resolve()
        self._submit(_Job("index", root))

    def remove_folder(self, root: Path | str) -> None:
        self._submit(_Job("close", Path(root).resolve()))

    def file_changed(self, path: Path | str) -> None:
        """A save or a watcher event: re-index that file after the debounce delay."""
        target = Path(path)
        root = self.root_for(target)
        if root is None:
            return
        if target.exists() and to_rel_path(root, target) is None:
            # inside the root by name, outside it for real (a symlinked folder): never read it
            log.info("ignoring %s: it resolves outside %s", target, root)
            return
        self._debouncer.touch((root, str(target)))
        self._notify_status()

    def files_removed(self, paths: Iterable[Path | str]) -> None:
        for path in paths:
            target = Path(path)
            root = self.root_for(target)
            if root is not None:
                self._debouncer.cancel((root, str(target)))
                self._submit(_Job("remove", root, paths={str(target)}))

    def reindex(self, *, force: bool = False) -> Future[list[IndexSummary]]:
        """Every root, incrementally (or everything re-embedded with force)."""
        return self._fan_out("index", force)

    def clear(self) -> Future[list[IndexSummary]]:
        return self._fan_out("clear", False)

    def cancel_current(self) -> None:
        self._cancel.set()

    def pause(self) -> None:
        self._paused.set()
        self._cancel.set()
        self._notify_status(force=True)

    def resume(self) -> None:
        self._paused.clear()
        for root in self.roots:
            self._submit(_Job("index", root))

    def update_settings(self, settings: Settings) -> None:
        """Apply new settings: reopen the workspaces and bring them up to date."""
        old = self.settings
        self.settings = settings
        if not settings.enable:
            self.cancel_current()
            self._set_state("disabled")
            return
        if settings == old and self._state != "disabled":
            return
        self._reported_error = None
        for root in self.roots:
            self._submit(_Job("close", root, force=True))
            self._submit(_Job("index", root))

    def root_for(self, path: Path | str) -> Path | None:
        """The innermost workspace root holding path (multi-root folders may nest)."""
        target = Path(path)
        best: Path | None = None
        with self._cond:
            roots = list(self._workspaces) + [j.root for j in self._jobs if j.kind == "index"]
        for root in roots:
            inside = target == root or target.is_relative_to(root)
            if inside and (best is None or len(root.parts) > len(best.parts)):
                best = root
        return best

    def workspace(self, root: Path) -> Workspace | None:
        with self._cond:
            return self._workspaces.get(root)

    def search(
        self, query: str, *, limit: int = 20, filters: SearchFilters | None = None
    ) -> list[RootHit]:
        """Search every root (what is indexed so far), best first."""
        if not self.settings.enable:
            return []
        hits: list[RootHit] = []
        for root, workspace in self._open_workspaces():
            hits.extend(
                RootHit(root, h) for h in workspace.search(query, limit=limit, filters=filters)
            )
        hits.sort(key=lambda rh: -rh.hit.score)
        return hits[:limit]

    def similar(self, path: Path, line: int, *, limit: int = 20) -> list[RootHit]:
        root = self.root_for(path)
        workspace = self.workspace(root) if root is not None else None
        if root is None or workspace is None:
            return []
        return [RootHit(root, h) for h in workspace.similar(path, line, limit=limit)]

    def entity_at(self, path: Path, line: int) -> tuple[Path, Hit] | None:
        root = self.root_for(path)
        workspace = self.workspace(root) if root is not None else None
        if root is None or workspace is None:
            return None
        found = workspace.entity_at(path, line)
        return (root, found[1]) if found else None

    def status(self) -> ServiceStatus:
        entities = files = failed = skipped = 0
        for _, workspace in self._open_workspaces():
            entities += workspace.entity_count
            files += workspace.file_count
            problems = workspace.problems()
            failed += sum(1 for p in problems if p.error) + sum(len(p.failures) for p in problems)
            skipped += sum(workspace.skipped_counts().values())
        with self._cond:
            pending = len(self._jobs) + self._debouncer.pending
            pending += sum(len(j.paths) for j in self._jobs if j.kind == "paths") - sum(
                1 for j in self._jobs if j.kind == "paths"
            )
        return ServiceStatus(
            self._state,
            entities,
            files,
            pending,
            failed,
            skipped,
            self._model_name(),
            self._last_error,
            self._progress,
            self._embedded_total,
            self._paused.is_set(),
        )

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is pending (tests, CLI, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._debouncer.flush()
            with self._cond:
                if not self._jobs and not self._busy:
                    return True
                self._cond.wait(0.05)
        return False

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop after the batch in flight (vectors of finished batches are kept)."""
        self._debouncer.close()
        with self._cond:
            self._stopping = True
            self._jobs.clear()
            self._cond.notify_all()
        self._cancel.set()
        self._worker.join(timeout)
        with self._cond:
            workspaces = list(self._workspaces.values())
            self._workspaces.clear()
        for workspace in workspaces:
            try:
                workspace.close()
            except Exception:
                log.exception("closing %s failed", workspace.root)

    # -- internals ------------------------------------------------------------------------
    _busy = False

    def _open_workspaces(self) -> list[tuple[Path, Workspace]]:
        with self._cond:
            return list(self._workspaces.items())

    def _model_name(self) -> str:
        for _, workspace in self._open_workspaces():
            return workspace.model_name
        return self.settings.model or DEFAULT_MODEL_NAME

    def _fan_out(self, kind: str, force: bool) -> Future[list[IndexSummary]]:
        roots = self.roots
        combined: Future[list[IndexSummary]] = Future()
        if not roots:
            combined.set_result([])
            return combined
        futures: list[Future[Any]] = []
        for root in roots:
            future: Future[Any] = Future()
            futures.append(future)
            self._submit(_Job(kind, root, force=force, future=future))

        def gather(_: Future[Any]) -> None:
            if all(f.done() for f in futures) and not combined.done():
                errors = [f.exception() for f in futures if f.exception() is not None]
                if errors:
                    combined.set_exception(errors[0])  # type: ignore[arg-type]
                else:
                    combined.set_result([f.result() for f in futures])

        for future in futures:
            future.add_done_callback(gather)
        return combined

    def _debounced(self, keys: list[tuple[Path, str]]) -> None:
        by_root: dict[Path, set[str]] = {}
        for root, path in keys:
            by_root.setdefault(root, set()).add(path)
        for root, paths in by_root.items():
            self._submit(_Job("paths", root, paths=paths))

    def _submit(self, job: _Job) -> None:
        with self._cond:
            if self._stopping:
                if job.future is not None:
                    job.future.cancel()
                return
            if job.kind == "paths":
                for pending in self._jobs:
                    if pending.root == job.root and pending.kind == "index" and not pending.force:
                        return  # a full pass is coming anyway
                    if pending.root == job.root and pending.kind == "paths":
                        pending.paths |= job.paths  # coalesce
                        return
            if job.kind == "index":
                self._jobs = [
                    j for j in self._jobs if not (j.root == job.root and j.kind == "paths")
                ]
                for pending in self._jobs:
                    if (
                        pending.root == job.root
                        and pending.kind == "index"
                        and pending.force >= job.force
                        and job.future is None
                    ):
                        return
            self._jobs.append(job)
            self._cond.notify_all()
        self._notify_status()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stopping:
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait()
                if self._stopping:
                    self._busy = False
                    self._cond.notify_all()
                    return
                job = self._jobs.pop(0)
                self._busy = True
                self._cancel.clear()
            try:
                result = self._run_job(job)
                if job.future is not None and not job.future.done():
                    job.future.set_result(result)
            except BaseException as exc:  # the worker must survive anything
                log.exception("indexing job %s for %s failed", job.kind, job.root)
                if self._state != "error":  # an unexpected failure is an error state too
                    self._fail(f"indexing {job.root} failed: {type(exc).__name__}: {exc}")
                if job.future is not None and not job.future.done():
                    job.future.set_exception(exc)
            finally:
                with self._cond:
                    idle = not self._jobs
                if idle and self._state in ("indexing", "starting"):
                    self._set_state("idle")
                    self._warm_up()
                else:
                    self._notify_status(force=True)

    def _warm_up(self) -> None:
        """Load the model once the index is idle, so the first search does not wait for it.

        A warm, unchanged index never needs the model to index, but every search does;
        loading it here (on the worker, while nothing else is queued) moves seconds of
        import and weight loading out of the user's first query.
        """
        for _, workspace in self._open_workspaces():
            if workspace.model_loaded:
                return
            try:
                workspace.encoder  # noqa: B018 - loads and caches the model
            except ModelLoadError as exc:
                self._fail(str(exc))
            except Exception:
                log.exception("warming up the model failed")
            return

    def _workspace_for(self, root: Path) -> Workspace:
        with self._cond:
            existing = self._workspaces.get(root)
        if existing is not None:
            return existing
        workspace = self._factory(root, self.settings).open()
        with self._cond:
            self._workspaces[root] = workspace
        recovered = workspace.store.recovered if workspace.store is not None else None
        if recovered:
            self._warn(recovered)  # once: the next open finds a healthy store
        return workspace

    def _run_job(self, job: _Job) -> IndexSummary | None:
        if job.kind == "close":
            with self._cond:
                workspace = self._workspaces.pop(job.root, None)
            if workspace is not None:
                problems: dict[str, FileProblem | None] = {
                    p.path: None for p in workspace.problems()
                }
                workspace.close()
                if problems and not job.force:
                    self.listener.on_problems(job.root, problems)
            return None
        if not self.settings.enable:
            self._set_state("disabled")
            return None
        try:
            workspace = self._workspace_for(job.root)
            if job.kind == "clear":
                old: dict[str, FileProblem | None] = {p.path: None for p in workspace.problems()}
                workspace.clear()
                if old:
                    self.listener.on_problems(job.root, old)
                job = replace(job, kind="index")
            return self._index(workspace, job)
        except (ModelLoadError, StoreError, FileNotFoundError, ValueError) as exc:
            self._fail(str(exc))
            raise

    def _index(self, workspace: Workspace, job: _Job) -> IndexSummary:
        before = {p.path for p in workspace.problems()}
        self._run += 1
        run = self._run
        started = [False]
        last_report = [0.0]

        def progress(update: IndexProgress) -> None:
            if update.phase != "embedding" or not update.total:
                return
            self._progress = (update.done, update.total)
            message = f"Indexing {update.done}/{update.total} entities"
            now = time.monotonic()
            if not started[0]:
                started[0] = True
                self._set_state("indexing")
                self.listener.on_progress(
                    ProgressEvent("begin", run, update.done, update.total, message)
                )
            elif now - last_report[0] >= 0.2 or update.done == update.total:
                last_report[0] = now
                self.listener.on_progress(
                    ProgressEvent("report", run, update.done, update.total, message)
                )
                self._notify_status()

        def should_stop() -> bool:
            return self._cancel.is_set() or self._stopping or self._paused.is_set()

        try:
            if job.kind == "paths":
                summary = workspace.index_paths(
                    sorted(job.paths), progress=progress, should_stop=should_stop
                )
            elif job.kind == "remove":
                summary = workspace.remove_paths(sorted(job.paths))
            else:
                summary = workspace.index(
                    force=job.force, progress=progress, should_stop=should_stop
                )
        finally:
            if started[0]:
                done, total = self._progress or (0, 0)
                self.listener.on_progress(
                    ProgressEvent("end", run, done, total, "Indexing finished")
                )
            self._progress = None
        self._embedded_total += summary.embedded
        if self._state == "error" and not summary.cancelled:
            self._last_error = None
            self._reported_error = None
            self._set_state("indexing")
        self._publish_problems(workspace, before, summary)
        if summary.cancelled and self._paused.is_set():
            log.info("indexing paused for %s", workspace.root)
        return summary

    def _publish_problems(
        self, workspace: Workspace, before: set[str], summary: IndexSummary
    ) -> None:
        now = {p.path: p for p in workspace.problems()}
        touched = set(summary.changed_paths) | before | set(now)
        update: dict[str, FileProblem | None] = {}
        for path in touched:
            problem = now.get(path)
            if problem is not None and (path in summary.changed_paths or path not in before):
                update[path] = problem
            elif problem is None and (path in before):
                update[path] = None
        if update:
            self.listener.on_problems(workspace.root, update)

    def _fail(self, message: str) -> None:
        self._last_error = message
        self._set_state("error")
        if self._reported_error != message:
            self._reported_error = message
            self.listener.on_error(message)

    def _warn(self, message: str) -> None:
        try:
            self.listener.on_warning(message)
        except Exception:
            log.exception("warning listener failed: %s", message)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
        self._notify_status(force=True)

    def _notify_status(self, force: bool = False) -> None:
        now = time.monotonic()
        status = self.status()
        if not force and status == self._last_status:
            return
        if not force and now - self._last_status_at < 0.25 and self._state == "indexing":
            return
        self._last_status = status
        self._last_status_at = now
        try:
            self.listener.on_status(status)
        except Exception:
            log.exception("status listener failed")
