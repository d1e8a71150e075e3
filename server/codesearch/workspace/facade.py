"""Workspace: the one engine object the CLI and the language server both drive.

A small facade over the parts that each own one job: the selection (which files, under
which relative path), the catalog (manifests, search index, snapshot, counts), the index
pipeline (read, parse, embed, commit) and the model. It opens and closes them, runs an
index pass or a save, and answers queries.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from codesearch.config import Settings
from codesearch.embedding.types import Encoder, Vectors
from codesearch.index.scan import IgnoreRules, ScannedFile, SkippedFile
from codesearch.index.search_index import SearchIndex
from codesearch.locations import workspace_store_dir
from codesearch.search import Hit, SearchFilters, rank
from codesearch.store import Store, store_exists
from codesearch.store_copies import remove_copies
from codesearch.tiers.shared import SharedVectorTier
from codesearch.workspace.catalog import Catalog
from codesearch.workspace.embedding import (
    changed_identity,
    close_sources,
    embedding_problem,
    query_embedding,
    settle_identity,
    sources_status,
)
from codesearch.workspace.model import ModelLoader, load_before_replacing
from codesearch.workspace.pipeline import IndexPipeline
from codesearch.workspace.providers import shared_tier, workspace_model
from codesearch.workspace.queries import SearchHits, entity_at, similar
from codesearch.workspace.reports import (
    CatalogCounts,
    FileProblem,
    IndexProgress,
    IndexSummary,
    ProblemReport,
    ProgressFn,
    StopFn,
    WorkspaceStatus,
)
from codesearch.workspace.selection import Selection

log = logging.getLogger(__name__)


class Workspace:
    """Index and search one workspace root."""

    def __init__(
        self,
        root: Path | str,
        settings: Settings | None = None,
        *,
        encoder: Encoder | None = None,
        store_dir: Path | None = None,
        model_loader: ModelLoader | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = (settings or Settings()).with_env_defaults()
        settings = self.settings
        # the team's vector tier under the local store (None without one); connects lazily
        self.shared: SharedVectorTier | None = shared_tier(settings)
        self.model, self.model_id, self.model_name = workspace_model(
            settings, self.shared, encoder, model_loader
        )
        self.store_dir = store_dir or workspace_store_dir(self.root, settings.store_dir or None)
        self.selection = Selection(self.root, settings.exclude, settings.max_file_size)
        self.catalog: Catalog | None = None
        self._pipeline: IndexPipeline | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def open(self) -> Workspace:
        """Open the store and load the search index from it (no model needed).

        A store that is damaged, or was built by another model or store format, is moved
        aside and replaced by an empty one; `store.recovered` then says so, once.
        """
        if not self.root.is_dir():
            raise FileNotFoundError(f"workspace folder does not exist: {self.root}")
        recovered = None
        if self.model.provisional:
            self.model_id, recovered = settle_identity(self.model, self.store_dir)
        self.check_model_for_store()
        self._open_catalog(recovered)
        return self

    def _open_catalog(self, recovered: str | None = None) -> None:
        store = Store(self.store_dir, model_id=self.model_id)
        store.recovered = store.recovered or recovered  # damage found by settle_identity
        catalog = Catalog(store, self.model_id)
        catalog.load()
        self.catalog = catalog
        self._pipeline = IndexPipeline(catalog, self.model, self.settings, self.shared)

    def _reconcile_model(self) -> None:
        """A remote model that answers as another model than the store was opened with:
        switch stores now that it answered (the old index is moved aside, as always)."""
        new_id = changed_identity(self.model, self.model_id) if self.catalog else None
        if new_id is not None and self.catalog is not None:
            log.warning("%s answers as another model (%s): re-indexing", self.model_name, new_id)
            self.catalog.store.close()
            self.model_id = new_id
            self._open_catalog()

    def check_model_for_store(self) -> None:
        """If the store holds another model's vectors, load and probe this one first."""
        load_before_replacing(self.model, self.model_id, self.model_name, self.store_dir)

    def close(self, *, save_snapshot: bool = True) -> None:
        """Close the store, writing the warm-start snapshot first unless told not to."""
        catalog, self.catalog, self._pipeline = self.catalog, None, None
        close_sources(self.model, self.shared)
        if catalog is None:
            return
        if save_snapshot:
            try:
                catalog.save_snapshot()
            except Exception:
                log.exception("writing the index snapshot failed (the next start reads manifests)")
        catalog.store.close()

    @property
    def has_store(self) -> bool:
        """Whether the store exists (asked without creating it: a status writes nothing)."""
        return store_exists(self.store_dir)

    def __enter__(self) -> Workspace:
        return self.open() if self.catalog is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def store(self) -> Store | None:
        return self.catalog.store if self.catalog is not None else None

    @property
    def rules(self) -> IgnoreRules:
        return self.selection.rules

    def save_snapshot(self) -> bool:
        """Write the warm-start snapshot if the index changed since the last one."""
        return self.catalog.save_snapshot() if self.catalog is not None else False

    def _parts(self) -> tuple[Catalog, IndexPipeline]:
        if self.catalog is None or self._pipeline is None:
            raise RuntimeError("workspace is not open")
        return self.catalog, self._pipeline

    # -- model ------------------------------------------------------------------------
    @property
    def model_loaded(self) -> bool:
        return self.model.loaded

    def load_model_in_background(
        self, on_error: Callable[[BaseException], None]
    ) -> threading.Thread | None:
        """Load the model on a thread of its own, so the first search does not wait for it
        (None when it is loaded already)."""
        return None if self.model.loaded else self.model.load_in_background(on_error)

    def query_embedding(self, query: str) -> tuple[Vectors | None, str | None]:
        """The query's vector, or None and why search ranks by keywords alone."""
        return query_embedding(self.model, self.model_id, self.model_name, query)

    @property
    def embedding_problem(self) -> str | None:
        """One sentence while the embedding provider cannot embed, else None."""
        return embedding_problem(self.model)

    # -- indexing ---------------------------------------------------------------------
    def index(
        self,
        *,
        force: bool = False,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> IndexSummary:
        """Bring the whole workspace up to date (incremental unless `force`)."""
        self._reconcile_model()
        catalog, pipeline = self._parts()
        started = time.perf_counter()
        if progress:
            progress(IndexProgress("scanning", 0, 0))
        scan = self.selection.scan()
        catalog.set_scan_skips(scan.skipped)
        seen = {f.rel_path for f in scan.files}
        summary = IndexSummary(scanned=len(scan.files))
        self._remove(sorted(catalog.paths() - seen), summary)
        pipeline.update(scan.files, force, summary, progress, should_stop)
        if not summary.cancelled:
            catalog.save_snapshot()
            catalog.mark_indexed(time.time())
        return self._finish(summary, started, progress)

    def index_paths(
        self,
        paths: Iterable[Path | str],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> IndexSummary:
        """Re-index these files (a save, a file watcher event), and try again the files that
        failed before (a fixed permission changes no mtime and sends no save); files that
        are gone or no longer indexable leave the index, as the next full scan would decide."""
        self._reconcile_model()
        catalog, pipeline = self._parts()
        started = time.perf_counter()
        summary = IndexSummary()
        present: list[ScannedFile] = []
        gone: list[str] = []
        wanted = [rel for rel in map(self.selection.relative, paths) if rel is not None]
        for rel in dict.fromkeys(wanted + catalog.failed_paths()):
            verdict = self.selection.select(rel)
            catalog.note_skip(rel, None)
            if isinstance(verdict, ScannedFile):
                present.append(verdict)
                continue
            if isinstance(verdict, SkippedFile):
                catalog.note_skip(verdict.rel_path, verdict.reason)
            gone.append(rel)
        summary.scanned = len(present)
        self._remove([p for p in gone if catalog.manifest(p) is not None], summary)
        pipeline.update(present, False, summary, progress, should_stop)
        return self._finish(summary, started, progress)

    def remove_paths(self, paths: Iterable[Path | str]) -> IndexSummary:
        """Drop files (or whole folders) from the index."""
        catalog, _ = self._parts()
        started = time.perf_counter()
        summary = IndexSummary()
        targets: set[str] = set()
        for raw in paths:
            rel = self.selection.relative(raw)
            if rel is not None:
                targets.update(catalog.paths_under(rel))
                catalog.forget_skips_under(rel)
        self._remove(sorted(targets), summary)
        return self._finish(summary, started, None)

    def relative(self, path: Path | str) -> str | None:
        """Workspace-relative posix path, or None for a path outside this root."""
        return self.selection.relative(path)

    def _remove(self, paths: Sequence[str], summary: IndexSummary) -> None:
        if not paths:
            return
        catalog, _ = self._parts()
        catalog.remove(paths)
        summary.removed += len(paths)
        summary.changed_paths.extend(paths)

    def _finish(
        self, summary: IndexSummary, started: float, progress: ProgressFn | None
    ) -> IndexSummary:
        counts = self.counts()
        summary.files = counts.files
        summary.entities = counts.entities
        summary.failed_files = counts.failed_files
        summary.failed = counts.failed
        summary.skipped = sum(counts.skipped.values())
        summary.seconds = time.perf_counter() - started
        if progress:
            progress(IndexProgress("done", summary.entities, summary.entities))
        return summary

    def clear(self) -> list[Path]:
        """Forget everything indexed for this root (the store is emptied, not moved) and
        delete the copies of it moved aside; returns those copies."""
        catalog, _ = self._parts()
        catalog.clear()
        return remove_copies(self.store_dir)

    # -- queries ----------------------------------------------------------------------
    @property
    def index_view(self) -> SearchIndex | None:
        """The in-memory search index (None before anything was indexed)."""
        return self.catalog.index if self.catalog is not None else None

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        filters: SearchFilters | None = None,
    ) -> SearchHits[Hit]:
        """Hybrid search (keywords alone, and a notice saying why, when the query cannot be
        embedded); an empty or whitespace query gives no hits."""
        index = self.index_view
        if not query.strip() or index is None or len(index) == 0:
            return SearchHits()
        vector, notice = self.query_embedding(query)
        return SearchHits(rank(index, query, vector, limit=limit, filters=filters), notice)

    def entity_at(self, path: Path | str, line: int) -> tuple[int, Hit] | None:
        """The innermost indexed entity whose range holds this 1-based line (its row)."""
        rel = self.relative(path)
        index = self.index_view
        return entity_at(index, rel, line) if rel is not None and index is not None else None

    def similar(
        self, path: Path | str, line: int, *, limit: int = 20, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Entities nearest by meaning to the one at path:line (itself excluded)."""
        rel = self.relative(path)
        index = self.index_view
        if rel is None or index is None:
            return []
        return similar(index, rel, line, limit=limit, filters=filters)

    # -- reporting --------------------------------------------------------------------
    def counts(self) -> CatalogCounts:
        """Files, entities, failures and skips: kept as they change, O(1)."""
        if self.catalog is None:
            return CatalogCounts(0, 0, 0, 0, {})
        return self.catalog.counts()

    def problems(self) -> list[FileProblem]:
        return self.catalog.problems() if self.catalog is not None else []

    def problem_for(self, path: str) -> FileProblem | None:
        return self.catalog.problem_for(path) if self.catalog is not None else None

    def skipped_paths(self) -> dict[str, list[str]]:
        """Files the selection left out (too large, links leaving the root, unreadable)."""
        return self.catalog.scan_skips() if self.catalog is not None else {}

    def problem_report(self) -> ProblemReport:
        """Each failed file, failed entity and skipped file with its reason: O(problems)."""
        return self.catalog.problem_report() if self.catalog is not None else ProblemReport()

    def status(self) -> WorkspaceStatus:
        """What is indexed and what is missing: O(problems), never O(files). A workspace
        not open says "not indexed" and reads nothing."""
        where = (str(self.root), str(self.store_dir), self.model_name)
        status = self.catalog.status(*where) if self.catalog else WorkspaceStatus.empty(*where)
        return dataclasses.replace(status, **sources_status(self.model, self.shared))
