"""The on-disk store (diskcache): vectors by content key, one manifest per file, metadata.

Vectors are float32 bytes keyed by content, so identical code anywhere in the workspace is
embedded once. A manifest records what a file looked like when it was indexed (stat, hash)
and which entities it held, so an unchanged file costs one stat on the next run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import diskcache
import numpy as np

from codesearch.embedding.model import Vectors

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_META = "meta"
_VEC = "v:"
_MAN = "m:"


class StoreError(RuntimeError):
    """The store cannot be opened or used; the message names the folder."""


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

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

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
        )


@dataclass(frozen=True)
class StoreMeta:
    schema_version: int
    model_id: str
    dimensions: int
    extra: dict[str, Any] = field(default_factory=dict)


def default_cache_base() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("codesearch", appauthor=False))


def workspace_store_dir(root: Path, base: str | Path | None = None) -> Path:
    """One folder per workspace root, outside the workspace: `<base>/<name>-<hash>`."""
    resolved = root.resolve()
    digest = hashlib.blake2b(str(resolved).encode(), digest_size=6).hexdigest()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", resolved.name)[:40] or "root"
    parent = Path(base).expanduser() if base else default_cache_base()
    return parent / f"{name}-{digest}"


class Store:
    """A diskcache-backed store for one workspace root. Thread-safe."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(directory, 0o700)
            self._cache = diskcache.Cache(str(directory), eviction_policy="none", size_limit=1 << 62)
        except Exception as exc:
            raise StoreError(f"cannot open the index store at {directory}: {exc}") from exc
        self._lock = threading.RLock()

    # -- metadata -------------------------------------------------------------------
    def meta(self) -> StoreMeta | None:
        data = self._cache.get(_META)
        if not isinstance(data, dict):
            return None
        try:
            return StoreMeta(**data)
        except TypeError:
            return None

    def set_meta(self, meta: StoreMeta) -> None:
        self._cache.set(_META, asdict(meta))

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
        """Manifests of finished files (and removals) in one transaction."""
        with self._lock, self._cache.transact():
            for manifest in manifests:
                self._cache.set(_MAN + manifest.path, manifest.to_data())
            for path in removed:
                self._cache.delete(_MAN + path)

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
