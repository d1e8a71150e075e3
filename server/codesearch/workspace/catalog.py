"""What is indexed for one root: file manifests, the in-memory search index, files left out
on purpose, and the warm-start snapshot, with their counts kept as they change.

The catalog is the one owner of that state: the pipeline hands it finished files, the
facade asks it questions. Counts (files, entities, failures, skips) are updated with each
change, so a status costs the same for ten files or a hundred thousand: status is asked
for on the editor's event loop after every save.
"""

from __future__ import annotations

import dataclasses
import logging
import pickle
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from codesearch.embedding.types import Vectors
from codesearch.index.scan import SKIP_REASONS
from codesearch.index.search_index import SearchIndex
from codesearch.store import (
    SCHEMA_VERSION,
    FileManifest,
    Store,
    StoreDamaged,
    StoreError,
    StoreMeta,
    describe,
    is_corruption,
)
from codesearch.workspace.reports import CatalogCounts, FileProblem, ProblemReport, WorkspaceStatus

log = logging.getLogger(__name__)


class Catalog:
    """Manifests, search index, skips and snapshot of one root; thread-safe."""

    def __init__(self, store: Store, model_id: str) -> None:
        self.store = store
        self.model_id = model_id
        self.index: SearchIndex | None = None
        self.snapshot_generation = -1
        self._lock = threading.RLock()
        self._manifests: dict[str, FileManifest] = {}  # slim: entities live in the index
        self._problems: dict[str, FileProblem] = {}
        self._failed_files = 0
        self._failed_entities = 0
        self._read_skips: dict[str, set[str]] = {}  # binary / too large when read: paths
        self._scan_skips: dict[str, set[str]] = {reason: set() for reason in SKIP_REASONS}

    # -- loading and the warm-start snapshot ---------------------------------------------
    def load(self) -> None:
        """Fill the catalog from the store: the snapshot when current, else the manifests.

        Damage found while reading moves the store aside (everything is indexed again).
        """
        self._load_scan_skips()
        meta = self.store.meta()
        if meta is None or self._load_snapshot(meta.dimensions):
            return
        try:
            index, manifests, stale = _read_stored_index(self.store, meta.dimensions)
        except StoreDamaged as damage:
            self.store.replace_damaged(damage)
            return
        if stale:
            self.store.write_manifests((), removed=stale)
        with self._lock:
            self.index = index
            for manifest in manifests.values():
                self._put(_slim(manifest))

    def _load_scan_skips(self) -> None:
        """What the last scan left out, as it was saved: a status in a process that did not
        scan (`codesearch status`) names those files too."""
        try:
            saved = self.store.scan_skips()
        except Exception:
            log.warning("the saved list of skipped files in %s is unusable", self.store.directory)
            return
        with self._lock:
            for reason, paths in saved.items():
                self._scan_skips.setdefault(reason, set()).update(paths)

    def _save_scan_skips(self) -> None:
        """Under the lock; called only when the skips changed."""
        self.store.set_scan_skips(self._scan_skips)

    def _load_snapshot(self, dimensions: int) -> bool:
        """Warm start from the snapshot when it matches the store's generation exactly.

        One blob instead of a read per file and per vector: 100k entities load in a few
        seconds. Anything unexpected falls back to the manifests, which are the truth.
        """
        store = self.store
        try:
            found = store.get_snapshot()
            if found is None or found[0] != store.generation():
                return False
            state = pickle.loads(found[1])
            if state.get("model_id") != self.model_id:
                return False
            index = SearchIndex.from_state(state["index"])
            if index.dimensions != dimensions:
                return False
            manifests = [FileManifest.from_data(data) for data in state["manifests"]]
        except Exception:
            log.warning("the index snapshot in %s is unusable; reading manifests", store.directory)
            return False
        with self._lock:
            self.index = index
            for manifest in manifests:
                self._put(manifest)
            self.snapshot_generation = found[0]
        return True

    def save_snapshot(self) -> bool:
        """Write the warm-start snapshot if the index changed since the last one."""
        if self.index is None:
            return False
        with self._lock:
            generation = self.store.generation()
            if generation == self.snapshot_generation:
                return False
            state = {
                "model_id": self.model_id,
                "index": self.index.to_state(),
                "manifests": [m.to_data() for m in self._manifests.values()],
            }
            payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
            self.store.put_snapshot(generation, payload)
            self.snapshot_generation = generation
        return True

    def ensure_index(self, dimensions: int) -> SearchIndex:
        """The search index, created (and the store's metadata written) on first need."""
        with self._lock:
            if self.index is None:
                self.store.set_meta(StoreMeta(SCHEMA_VERSION, self.model_id, dimensions))
                self.index = SearchIndex(dimensions)
            return self.index

    # -- reading -------------------------------------------------------------------------
    def manifest(self, path: str) -> FileManifest | None:
        with self._lock:
            return self._manifests.get(path)

    def paths(self) -> set[str]:
        with self._lock:
            return set(self._manifests)

    def paths_under(self, rel: str) -> list[str]:
        """Indexed files that are `rel` or below the folder `rel`."""
        prefix = rel.rstrip("/") + "/"
        with self._lock:
            return [p for p in self._manifests if p == rel or p.startswith(prefix)]

    def counts(self) -> CatalogCounts:
        """O(1): the counts are kept as files change."""
        with self._lock:
            skipped: Counter[str] = Counter()
            for skips in (self._read_skips, self._scan_skips):
                for reason, paths in skips.items():
                    skipped[reason] += len(paths)
            return CatalogCounts(
                files=len(self._manifests),
                entities=len(self.index) if self.index is not None else 0,
                failed_files=self._failed_files,
                failed_entities=self._failed_entities,
                skipped={reason: count for reason, count in skipped.items() if count},
            )

    def problems(self) -> list[FileProblem]:
        with self._lock:
            return list(self._problems.values())

    def problem_for(self, path: str) -> FileProblem | None:
        with self._lock:
            return self._problems.get(path)

    def failed_paths(self) -> list[str]:
        """Files that failed, whole or in part: tried again by every index run and save."""
        with self._lock:
            return [p.path for p in self._problems.values() if p.error or p.failures]

    def skipped_files(self) -> list[tuple[str, str]]:
        """Every file left out on purpose, as (path, reason), by path: O(skipped files)."""
        with self._lock:
            found = [
                (path, reason)
                for skips in (self._read_skips, self._scan_skips)
                for reason, paths in skips.items()
                for path in paths
            ]
        return sorted(found)

    def problem_report(self) -> ProblemReport:
        """Each failed file, failed entity and skipped file with its reason: O(problems)."""
        return ProblemReport.of(self.problems(), self.skipped_files())

    def status(self, root: str, store: str, model: str) -> WorkspaceStatus:
        """What is indexed and what is missing: O(problems). Indexed means a full pass
        finished and was not cleared since (a store written before that time was kept
        counts when it holds files)."""
        last = self.last_indexed()
        counts = self.counts()
        return WorkspaceStatus(
            root=root,
            store=store,
            model=model,
            indexed=last is not None or counts.files > 0,
            counts=counts,
            problems=self.problem_report(),
            store_bytes=self.store.size_bytes(),
            last_indexed=last,
        )

    def last_indexed(self) -> float | None:
        """When the last full index pass finished (kept in the store: any process sees it)."""
        return self.store.last_indexed()

    def mark_indexed(self, when: float) -> None:
        self.store.set_last_indexed(when)

    def scan_skips(self) -> dict[str, list[str]]:
        """Files the selection left out, by reason (every reason present, paths sorted)."""
        with self._lock:
            return {reason: sorted(paths) for reason, paths in self._scan_skips.items()}

    # -- changes -------------------------------------------------------------------------
    def commit(self, manifests: Sequence[FileManifest], vectors: Sequence[list[Vectors]]) -> None:
        """Finished files: manifests to the store in one transaction, then their rows."""
        self.store.write_manifests(manifests)
        with self._lock:
            index = self.index
            for manifest, rows in zip(manifests, vectors, strict=True):
                if index is not None:
                    index.replace_file(manifest.path, manifest.entities, rows)
                self._put(_slim(manifest))

    def touch(self, manifests: Sequence[FileManifest]) -> None:
        """Files whose stat changed but whose content did not: new stat, same rows."""
        if not manifests:
            return
        self.store.write_manifests(manifests)
        with self._lock:
            for manifest in manifests:
                self._put(_slim(manifest))

    def remove(self, paths: Sequence[str]) -> None:
        if not paths:
            return
        self.store.write_manifests((), removed=paths)
        with self._lock:
            for path in paths:
                self._drop(path)
                if self.index is not None:
                    self.index.remove_file(path)

    def set_scan_skips(self, skipped: Mapping[str, Iterable[str]]) -> None:
        """A full scan's skip lists replace the ones kept so far (and saved)."""
        with self._lock:
            before = self._scan_skips
            self._scan_skips = {reason: set() for reason in SKIP_REASONS}
            for reason, paths in skipped.items():
                self._scan_skips.setdefault(reason, set()).update(paths)
            if _nonempty(before) != _nonempty(self._scan_skips):
                self._save_scan_skips()

    def note_skip(self, path: str, reason: str | None) -> None:
        """One file's skip reason after a save (None: not skipped): set, never appended."""
        with self._lock:
            changed = False
            for kept, paths in self._scan_skips.items():
                if kept != reason and path in paths:
                    paths.discard(path)
                    changed = True
            if reason is not None and path not in self._scan_skips.setdefault(reason, set()):
                self._scan_skips[reason].add(path)
                changed = True
            if changed:
                self._save_scan_skips()

    def forget_skips_under(self, rel: str) -> None:
        """A file or folder was deleted: it, and what was below it, is no longer skipped."""
        prefix = rel.rstrip("/") + "/"
        with self._lock:
            changed = False
            for paths in self._scan_skips.values():
                gone = [p for p in paths if p == rel or p.startswith(prefix)]
                paths.difference_update(gone)
                changed = changed or bool(gone)
            if changed:
                self._save_scan_skips()

    def clear(self) -> None:
        """Forget everything (the store is emptied, not moved)."""
        with self._lock:
            self.store.clear()
            for path in list(self._manifests):
                self._drop(path)
            self.set_scan_skips({})
            if self.index is not None:
                self.index.clear()
            self.index = None

    # -- bookkeeping (under the lock) ---------------------------------------------------------
    def _put(self, manifest: FileManifest) -> None:
        self._drop(manifest.path)
        self._manifests[manifest.path] = manifest
        if manifest.error:
            self._failed_files += 1
        self._failed_entities += len(manifest.failures)
        if manifest.skipped:
            reason = _read_skip_reason(manifest.skipped)
            self._read_skips.setdefault(reason, set()).add(manifest.path)
        if manifest.error or manifest.failures or manifest.warning:
            self._problems[manifest.path] = FileProblem(
                manifest.path, manifest.error, manifest.failures, manifest.warning
            )

    def _drop(self, path: str) -> None:
        old = self._manifests.pop(path, None)
        if old is None:
            return
        if old.error:
            self._failed_files -= 1
        self._failed_entities -= len(old.failures)
        if old.skipped:
            self._read_skips.get(_read_skip_reason(old.skipped), set()).discard(path)
        self._problems.pop(path, None)


