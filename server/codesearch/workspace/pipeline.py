"""Bring changed files into the index: read -> parse (ahead, on a helper thread) -> embed ->
commit, chunk by chunk, so a crash or a cancel loses at most the chunk in flight.

The pipeline keeps one BatchEmbedder, and with it one TextPreparator (a private copy of
the tokenizer), for the life of the workspace: building them on every save cost a
tokenizer copy per save. Parsing ahead of the model needs only a parse function, not the
workspace.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from codesearch import keywords
from codesearch.config import Settings
from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.text import EmptyEntityError, PreparedText, TextPreparator
from codesearch.embedding.types import PrefersBatchSize, Vectors
from codesearch.entities import Entity
from codesearch.index.reading import UnreadableFileError, read_source
from codesearch.index.scan import ScannedFile
from codesearch.parsing import extract_entities
from codesearch.store import EntityFailure, EntityRecord, FileManifest
from codesearch.tiers.cache import TieredVectorCache
from codesearch.tiers.shared import SharedVectorTier
from codesearch.workspace.catalog import Catalog
from codesearch.workspace.model import ModelHandle
from codesearch.workspace.reports import IndexProgress, IndexSummary, ProgressFn, StopFn

log = logging.getLogger(__name__)

CHUNK_ENTITIES = 2048  # entities per embed-and-commit step (sorted by length within it)
# The first step is small so the model starts at once (two batches); each next one is eight
# times larger, up to CHUNK_ENTITIES, so parsing stays ahead of the model throughout.
FIRST_CHUNK_ENTITIES = 64
CHUNK_GROWTH = 8
# Up to this many changed files (a save, a few watcher events) are parsed on the indexing
# thread itself: a helper thread pays off only when parsing and the model can overlap.
INLINE_FILES = 4
SKIP_KINDS = frozenset({"binary", "too_large"})  # not indexed on purpose: counted, not diagnosed


@dataclass
class FileWork:
    """One changed file on its way through the pipeline."""

    scanned: ScannedFile
    content_hash: str = ""
    entities: list[Entity] = field(default_factory=list)
    prepared: list[PreparedText | EmptyEntityError] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)  # keyword bag of each entity
    error: str | None = None
    error_kind: str = ""
    warning: str | None = None  # read, with a caveat (an encoding that was a guess)
    text: str = ""  # held only between reading and parsing


class IndexPipeline:
    """Read, parse, embed and commit changed files of one root into its catalog."""

    def __init__(
        self,
        catalog: Catalog,
        model: ModelHandle,
        settings: Settings,
        shared: SharedVectorTier | None = None,
    ) -> None:
        self.catalog = catalog
        self.model = model
        self.batch_size = settings.batch_size
        self.max_file_size = settings.max_file_size
        self.shared = shared
        self.tiered: TieredVectorCache | None = None  # the store under the shared tier
        self._embedder: BatchEmbedder | None = None
        self._embedder_lock = threading.Lock()

    def embedder(self) -> BatchEmbedder:
        """The one BatchEmbedder (and text preparator) of this workspace, made on first need.

        Its cache is the store, with the shared tier under it when there is one (keyed by
        the model's identity); an encoder that knows its best batch (a remote one: every
        concurrent request filled) gets batches of that size.
        """
        with self._embedder_lock:
            if self._embedder is None:
                encoder = self.model.get()
                batch_size = self.batch_size
                if isinstance(encoder, PrefersBatchSize):
                    batch_size = encoder.preferred_batch_size
                if self.shared is not None:
                    self.tiered = TieredVectorCache(
                        self.catalog.store, self.shared, encoder.model_id
                    )
                self._embedder = BatchEmbedder(
                    encoder, self.tiered or self.catalog.store, batch_size=batch_size
                )
            return self._embedder

    def _count_shared(self, entities: Sequence[Entity], keys: dict[str, str]) -> int:
        """Entities of this step whose vectors the shared tier gave (counted apart from the
        ones the local store had)."""
        if self.tiered is None:
            return 0
        from_tier = self.tiered.take_shared_keys()
        return sum(1 for e in entities if e.id in keys and keys[e.id] in from_tier)

    def update(
        self,
        files: Sequence[ScannedFile],
        force: bool,
        summary: IndexSummary,
        progress: ProgressFn | None,
        should_stop: StopFn | None,
    ) -> None:
        """Index what changed among `files` (everything with `force`)."""
        work = [FileWork(f) for f in files if force or not self._unchanged_stat(f, summary)]
        if progress:
            progress(IndexProgress("parsing", 0, 0, 0, len(work)))
        to_parse: list[FileWork] = []
        touched: list[FileManifest] = []
        for item in work:
            if should_stop and should_stop():
                summary.cancelled = True
                return
            self._read(item)
            old = self.catalog.manifest(item.scanned.rel_path)
            if (
                not force
                and item.error is None
                and old is not None
                and not needs_retry(old)
                and old.content_hash == item.content_hash
            ):
                # touched but not changed (git checkout, formatter no-op): stat only
                full = self.catalog.store.get_manifest(old.path) or old
                touched.append(
                    dataclasses.replace(
                        full, mtime_ns=item.scanned.mtime_ns, size=item.scanned.size
                    )
                )
                summary.unchanged += 1
                continue
            to_parse.append(item)
        self.catalog.touch(touched)
        if to_parse:
            self._embed_and_commit(to_parse, force, summary, progress, should_stop)

    def _unchanged_stat(self, scanned: ScannedFile, summary: IndexSummary) -> bool:
        old = self.catalog.manifest(scanned.rel_path)
        if (
            old is not None
            and not needs_retry(old)
            and old.mtime_ns == scanned.mtime_ns
            and old.size == scanned.size
        ):
            summary.unchanged += 1
            return True
        return False

    def _embed_and_commit(
        self,
        to_parse: list[FileWork],
        force: bool,
        summary: IndexSummary,
        progress: ProgressFn | None,
        should_stop: StopFn | None,
    ) -> None:
        if progress and not self.model.loaded:
            # a load takes seconds, a first load that prepares the model (the int8 export)
            # half a minute: say which, rather than seem to hang
            preparing = self.model.preparation()
            if preparing is None:
                progress(IndexProgress("loading model", 0, 0))
            else:
                progress(IndexProgress("preparing model", 0, 0, expected_s=preparing))
        embedder = self.embedder()  # something changed: now the model is needed
        self.catalog.ensure_index(embedder.encoder.dimensions)
        summary.parsed = len(to_parse)

        def parse(item: FileWork) -> None:
            parse_file(item, embedder.preparator)

        parser: ParseAhead | InlineParse
        if len(to_parse) <= INLINE_FILES:
            parser = InlineParse(to_parse, parse)
        else:
            parser = ParseAhead(to_parse, parse, should_stop)
        done = 0
        files_done = 0
        try:
            for chunk in parser.chunks():
                if should_stop and should_stop():
                    summary.cancelled = True
                    return
                entities = [e for item in chunk for e in item.entities]
                result = embedder.process_batch(
                    entities,
                    force=force,
                    prepared=[p for item in chunk for p in item.prepared],
                    on_progress=_chunk_reporter(
                        progress,
                        parser,
                        IndexProgress(
                            "embedding", done, 0, files_done, len(to_parse), 0, summary.embedded
                        ),
                        len(entities),
                    ),
                    should_stop=should_stop,
                    spare_core=parser.is_busy,
                )
                shared = self._count_shared(entities, result.keys)
                summary.embedded += result.summary.newly_embedded
                summary.cached += result.summary.cached - shared
                summary.shared += shared
                if result.cancelled:
                    summary.cancelled = True
                    return  # finished batches' vectors are stored; manifests wait for next run
                manifests = [
                    manifest_for(item, result.vectors, result.keys, result.errors) for item in chunk
                ]
                self.catalog.commit(
                    manifests,
                    [
                        [result.vectors[e_id] for e_id in _ids(item, manifest)]
                        for item, manifest in zip(chunk, manifests, strict=True)
                    ],
                )
                summary.changed_paths.extend(m.path for m in manifests)
                done += len(entities)
                files_done += len(chunk)
                if progress:
                    progress(
                        IndexProgress(
                            "embedding",
                            done,
                            parser.entities_parsed,
                            files_done,
                            len(to_parse),
                            parser.files_parsed,
                            summary.embedded,
                        )
                    )
        finally:
            parser.stop()

    def _read(self, item: FileWork) -> None:
        try:
            source = read_source(
                item.scanned.abs_path,
                max_file_size=self.max_file_size,
                language=item.scanned.language,
            )
        except UnreadableFileError as exc:
            item.error, item.error_kind = exc.reason, exc.kind
            item.content_hash = ""
            return
        item.content_hash = source.content_hash
        item.scanned = dataclasses.replace(item.scanned, size=source.size, mtime_ns=source.mtime_ns)
        item.text = source.text
        item.warning = source.warning


def needs_retry(manifest: FileManifest) -> bool:
    """A file that failed (unreadable, or some entities not embedded) is never "unchanged":
    what failed may work now (a chmod, a model that recovered) without its mtime moving."""
    return manifest.error is not None or bool(manifest.failures)


def parse_file(item: FileWork, preparator: TextPreparator) -> None:
    """Entities, prepared texts and keyword bags of one read file (its text is dropped)."""
    if item.error is not None:
        return
    try:
        entities = extract_entities(item.text, item.scanned.language, item.scanned.rel_path)
    except Exception as exc:  # the parser promises not to raise; never trust it blindly
        log.exception("parsing %s failed", item.scanned.rel_path)
        item.error, item.error_kind = f"could not be parsed: {exc}", "parse"
        return
    finally:
        item.text = ""
    item.entities = entities
    item.prepared = preparator.prepare_many(entities) if entities else []
    item.terms = [keywords.entity_terms(entity) for entity in entities]


def manifest_for(
    item: FileWork, vectors: dict[str, Vectors], keys: dict[str, str], errors: dict[str, str]
) -> FileManifest:
    """The file's record: its entities that got a vector, and why the others did not."""
    scanned = item.scanned
    base = FileManifest(
        scanned.rel_path,
        scanned.mtime_ns,
        scanned.size,
        item.content_hash,
        scanned.language,
        warning=item.warning,
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


class InlineParse:
    """A few files (a save): parsed on the calling thread, as one chunk, no helper thread."""

    def __init__(self, items: Sequence[FileWork], parse: Callable[[FileWork], None]) -> None:
        self._items = items
        self._parse = parse
        self.entities_parsed = 0
        self.files_parsed = 0

    def is_busy(self) -> bool:
        return False

    def chunks(self) -> Iterable[list[FileWork]]:
        for item in self._items:
            self._parse(item)
            self.entities_parsed += len(item.entities)
            self.files_parsed += 1
        yield list(self._items)

    def stop(self) -> None:
        return None


class ParseAhead:
    """Parses and prepares files on a helper thread while the model embeds the last chunk.

    The model call releases the GIL, so parsing runs beside it; while it does (`is_busy`)
    the model is asked to leave it a core (see OnnxInt8Model.encode_ids). A bounded queue
    keeps at most a few chunks of parsed source in memory.
    """

    def __init__(
        self,
        items: Sequence[FileWork],
        parse: Callable[[FileWork], None],
        should_stop: StopFn | None,
    ) -> None:
        self._items = items
        self._parse = parse
        self._should_stop = should_stop
        self._queue: queue.Queue[list[FileWork] | BaseException | None] = queue.Queue(3)
        self._stop = threading.Event()
        self._busy = threading.Event()  # set while parsing, clear while waiting or done
        self.entities_parsed = 0
        self.files_parsed = 0
        self._thread = threading.Thread(target=self._run, name="codesearch-parse", daemon=True)
        _relax_gc()
        self._thread.start()

    def _stopped(self) -> bool:
        return self._stop.is_set() or bool(self._should_stop and self._should_stop())

    def is_busy(self) -> bool:
        """True while the helper is parsing (the model should leave it a core)."""
        return self._busy.is_set()

    def _put(self, value: list[FileWork] | BaseException | None) -> bool:
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
            chunk: list[FileWork] = []
            count = 0
            limit = FIRST_CHUNK_ENTITIES
            for item in self._items:
                if self._stopped():
                    break
                self._parse(item)
                self.entities_parsed += len(item.entities)
                self.files_parsed += 1
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

    def chunks(self) -> Iterable[list[FileWork]]:
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
INDEXING_GC_THRESHOLD = (10_000, 20, 20)


def _relax_gc() -> None:
    """Fewer collector passes while any workspace is parsing (counted, so overlapping
    index runs restore the thresholds only when the last one ends)."""
    global _gc_users, _gc_saved
    with _gc_lock:
        if _gc_users == 0:
            _gc_saved = gc.get_threshold()
            gc.set_threshold(*INDEXING_GC_THRESHOLD)
        _gc_users += 1


def _restore_gc() -> None:
    global _gc_users
    with _gc_lock:
        _gc_users = max(0, _gc_users - 1)
        if _gc_users == 0:
            gc.set_threshold(*_gc_saved)


class _Parsing(Protocol):
    entities_parsed: int
    files_parsed: int


def _chunk_reporter(
    progress: ProgressFn | None, parser: _Parsing, before: IndexProgress, chunk_size: int
) -> Callable[[int, int], None] | None:
    """Progress inside one chunk: its cached entities count as done at once. `before` is
    the run's progress when the chunk started; the parse counts are read as they grow."""
    if progress is None:
        return None

    def report(embedded: int, to_embed: int) -> None:
        progress(
            dataclasses.replace(
                before,
                done=before.done + (chunk_size - to_embed) + embedded,
                total=parser.entities_parsed,
                files_parsed=parser.files_parsed,
                embedded=before.embedded + embedded,
            )
        )

    return report


def _ids(item: FileWork, manifest: FileManifest) -> list[str]:
    indexed = {(r.kind, r.name) for r in manifest.entities}
    return [e.id for e in item.entities if (e.kind, e.name) in indexed]
