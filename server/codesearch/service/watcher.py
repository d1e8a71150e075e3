"""Keep an index fresh without an editor: watch the roots' folders and hand changes over.

An editor tells the language server about saves; an agent writing files through its own
tools tells nobody. A process that holds roots itself (`codesearch mcp`) runs a
`FolderWatcher`, which turns file-system events into the same calls a save makes:
`file_changed` (re-embed that file's changed functions, after the service's debounce),
`files_removed`, and a full incremental pass when an ignore file changes or a folder
appears (a checkout, a move): the same rules as `lsp/files.py`.

Built on watchfiles (Rust `notify`: inotify, FSEvents, ReadDirectoryChangesW, polling as a
fallback). It hands over changes in batches (a burst of writes becomes one set) and can be
stopped from another thread, so one small thread per process does all the watching; it
watches every root in one call and is restarted when the set of roots changes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import watchfiles

from codesearch.index.scan import BUILTIN_SKIP_DIRS, IgnoreRules
from codesearch.parsing.languages import EXTENSIONS
from codesearch.service import IndexService
from codesearch.service.changes import ignore_file_changed

log = logging.getLogger(__name__)

STEP_MS = 50  # a batch is handed over once no new event came for this long ...
MAX_BATCH_MS = 1000  # ... or after this long in a steady stream of events
POLL_DELAY_MS = 1000  # when native events are unavailable (inotify limits, network disks)


class SourceFilter:
    """Source files the index reads, ignore files, and extension-less names (folders: a
    deleted folder can no longer be told from a file); nothing below a folder the scan
    always skips (`.git`, `node_modules`, ...), judged below the root, not above it."""

    def __init__(self, roots: Iterable[Path]) -> None:
        self._roots = sorted((str(root) for root in roots), key=len, reverse=True)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        root = next((r for r in self._roots if path.startswith(r.rstrip(os.sep) + os.sep)), None)
        if root is None:
            return False
        parts = path[len(root) :].strip(os.sep).split(os.sep)
        if any(part in BUILTIN_SKIP_DIRS for part in parts[:-1]):
            return False
        name = parts[-1]
        if IgnoreRules.is_ignore_file(name):
            return True
        suffix = os.path.splitext(name)[1].lower()
        return suffix in EXTENSIONS or not suffix


class FolderWatcher:
    """Watches a set of root folders on one thread; `add`/`remove` change the set."""

    def __init__(self, sink: IndexService, *, force_polling: bool = False) -> None:
        self._sink = sink
        self._roots: set[Path] = set()
        self._lock = threading.Lock()  # guards _roots, _thread and _stop
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._force_polling = force_polling
        self._closed = False
        self.ready = threading.Event()  # set once the current watch has started

    @property
    def roots(self) -> set[Path]:
        with self._lock:
            return set(self._roots)

    def add(self, root: Path | str) -> None:
        with self._lock:
            target = Path(root).resolve()
            if target in self._roots or self._closed:
                return
            self._roots.add(target)
            self._restart()

    def remove(self, root: Path | str) -> None:
        with self._lock:
            target = Path(root).resolve()
            if target not in self._roots:
                return
            self._roots.discard(target)
            self._restart()

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            thread = self._halt()
        if thread is not None:
            thread.join(timeout)

    # -- the watching thread ----------------------------------------------------------
    def _halt(self) -> threading.Thread | None:
        thread, self._thread = self._thread, None
        self._stop.set()
        self.ready.clear()
        return thread

    def _restart(self) -> None:
        previous = self._halt()
        if previous is not None:
            previous.join(5.0)
        if not self._roots or self._closed:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run,
            args=(sorted(self._roots), self._stop),
            name="codesearch-watcher",
            daemon=True,
        )
        self._thread.start()

    def _run(self, roots: list[Path], stop: threading.Event) -> None:
        polling = self._force_polling
        while not stop.is_set():
            try:
                self._watch(roots, stop, polling)
                return
            except Exception as exc:  # the watcher must not take the server down
                if polling:
                    log.error("watching %s failed: %s; changes on disk are not seen", roots, exc)
                    return
                log.warning("native file watching failed (%s); polling every %d ms instead",
                            exc, POLL_DELAY_MS)  # fmt: skip
                polling = True

    def _watch(self, roots: list[Path], stop: threading.Event, polling: bool) -> None:
        batches = watchfiles.watch(
            *roots,
            watch_filter=SourceFilter(roots),
            debounce=MAX_BATCH_MS,
            step=STEP_MS,
            stop_event=stop,
            yield_on_timeout=True,
            rust_timeout=500,
            raise_interrupt=False,
            force_polling=polling,
            poll_delay_ms=POLL_DELAY_MS,
            ignore_permission_denied=True,
        )
        for changes in batches:
            self.ready.set()  # the first (possibly empty) batch: the watch is running
            if changes:
                try:
                    self.dispatch(changes)
                except Exception:
                    log.exception("handing over file changes failed")

    def dispatch(self, changes: Iterable[tuple[watchfiles.Change, str]]) -> None:
        """Turn one batch of events into service calls. A batch is a set (a file written
        then deleted may show both), so the disk as it is now decides: gone, or changed."""
        removed: list[Path] = []
        rescans: set[Path] = set()
        for name in sorted({name for _, name in changes}):
            path = Path(name)
            if IgnoreRules.is_ignore_file(path.name):
                ignore_file_changed(self._sink, path)
            elif not os.path.lexists(path):
                removed.append(path)
            elif path.is_dir():  # a folder appeared (moved in, checked out): scan its root
                root = self._sink.root_for(path)
                if root is not None:
                    rescans.add(root)
            elif path.suffix.lower() in EXTENSIONS:
                self._sink.file_changed(path)
        if removed:
            self._sink.files_removed(removed)
        for root in sorted(rescans):
            self._sink.add_folder(root)  # an incremental pass over the root