def _nonempty(skips: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    """Skip sets compared by content (empty reasons dropped)."""
    return {reason: frozenset(paths) for reason, paths in skips.items() if paths}


def _read_skip_reason(skipped: str) -> str:
    return "binary" if "binary" in skipped else "too_large"


def _slim(manifest: FileManifest) -> FileManifest:
    """What stays in memory per file: stat, hash and failures; entities live in the index."""
    return dataclasses.replace(manifest, entities=()) if manifest.entities else manifest


def _read_stored_index(
    store: Store, dimensions: int
) -> tuple[SearchIndex, dict[str, FileManifest], list[str]]:
    """Every manifest with its vectors; files whose vectors are missing come back as stale.

    Raises StoreDamaged when the store cannot be read back (SQLite corruption, a value that
    does not unpickle, a manifest of the wrong shape), StoreError for other read errors.
    """
    index = SearchIndex(dimensions)
    manifests: dict[str, FileManifest] = {}
    stale: list[str] = []
    try:
        for manifest in store.manifests():
            keys = [e.key for e in manifest.entities]
            found = store.get_vectors(keys, dimensions)
            if len(found) != len(set(keys)):
                stale.append(manifest.path)  # vectors lost: index the file again
                continue
            index.replace_file(manifest.path, manifest.entities, [found[k] for k in keys])
            manifests[manifest.path] = manifest
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StoreDamaged("corrupt", f"holds an unreadable file record ({describe(exc)})") from exc
    except Exception as exc:
        if is_corruption(exc):
            raise StoreDamaged("corrupt", f"is damaged ({describe(exc)})") from exc
        raise StoreError(f"cannot read the index store at {store.directory}: {exc}") from exc
    return index, manifests, stale
