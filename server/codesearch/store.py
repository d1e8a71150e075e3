"""The on-disk store (diskcache): vectors by content key, one manifest per file, metadata.

Vectors are float32 bytes keyed by content, so identical code anywhere in the workspace is
embedded once. A manifest records what a file looked like when it was indexed (stat, hash)
and which entities it held, so an unchanged file costs one stat on the next run.
"""

from __future__ import annotations

import logging
import os
import pickle
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import diskcache
import numpy as np

from codesearch.embedding.types import Vectors
from codesearch.store_copies import copy_target, prune_copies

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_META = "meta"
_VEC = "v:"
_MAN = "m:"
_GEN = "generation"
_SNAPSHOT = "snapshot"
# When the last full index pass finished (a float, seconds since the epoch), and the files
# the scan left out ({reason: [path, ...]}: a status in another process names them). A
# folder without code writes these and never the metadata, so the check for "entries but
# no metadata" does not count them.
_LAST_INDEXED = "last-indexed"
_SCAN_SKIPS = "scan-skips"
_BEFORE_META = (_LAST_INDEXED, _SCAN_SKIPS)


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the folder."""


class StoreDamaged(Exception):
    """The store's files cannot be trusted: move the folder aside and start a new one.

    `tag` names the kind of damage in the moved folder's name; `reason` is one sentence.
    """

    def __init__(self, tag: str, reason: str) -> None:
        super().__init__(reason)
        self.tag = tag
        self.reason = reason


@dataclass(frozen=True)
class EntityRecord:
    """What the search index needs of one entity, without its source text."""

    name: str
    kind: str
    language: str
    start_line: int
    end_line: int
    start_col: int
    end_col: int
    key: str
    signature: str
    terms: str  # identifier-aware keyword tokens, space separated


@dataclass(frozen=True)
class EntityFailure:
    name: str
    kind: str
    start_line: int
    end_line: int
    reason: str


@dataclass(frozen=True)
class FileManifest:
    path: str
    mtime_ns: int
    size: int
    content_hash: str
    language: str
    entities: tuple[EntityRecord, ...] = ()
    failures: tuple[EntityFailure, ...] = ()
    error: str | None = None  # the whole file failed (unreadable, undecodable)
    skipped: str | None = None  # not indexed on purpose (binary, too large): not a failure
    warning: str | None = None  # indexed, but with a caveat (its encoding was a guess)

    def to_data(self) -> dict[str, Any]:
        """What `asdict` gives (records as dicts), built flat: asdict's recursive deep copy
        cost 0.16 s per 2,365 entities on the thread that feeds the model."""
        data = dict(self.__dict__)
        data["entities"] = tuple(dict(record.__dict__) for record in self.entities)
        data["failures"] = tuple(dict(failure.__dict__) for failure in self.failures)
        return data

    @staticmethod
    def from_data(data: Mapping[str, Any]) -> FileManifest:
        return FileManifest(
            path=data["path"],
            mtime_ns=data["mtime_ns"],
            size=data["size"],
            content_hash=data["content_hash"],
            language=data["language"],
            entities=tuple(EntityRecord(**e) for e in data.get("entities", ())),
            failures=tuple(EntityFailure(**f) for f in data.get("failures", ())),
            error=data.get("error"),
            skipped=data.get("skipped"),
            warning=data.get("warning"),
        )


@dataclass(frozen=True)
class StoreMeta:
    schema_version: int
    model_id: str
    dimensions: int
    extra: dict[str, Any] = field(default_factory=dict)


class Store:
    """A diskcache-backed store for one workspace root. Thread-safe.

    Opening checks the store before trusting it: an SQLite file that is truncated or holds
    garbage, metadata that is missing or unreadable, another schema version, or (when
    `model_id` is given) another model. A store that fails is never deleted: its folder is
    renamed to `<folder>.corrupt-<time>` (damage) or `<folder>.old-schema-<time>` /
    `<folder>.old-model-<time>` (another version or model), a fresh store is created in its
    place, and `recovered` holds one sentence for the user: what was wrong and where the
    store went. What happens next is the caller's to say (the server rebuilds at once, a
    `search --no-update` does not). Only the newest copy of each kind is kept (see
    store_copies). Errors that say nothing about the files (locked by another process,
    disk full, permission denied) are raised as StoreError, and nothing is moved.
    """

    def __init__(
        self,
        directory: Path,
        *,
        model_id: str | None = None,
        schema_version: int = SCHEMA_VERSION,
    ) -> None:
        self.directory = directory
        self.recovered: str | None = None
        self._lock = threading.RLock()
        try:
            self._cache = self._open_checked(model_id, schema_version)
        except StoreDamaged as damage:
            self._replace(damage)
        prune_copies(directory)

    def replace_damaged(self, damage: StoreDamaged) -> None:
        """Damage found after opening (reading the index): move aside, start empty."""
        with self._lock:
            try:
                self._cache.close()
            except Exception:
                log.debug("closing the damaged store failed", exc_info=True)
            self._replace(damage)

    def _replace(self, damage: StoreDamaged) -> None:
        moved = self._move_aside(damage.tag)
        self.recovered = f"the index store at {self.directory} {damage.reason}; {moved}"
        log.info("%s", self.recovered)  # the CLI and the server tell the user, once
        self._cache = self._open_cache()

    # -- opening and checking ---------------------------------------------------------
    def _open_cache(self) -> diskcache.Cache:
        directory = self.directory
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(directory, 0o700)
            return diskcache.Cache(str(directory), eviction_policy="none", size_limit=1 << 62)
        except Exception as exc:
            if is_corruption(exc):
                raise StoreDamaged("corrupt", f"is damaged ({describe(exc)})") from exc
            raise StoreError(f"cannot open the index store at {directory}: {exc}") from exc

    def _open_checked(self, model_id: str | None, schema_version: int) -> diskcache.Cache:
        _check_database_file(self.directory / DATABASE_FILE)
        cache = self._open_cache()
        try:
            self._check(cache, model_id, schema_version)
        except BaseException:
            cache.close()
            raise
        return cache

    def _check(self, cache: diskcache.Cache, model_id: str | None, schema_version: int) -> None:
        try:
            raw = cache.get(_META, default=None)
            entries = len(cache)
        except Exception as exc:
            if is_corruption(exc):
                raise StoreDamaged("corrupt", f"is damaged ({describe(exc)})") from exc
            raise StoreError(f"cannot read the index store at {self.directory}: {exc}") from exc
        if raw is None:
            if entries - sum(key in cache for key in _BEFORE_META) and model_id is not None:
                # a workspace store writes its metadata before anything else
                raise StoreDamaged("corrupt", "has entries but no metadata")
            return  # a new, empty store (or a plain vector cache, which has no metadata)
        meta = _parse_meta(raw)
        if meta is None:
            raise StoreDamaged("corrupt", "has unreadable metadata")
        if meta.schema_version != schema_version:
            raise StoreDamaged(
                "old-schema",
                f"was written with store format {meta.schema_version} "
                f"(this version uses {schema_version})",
            )
        if model_id is not None and meta.model_id != model_id:
            raise StoreDamaged(
                "old-model", f"was built with another model ({meta.model_id}, now {model_id})"
            )

    def _move_aside(self, tag: str) -> str:
        """Rename the folder next to itself (never delete it); says where it went."""
        target = copy_target(self.directory, tag)
        try:
            os.rename(self.directory, target)
        except FileNotFoundError:
            return "another process moved it aside first"  # both found the same damage
        except OSError as exc:
            raise StoreError(
                f"the index store at {self.directory} cannot be used and could not be moved "
                f"aside to {target}: {exc}; move or delete it by hand"
            ) from exc
        return f"it was moved to {target}"

    # -- metadata -------------------------------------------------------------------
    def meta(self) -> StoreMeta | None:
        return _parse_meta(self._cache.get(_META))

    def set_meta(self, meta: StoreMeta) -> None:
        self._cache.set(_META, asdict(meta))

    def last_indexed(self) -> float | None:
        """When the last full index pass finished (seconds since the epoch), if one did."""
        value = self._cache.get(_LAST_INDEXED, default=None)
        return float(value) if isinstance(value, int | float) else None

    def set_last_indexed(self, when: float) -> None:
        self._cache.set(_LAST_INDEXED, when)

    def scan_skips(self) -> dict[str, list[str]]:
        """Files the last scan left out, by reason, as `set_scan_skips` wrote them."""
        value = self._cache.get(_SCAN_SKIPS, default=None)
        if not isinstance(value, dict):
            return {}
        return {
            reason: [p for p in paths if isinstance(p, str)]
            for reason, paths in value.items()
            if isinstance(reason, str) and isinstance(paths, list)
        }

    def set_scan_skips(self, skips: Mapping[str, Iterable[str]]) -> None:
        self._cache.set(_SCAN_SKIPS, {reason: sorted(paths) for reason, paths in skips.items()})

    # -- vectors --------------------------------------------------------------------
    def get_vectors(self, keys: Iterable[str], dimensions: int) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        for key in keys:
            raw = self._cache.get(_VEC + key)
            if isinstance(raw, bytes) and len(raw) == dimensions * 4:
                found[key] = np.frombuffer(raw, dtype=np.float32)
        return found

    def has_vector(self, key: str) -> bool:
        return (_VEC + key) in self._cache

    def put_vectors(self, vectors: Mapping[str, Vectors]) -> None:
        """All vectors of one batch in one transaction: a crash keeps all or none."""
        if not vectors:
            return
        with self._lock, self._cache.transact():
            for key, vector in vectors.items():
                self._cache.set(_VEC + key, np.asarray(vector, dtype=np.float32).tobytes())

    # -- manifests ------------------------------------------------------------------
    def get_manifest(self, path: str) -> FileManifest | None:
        data = self._cache.get(_MAN + path)
        return FileManifest.from_data(data) if isinstance(data, dict) else None

    def manifests(self) -> Iterator[FileManifest]:
        for key in list(self._cache.iterkeys()):
            if isinstance(key, str) and key.startswith(_MAN):
                data = self._cache.get(key)
                if isinstance(data, dict):
                    yield FileManifest.from_data(data)

    def write_manifests(
        self, manifests: Iterable[FileManifest], removed: Iterable[str] = ()
    ) -> None:
        """Manifests of finished files (and removals) in one transaction.

        Each write bumps the store's generation, so a snapshot of the index taken at an
        older generation is never trusted (a crash after an edit falls back to manifests).
        """
        with self._lock, self._cache.transact():
            for manifest in manifests:
                self._cache.set(_MAN + manifest.path, manifest.to_data())
            for path in removed:
                self._cache.delete(_MAN + path)
            self._cache.set(_GEN, self.generation() + 1)

    # -- warm-start snapshot -----------------------------------------------------------
    def generation(self) -> int:
        value = self._cache.get(_GEN, default=0)
        return value if isinstance(value, int) else 0

    def put_snapshot(self, generation: int, payload: bytes) -> None:
        """The whole in-memory index as one blob (diskcache keeps large values as files)."""
        self._cache.set(_SNAPSHOT, (generation, payload))

    def get_snapshot(self) -> tuple[int, bytes] | None:
        value = self._cache.get(_SNAPSHOT, default=None)
        if (
            isinstance(value, tuple)
            and len(value) == 2
            and isinstance(value[0], int)
            and isinstance(value[1], bytes)
        ):
            return value
        return None

    # -- housekeeping ---------------------------------------------------------------
    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def entry_count(self) -> int:
        return len(self._cache)

    def size_bytes(self) -> int:
        return int(self._cache.volume())

    def close(self) -> None:
        self._cache.close()


def stored_model_id(directory: Path) -> str | None:
    """The model identity a store's vectors carry, read on a read-only connection: nothing
    is moved or written (None when there is no store or no readable metadata; opening the
    store decides what to do with those).

    A caller switching models checks the new model works before `Store(model_id=...)`
    moves the old store aside: a model that cannot load must not cost the index.
    """
    path = directory / DATABASE_FILE
    if not path.is_file():
        return None
    disk = diskcache.Disk(str(directory))
    key, raw = disk.put(_META)
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            rows = connection.execute(
                "SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = ?", (key, raw)
            ).fetchall()
        finally:
            connection.close()
        meta = _parse_meta(disk.fetch(*rows[0], False)) if len(rows) == 1 else None
    except Exception:
        log.debug("cannot read the model of the store at %s", directory, exc_info=True)
        return None
    return meta.model_id if meta is not None else None


def store_exists(directory: Path) -> bool:
    """Whether a store was ever created at `directory` (asked without creating one)."""
    return (directory / DATABASE_FILE).is_file()


DATABASE_FILE = "cache.db"  # diskcache's SQLite file
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_CORRUPTION_WORDS = ("malformed", "not a database", "corrupt", "disk image")


def _parse_meta(data: Any) -> StoreMeta | None:
    if not isinstance(data, dict):
        return None
    try:
        meta = StoreMeta(**data)
    except TypeError:
        return None
    if not isinstance(meta.schema_version, int) or not isinstance(meta.model_id, str):
        return None
    if not isinstance(meta.dimensions, int) or meta.dimensions < 1:
        return None
    return meta


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def is_corruption(exc: BaseException) -> bool:
    """Whether an error says the files are damaged (not locked, full or forbidden)."""
    for error in _causes(exc):
        if isinstance(error, sqlite3.DatabaseError):
            code = getattr(error, "sqlite_errorcode", None)
            if isinstance(code, int) and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
                return True
            if isinstance(error, sqlite3.OperationalError):
                continue  # locked, busy, full, read-only, cannot open: not damage
            return any(word in str(error).lower() for word in _CORRUPTION_WORDS)
        if isinstance(error, pickle.UnpicklingError | EOFError):
            return True  # a value diskcache stored cannot be read back
    return False


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _check_database_file(path: Path) -> None:
    """Cheap checks of the SQLite header before SQLite sees the file.

    SQLite reads a truncated file without complaint until a query reaches a missing page,
    so compare the file's size with the page count its header promises.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return  # a new store
    except OSError as exc:
        raise StoreError(f"cannot read the index store file {path}: {exc}") from exc
    if size == 0:
        return  # created but never written (a crash in the first instant): nothing to lose
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read the index store file {path}: {exc}") from exc
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise StoreDamaged("corrupt", f"is damaged ({path.name} is not an SQLite database)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise StoreDamaged("corrupt", f"is damaged ({path.name} has an invalid header)")
    pages = int.from_bytes(header[28:32], "big")
    counter_valid = header[24:28] == header[92:96]
    if size % page_size or (counter_valid and pages and size < pages * page_size):
        raise StoreDamaged(
            "corrupt",
            f"is damaged ({path.name} is truncated: {size} bytes, expected "
            f"{pages * page_size if counter_valid and pages else 'whole pages'})",
        )
    _quick_check(path)


def _quick_check(path: Path) -> None:
    """SQLite's structural check, on a read-only connection (the bytes stay as they are).

    It reads every page once: about as long as loading the index, which open does anyway.
    """
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=60)
        try:
            rows = connection.execute("PRAGMA quick_check").fetchall()
        finally:
            connection.close()
    except Exception as exc:
        if is_corruption(exc):
            raise StoreDamaged("corrupt", f"is damaged ({describe(exc)})") from exc
        raise StoreError(f"cannot read the index store file {path}: {exc}") from exc
    if [tuple(row) for row in rows] != [("ok",)]:
        detail = "; ".join(str(row[0]) for row in rows[:3])
        raise StoreDamaged("corrupt", f"is damaged (integrity check: {detail})")
