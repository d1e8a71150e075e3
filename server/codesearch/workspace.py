"""Workspace: the one engine object the CLI and the language server both drive.

It owns a workspace root's store and in-memory index and knows how to bring them up to
date: scan, skip what is unchanged (stat, then content hash), parse what changed, embed
only new content keys, then write manifests and patch the search index chunk by chunk so
a crash or a cancel loses at most the chunk in flight.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import pickle
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from codesearch import keywords
from codesearch.config import Settings
from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.registry import load_encoder, vector_model_id
from codesearch.embedding.resolve import resolve_model
from codesearch.embedding.text import EmptyEntityError, PreparedText
from codesearch.embedding.types import Encoder, ModelSpec, Vectors
from codesearch.entities import Entity
from codesearch.index.reading import UnreadableFileError, read_source
from codesearch.index.scan import IgnoreRules, ScannedFile, scan_workspace
from codesearch.index.search_index import IndexedEntity, SearchIndex
from codesearch.locations import workspace_store_dir
from codesearch.parsing import extract_entities
from codesearch.parsing.languages import language_for_path
from codesearch.search import Hit, SearchFilters, rank
from codesearch.store import (
    SCHEMA_VERSION,
    EntityFailure,
    EntityRecord,
    FileManifest,
    Store,
    StoreDamaged,
    StoreError,
    StoreMeta,
    describe,
    is_corruption,
)

log = logging.getLogger(__name__)

CHUNK_ENTITIES = 2048  # entities per embed-and-commit step (sorted by length within it)
# The first step is small so the model starts at once (two batches); each next one is eight
# times larger, up to CHUNK_ENTITIES, so parsing stays ahead of the model throughout.
FIRST_CHUNK_ENTITIES = 64
CHUNK_GROWTH = 8
SKIP_KINDS = frozenset({"binary", "too_large"})  # not indexed on purpose: counted, not diagnosed


@dataclass
class IndexProgress:
    phase: str  # "scanning" | "parsing" | "loading model" | "embedding" | "done"
    done: int  # entities finished (cached or embedded)
    total: int  # entities in changed files
    files_done: int = 0
    files_total: int = 0


@dataclass
class IndexSummary:
    files: int = 0  # files in the index afterwards
    entities: int = 0  # entities in the index afterwards
    scanned: int = 0
    parsed: int = 0  # files read and parsed in this run
    unchanged: int = 0
    removed: int = 0  # files dropped from the index
    embedded: int = 0  # entities sent to the model
    cached: int = 0  # entities of parsed files whose vectors were already stored
    failed: int = 0  # failed entities + failed files
    failed_files: int = 0
    skipped: int = 0  # too large, binary, symlinks leaving the workspace, unlistable
    seconds: float = 0.0
    cancelled: bool = False
    changed_paths: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data.pop("changed_paths")
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass(frozen=True)
class FileProblem:
    """Why a file, or some of its entities, is missing from the index (for diagnostics)."""

    path: str
    error: str | None
    failures: tuple[EntityFailure, ...]


@dataclass
class _FileWork:
    scanned: ScannedFile
    content_hash: str = ""
    entities: list[Entity] = field(default_factory=list)
    prepared: list[PreparedText | EmptyEntityError] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # keyword bag of each entity
    error: str | None = None
    error_kind: str = ""
    text: str = ""  # held only between reading and parsing


ProgressFn = Callable[[IndexProgress], None]
StopFn = Callable[[], bool]


class Workspace:
    """Index and search one workspace root."""

    def __init__(
        self,
        root: Path | str,
        settings: Settings | None = None,
        *,
        encoder: Encoder | None = None,
        store_dir: Path | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = (settings or Settings()).with_env_defaults()
        self._encoder = encoder
        self._spec: ModelSpec | None = None
        if encoder is not None:
            self.model_id = encoder.model_id
            self.model_name = encoder.model_id
        else:
            self._spec = resolve_model(self.settings.model)
            self.model_id = vector_model_id(self._spec, self.settings.backend)
            self.model_name = self._spec.name
            if self.settings.backend != "torch":
                self.model_name += f" ({self.settings.backend})"
        base = self.settings.store_dir or None
        self.store_dir = store_dir or workspace_store_dir(self.root, base)
        self.rules = IgnoreRules(self.root, self.settings.exclude)
        self._lock = threading.RLock()
        self._model_lock = threading.Lock()
        self._manifests: dict[str, FileManifest] = {}
        self._skipped: dict[str, list[str]] = {}
        self._index: SearchIndex | None = None
        self.store: Store | None = None
        self.last_indexed: float | None = None
        self._snapshot_generation = -1

    # -- lifecycle ---------------------------------------------------------------------
    def open(self) -> Workspace:
        """Open the store and load the search index from it (no model needed).

        A store that is damaged, or was built by another model or store format, is moved
        aside and replaced by an empty one; `store.recovered` then says so, once.
        """
        if not self.root.is_dir():
            raise FileNotFoundError(f"workspace folder does not exist: {self.root}")
        self.store = Store(self.store_dir, model_id=self.model_id)
        meta = self.store.meta()
        if meta is not None:
            self._load_index(meta.dimensions)
        return self

    def close(self) -> None:
        if self.store is not None:
            try:
                self.save_snapshot()
            except Exception:
                log.exception("writing the index snapshot failed (the next start reads manifests)")
            self.store.close()
            self.store = None

    def __enter__(self) -> Workspace:
        return self.open() if self.store is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_store(self) -> Store:
        if self.store is None:
            raise RuntimeError("workspace is not open")
        return self.store

    def _load_index(self, dimensions: int) -> None:
        store = self._require_store()
        if self._load_snapshot(store, dimensions):
            return
        try:
            index, manifests, stale = _read_stored_index(store, dimensions)
        except StoreDamaged as damage:
            store.replace_damaged(damage)  # moved aside; everything is indexed again
            self._manifests = {}
            self._index = None
            return
        if stale:
            store.write_manifests((), removed=stale)
        self._manifests = {path: _slim(m) for path, m in manifests.items()}
        self._index = index

    def _load_snapshot(self, store: Store, dimensions: int) -> bool:
        """Warm start from the snapshot when it matches the store's generation exactly.

        One blob instead of a read per file and per vector: 100k entities load in a few
        seconds. Anything unexpected falls back to the manifests, which are the truth.
        """
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
        self._index = index
        self._manifests = {m.path: m for m in manifests}
        self._snapshot_generation = found[0]
        return True

    def save_snapshot(self) -> bool:
        """Write the warm-start snapshot if the index changed since the last one."""
        store = self.store
        if store is None or self._index is None:
            return False
        with self._lock:
            generation = store.generation()
            if generation == self._snapshot_generation:
                return False
            state = {
                "model_id": self.model_id,
                "index": self._index.to_state(),
                "manifests": [m.to_data() for m in self._manifests.values()],
            }
            payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
            store.put_snapshot(generation, payload)
            self._snapshot_generation = generation
        return True

    # -- model ------------------------------------------------------------------------
    @property
    def encoder(self) -> Encoder:
        """The model, loaded on first need (a warm, unchanged index never loads it)."""
        with self._model_lock:
            if self._encoder is None:
                assert self._spec is not None
                self._encoder = load_encoder(
                    self._spec, backend=self.settings.backend, threads=self.settings.threads
                )
            return self._encoder

    @property
    def model_loaded(self) -> bool:
        return self._encoder is not None

    def _ensure_index(self) -> SearchIndex:
        if self._index is None:
            dims = self.encoder.dimensions
            store = self._require_store()
            store.set_meta(StoreMeta(SCHEMA_VERSION, self.model_id, dims))
            self._index = SearchIndex(dims)
        return self._index

    # -- indexing ---------------------------------------------------------------------
    def index(
        self,
        *,
        force: bool = False,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> IndexSummary:
        """Bring the whole workspace up to date (incremental unless `force`)."""
        started = time.perf_counter()
        if progress:
            progress(IndexProgress("scanning", 0, 0))
        scan = scan_workspace(
            self.root, max_file_size=self.settings.max_file_size, rules=self.rules
        )
        self._skipped = scan.skipped
        with self._lock:
            known = set(self._manifests)
        seen = {f.rel_path for f in scan.files}
        summary = IndexSummary(scanned=len(scan.files))
        self._remove(sorted(known - seen), summary)
        self._update(scan.files, force, summary, progress, should_stop)
        if not summary.cancelled:
            self.save_snapshot()
        return self._finish(summary, started, progress)

    def index_paths(
        self,
        paths: Iterable[Path | str],
        *,
        progress: ProgressFn | None = None,
        should_stop: StopFn | None = None,
    ) -> IndexSummary:
        """Re-index these files only (a save, a file watcher event); gone files are removed."""
        started = time.perf_counter()
        summary = IndexSummary()
        present: list[ScannedFile] = []
        gone: list[str] = []
        for raw in paths:
            rel = self.relative(raw)
            if rel is None:
                continue
            scanned = self._scan_one(rel)
            if scanned is None:
                gone.append(rel)
            else:
                present.append(scanned)
        summary.scanned = len(present)
        with self._lock:
            self._remove([p for p in gone if p in self._manifests], summary)
        self._update(present, False, summary, progress, should_stop)
        return self._finish(summary, started, progress)

    def remove_paths(self, paths: Iterable[Path | str]) -> IndexSummary:
        """Drop files (or whole folders) from the index."""
        started = time.perf_counter()
        summary = IndexSummary()
        targets: list[str] = []
        with self._lock:
            for raw in paths:
                rel = self.relative(raw)
                if rel is None:
                    continue
                prefix = rel.rstrip("/") + "/"
                targets.extend(p for p in self._manifests if p == rel or p.startswith(prefix))
        self._remove(sorted(set(targets)), summary)
        return self._finish(summary, started, None)

    def relative(self, path: Path | str) -> str | None:
        """Workspace-relative posix path, or None for a path outside this root."""
        candidate = Path(path)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        absolute = Path(os.path.abspath(candidate))
        try:
            rel = absolute.relative_to(self.root)
        except ValueError:
            return None
        text = rel.as_posix()
        return None if text in ("", ".") or text.startswith("../") else text

    def _scan_one(self, rel: str) -> ScannedFile | None:
        """The file as the scan would see it, or None if it should not be indexed."""
        language = language_for_path(rel)
        if language is None or self.rules.is_ignored(rel):
            return None
        absolute = self.root / rel
        try:
            # resolve the whole path, not just its last part: a file under a symlinked
            # folder that leaves the workspace must not be read either
            target = absolute.resolve(strict=True)
            if not target.is_relative_to(self.root):
                return None
            stat = absolute.stat()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop before Python 3.13
            return None
        if not absolute.is_file():
            return None
        if stat.st_size > self.settings.max_file_size:
            self._skipped.setdefault("too_large", []).append(rel)
            return None
        return ScannedFile(rel, absolute, stat.st_size, stat.st_mtime_ns, language)

    def _remove(self, paths: Sequence[str], summary: IndexSummary) -> None:
        if not paths:
            return
        store = self._require_store()
        store.write_manifests((), removed=paths)
        with self._lock:
            for path in paths:
                self._manifests.pop(path, None)
                if self._index is not None:
                    self._index.remove_file(path)
        summary.removed += len(paths)
        summary.changed_paths.extend(paths)

    def _update(
        self,
        files: Sequence[ScannedFile],
        force: bool,
        summary: IndexSummary,
        progress: ProgressFn | None,
        should_stop: StopFn | None,
    ) -> None:
        work: list[_FileWork] = []
        touched: list[FileManifest] = []
        for scanned in files:
            with self._lock:
                old = self._manifests.get(scanned.rel_path)
            if (
                not force
                and old is not None
                and old.mtime_ns == scanned.mtime_ns
                and old.size == scanned.size
            ):
                summary.unchanged += 1
                continue
            work.append(_FileWork(scanned))
        if progress:
            progress(IndexProgress("parsing", 0, 0, 0, len(work)))

        to_parse: list[_FileWork] = []
        for item in work:
            if should_stop and should_stop():
                summary.cancelled = True
                return
            self._read(item)
            with self._lock:
                old = self._manifests.get(item.scanned.rel_path)
            if (
                not force
                and item.error is None
                and old is not None
                and old.error is None
                and old.content_hash == item.content_hash
            ):
                # touched but not changed (git checkout, formatter no-op): stat only
                full = self._require_store().get_manifest(old.path) or old
                touched.append(
                    dataclasses.replace(
                        full, mtime_ns=item.scanned.mtime_ns, size=item.scanned.size
                    )
                )
                summary.unchanged += 1
                continue
            to_parse.append(item)
        if touched:
            self._require_store().write_manifests(touched)
            with self._lock:
                self._manifests.update((m.path, _slim(m)) for m in touched)
        if not to_parse:
            return

        if progress and self._encoder is None:
            # the first int8 load exports the model (seconds): say so rather than hang
            progress(IndexProgress("loading model", 0, 0))
        encoder = self.encoder  # something changed: now the model is needed
        index = self._ensure_index()
        store = self._require_store()
        embedder = BatchEmbedder(encoder, store, batch_size=self.settings.batch_size)
        summary.parsed = len(to_parse)
        parser = _ParseAhead(self, to_parse, embedder, should_stop)
        done = 0
        files_done = 0
        try:
            for chunk in parser.chunks():
                if should_stop and should_stop():
                    summary.cancelled = True
                    return
                total = parser.entities_parsed
                entities = [e for item in chunk for e in item.entities]
                prepared = [p for item in chunk for p in item.prepared]
                report = _chunk_reporter(
                    progress, done, len(entities), total, files_done, len(to_parse)
                )
                result = embedder.process_batch(
                    entities,
                    force=force,
                    prepared=prepared,
                    on_progress=report,
                    should_stop=should_stop,
                    spare_core=parser.is_busy,
                )
                summary.embedded += result.summary.newly_embedded
                summary.cached += result.summary.cached
                if result.cancelled:
                    summary.cancelled = True
                    return  # finished batches' vectors are stored; manifests wait for next run
                manifests = [
                    self._manifest_for(item, result.vectors, result.keys, result.errors)
                    for item in chunk
                ]
                store.write_manifests(manifests)
                with self._lock:
                    for item, manifest in zip(chunk, manifests, strict=True):
                        vectors = [result.vectors[e_id] for e_id in _ids(item, manifest)]
                        index.replace_file(manifest.path, manifest.entities, vectors)
                        self._manifests[manifest.path] = _slim(manifest)
                        summary.changed_paths.append(manifest.path)
                done += len(entities)
                files_done += len(chunk)
                if progress:
                    progress(
                        IndexProgress(
                            "embedding", done, parser.entities_parsed, files_done, len(to_parse)
                        )
                    )
        finally:
            parser.stop()

    def _read(self, item: _FileWork) -> None:
        try:
            source = read_source(item.scanned.abs_path, max_file_size=self.settings.max_file_size)
        except UnreadableFileError as exc:
            item.error, item.error_kind = exc.reason, exc.kind
            item.content_hash = ""
            return
        item.content_hash = source.content_hash
        item.scanned = ScannedFile(
            item.scanned.rel_path,
            item.scanned.abs_path,
            source.size,
            source.mtime_ns,
            item.scanned.language,
        )
        item.text = source.text

    def _parse(self, item: _FileWork, embedder: BatchEmbedder) -> None:
        try:
            entities = extract_entities(item.text, item.scanned.language, item.scanned.rel_path)
        except Exception as exc:  # the parser promises not to raise; never trust it blindly
            log.exception("parsing %s failed", item.scanned.rel_path)
            item.error, item.error_kind = f"could not be parsed: {exc}", "parse"
            return
        finally:
            item.text = ""
        item.entities = entities
        item.prepared = embedder.preparator.prepare_many(entities) if entities else []
        item.terms = [keywords.entity_terms(entity) for entity in entities]

    def _manifest_for(
        self,
        item: _FileWork,
        vectors: dict[str, Vectors],
        keys: dict[str, str],
        errors: dict[str, str],
    ) -> FileManifest:
        scanned = item.scanned
        base = FileManifest(
            scanned.rel_path, scanned.mtime_ns, scanned.size, item.content_hash, scanned.language
        )
        if item.error is not None:
            skipped = item.error_kind in SKIP_KINDS
            return dataclasses.replace(
                base,
                error=None if skipped else item.error,
                skipped=item.error if skipped else None,
            )
        records: list[EntityRecord] = []
        failures: list[EntityFailure] = []
        for entity, terms in zip(item.entities, item.terms, strict=True):
            if entity.id in vectors:
                records.append(
                    EntityRecord(
                        entity.name,
                        entity.kind,
                        entity.language,
                        entity.start_line,
                        entity.end_line,
                        entity.start_col,
                        entity.end_col,
                        keys[entity.id],
                        entity.signature,
                        terms,
                    )
                )
            else:
                failures.append(
                    EntityFailure(
                        entity.name,
                        entity.kind,
                        entity.start_line,
                        entity.end_line,
                        errors.get(entity.id, "not embedded"),
                    )
                )
        return dataclasses.replace(base, entities=tuple(records), failures=tuple(failures))

    def _finish(
        self, summary: IndexSummary, started: float, progress: ProgressFn | None
    ) -> IndexSummary:
        with self._lock:
            summary.files = len(self._manifests)
            summary.entities = len(self._index) if self._index is not None else 0
            summary.failed_files = sum(1 for m in self._manifests.values() if m.error)
            summary.failed = summary.failed_files + sum(
                len(m.failures) for m in self._manifests.values()
            )
        summary.skipped = sum(self.skipped_counts().values())
        summary.seconds = time.perf_counter() - started
        if not summary.cancelled:
            self.last_indexed = time.time()
        if progress:
            progress(IndexProgress("done", summary.entities, summary.entities))
        return summary

    def clear(self) -> None:
        """Forget everything indexed for this root (the store is emptied, not moved)."""
        store = self._require_store()
        with self._lock:
            store.clear()
            self._manifests.clear()
            if self._index is not None:
                self._index.clear()
            self._index = None

    # -- queries ----------------------------------------------------------------------
    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        filters: SearchFilters | None = None,
    ) -> list[Hit]:
        """Hybrid search; an empty or whitespace query gives no hits."""
        if not query.strip() or self._index is None or len(self._index) == 0:
            return []
        vector = self.encoder.encode([query.strip()], batch_size=1)[0]
        return rank(self._index, query, vector, limit=limit, filters=filters)

    def entity_at(self, path: Path | str, line: int) -> tuple[int, Hit] | None:
        """The innermost indexed entity whose range holds this 1-based line."""
        rel = self.relative(path)
        index = self._index
        if rel is None or index is None:
            return None
        best: tuple[int, int, IndexedEntity] | None = None  # span, row, entity
        with index.reading():  # rows stay put while we look (a save may be updating)
            for row in index.rows_of(rel):
                item = index.entity(row)
                if item is None:
                    continue
                rec = item.record
                if rec.start_line <= line <= rec.end_line:
                    span = rec.end_line - rec.start_line
                    if best is None or span < best[0]:
                        best = (span, row, item)
        if best is None:
            return None
        _, row, found = best
        rec = found.record
        hit = Hit(
            rel,
            rec.name,
            rec.kind,
            rec.language,
            rec.start_line,
            rec.end_line,
            rec.start_col,
            rec.end_col,
            rec.signature,
            1.0,
            1.0,
            0.0,
            (),
        )
        return row, hit

    def similar(
        self, path: Path | str, line: int, *, limit: int = 20, filters: SearchFilters | None = None
    ) -> list[Hit]:
        """Entities nearest by meaning to the one at path:line (itself excluded)."""
        index = self._index
        if index is None:
            return []
        with index.reading():  # the row found must still be that entity when ranking
            found = self.entity_at(path, line)
            if found is None:
                return []
            row, _ = found
            vector = index.vector(row)
            return rank(index, "", vector, limit=limit, filters=filters, exclude_rows={row})

    # -- reporting --------------------------------------------------------------------
    @property
    def entity_count(self) -> int:
        return len(self._index) if self._index is not None else 0

    @property
    def file_count(self) -> int:
        with self._lock:
            return len(self._manifests)

    def problems(self) -> list[FileProblem]:
        with self._lock:
            return [
                FileProblem(m.path, m.error, m.failures)
                for m in self._manifests.values()
                if m.error or m.failures
            ]

    def problem_for(self, path: str) -> FileProblem | None:
        with self._lock:
            manifest = self._manifests.get(path)
        if manifest is None or not (manifest.error or manifest.failures):
            return None
        return FileProblem(manifest.path, manifest.error, manifest.failures)

    def skipped_counts(self) -> dict[str, int]:
        """Files left out on purpose, by reason (scan-time and read-time alike)."""
        counts = {k: len(v) for k, v in self._skipped.items() if v}
        with self._lock:
            for manifest in self._manifests.values():
                if manifest.skipped:
                    reason = "binary" if "binary" in manifest.skipped else "too_large"
                    counts[reason] = counts.get(reason, 0) + 1
        return counts

    def status(self) -> dict[str, object]:
        problems = self.problems()
        store = self.store
        return {
            "root": str(self.root),
            "store": str(self.store_dir),
            "model": self.model_name,
            "files": self.file_count,
            "entities": self.entity_count,
            "failed_files": sum(1 for p in problems if p.error),
            "failed_entities": sum(len(p.failures) for p in problems),
            "skipped": self.skipped_counts(),
            "store_bytes": store.size_bytes() if store is not None else 0,
            "last_indexed": self.last_indexed,
        }


class _ParseAhead:
    """Parses and prepares files on a helper thread while the model embeds the last chunk.

    The model call releases the GIL, so parsing runs beside it; while it does (`is_busy`)
    the model is asked to leave it a core (see Encoder.encode_ids). A bounded queue
    keeps at most a few chunks of parsed source in memory.
    """

    def __init__(
        self,
        workspace: Workspace,
        items: Sequence[_FileWork],
        embedder: BatchEmbedder,
        should_stop: StopFn | None,
    ) -> None:
        self._workspace = workspace
        self._items = items
        self._embedder = embedder
        self._should_stop = should_stop
        self._queue: queue.Queue[list[_FileWork] | BaseException | None] = queue.Queue(3)
        self._stop = threading.Event()
        self._busy = threading.Event()  # set while parsing, clear while waiting or done
        self.entities_parsed = 0
        self._thread = threading.Thread(target=self._run, name="codesearch-parse", daemon=True)
        _relax_gc()
        self._thread.start()

    def _stopped(self) -> bool:
        return self._stop.is_set() or bool(self._should_stop and self._should_stop())

    def is_busy(self) -> bool:
        """True while the helper is parsing (the model should leave it a core)."""
        return self._busy.is_set()

    def _put(self, value: list[_FileWork] | BaseException | None) -> bool:
        self._busy.clear()
        while not self._stop.is_set():
            try:
                self._queue.put(value, timeout=0.1)
                self._busy.set()
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        self._busy.set()
        try:
            chunk: list[_FileWork] = []
            count = 0
            limit = FIRST_CHUNK_ENTITIES
            for item in self._items:
                if self._stopped():
                    break
                if item.error is None:
                    self._workspace._parse(item, self._embedder)
                self.entities_parsed += len(item.entities)
                chunk.append(item)
                count += len(item.entities)
                if count >= limit:
                    if not self._put(chunk):
                        return
                    chunk, count = [], 0
                    limit = min(limit * CHUNK_GROWTH, CHUNK_ENTITIES)
            if chunk:
                self._put(chunk)
        except BaseException as exc:  # handed to the consuming thread, raised there
            self._put(exc)
        finally:
            self._put(None)
            self._busy.clear()

    def chunks(self) -> Iterable[list[_FileWork]]:
        """Parsed chunks in order; chunks already waiting are merged (up to about
        CHUNK_ENTITIES), so the model sorts more texts by length at once and pads less."""
        ended = False
        while not ended:
            value = self._queue.get()
            if value is None:
                return
            if isinstance(value, BaseException):
                raise value
            chunk = value
            count = sum(len(item.entities) for item in chunk)
            error: BaseException | None = None
            while count < CHUNK_ENTITIES:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    ended = True
                    break
                if isinstance(more, BaseException):
                    error = more  # raised once the chunk parsed before it is done
                    break
                chunk = chunk + more
                count += sum(len(item.entities) for item in more)
            yield chunk
            if error is not None:
                raise error

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        _restore_gc()


_gc_lock = threading.Lock()
_gc_users = 0
_gc_saved: tuple[int, int, int] = gc.get_threshold()
# Parsing makes many short-lived objects (syntax nodes, entities, token lists): with the
# default thresholds the garbage collector ran ~300 passes per 2,365 entities (0.15 s of
# CPU taken from the model); at these it runs about a dozen. Restored when indexing ends.
_INDEXING_GC_THRESHOLD = (10_000, 20, 20)


def _relax_gc() -> None:
    """Fewer collector passes while any workspace is parsing (counted, so overlapping
    index runs restore the thresholds only when the last one ends)."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(*_INDEXING_GC_THRESHOLD)
        _gc_users += 1


def _restore_gc() -> None:
    global _gc_users
    with _gc_lock:
        _gc_users = max(0, _gc_users - 1)
        if _gc_users == 0:
            gc.set_threshold(*_gc_saved)


def _slim(manifest: FileManifest) -> FileManifest:
    """What stays in memory per file: stat, hash and failures; entities live in the index."""
    return dataclasses.replace(manifest, entities=()) if manifest.entities else manifest


def _chunk_reporter(
    progress: ProgressFn | None,
    base: int,
    chunk_size: int,
    total: int,
    files_done: int,
    files_total: int,
) -> Callable[[int, int], None] | None:
    """Progress inside one chunk: its cached entities count as done at once."""
    if progress is None:
        return None

    def report(embedded: int, to_embed: int) -> None:
        done = base + (chunk_size - to_embed) + embedded
        progress(IndexProgress("embedding", done, total, files_done, files_total))

    return report


def _ids(item: _FileWork, manifest: FileManifest) -> list[str]:
    indexed = {(r.kind, r.name) for r in manifest.entities}
    return [e.id for e in item.entities if (e.kind, e.name) in indexed]


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
