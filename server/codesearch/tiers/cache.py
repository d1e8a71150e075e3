"""TieredVectorCache: the local store first, the shared tier for what it lacks.

It is the VectorCache the batch pipeline reads and writes. A lookup asks the local store;
the keys it lacks are looked up in the shared tier in batches, and what the tier has is
copied into the local store (so the next run needs no network). New vectors go to the
local store first (the truth) and then to the tier. Vectors the tier could not take (it was
down) are remembered by key and written once it answers again, so a machine that indexed
through an outage still shares its work. The tier being down never fails a call.

It counts where vectors came from, by content key: `local` (the local store), `shared`
(the tier), so `index --json` can show `shared` beside `cached` and `embedded`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from codesearch.embedding.types import Vectors
from codesearch.tiers.shared import SharedVectorTier

log = logging.getLogger(__name__)

MAX_UNSYNCED = 200_000  # keys remembered for a later write-back (about 10 MB of keys)


class LocalVectors(Protocol):
    """What the local store offers (codesearch.store.Store)."""

    def get_vectors(self, keys: Sequence[str], dimensions: int) -> dict[str, Vectors]: ...

    def put_vectors(self, vectors: Mapping[str, Vectors]) -> None: ...


@dataclass(frozen=True)
class TierCounts:
    """Content keys served or written since the counts were last taken."""

    local: int = 0  # found in the local store
    shared: int = 0  # found in the shared tier (and copied into the local store)
    rejected: int = 0  # unusable values in the shared tier (re-embedded, then overwritten)
    written_back: int = 0  # new vectors written to the shared tier
    unsynced: int = 0  # vectors waiting for the tier to answer again (a level, not a count)


class TieredVectorCache:
    """VectorCache over a local store and an optional shared tier; thread-safe."""

    def __init__(
        self,
        local: LocalVectors,
        shared: SharedVectorTier | None,
        model_id: str,
        *,
        max_unsynced: int = MAX_UNSYNCED,
    ) -> None:
        self.local = local
        self.shared = shared
        self.model_id = model_id
        self.max_unsynced = max_unsynced
        self._lock = threading.Lock()
        self._counts = TierCounts()
        self._shared_keys: set[str] = set()
        self._unsynced: dict[str, None] = {}  # insertion-ordered set of keys
        self._dimensions: int | None = None

    # -- VectorCache ---------------------------------------------------------------------------
    def get_vectors(self, keys: Sequence[str], dimensions: int) -> dict[str, Vectors]:
        self._dimensions = dimensions
        found = self.local.get_vectors(keys, dimensions)
        missing = [k for k in keys if k not in found]
        from_tier: dict[str, Vectors] = {}
        rejected = 0
        if missing and self.shared is not None:
            lookup = self.shared.get_vectors(self.model_id, missing, dimensions)
            from_tier, rejected = lookup.found, len(lookup.rejected)
            if from_tier:
                self.local.put_vectors(from_tier)
                found.update(from_tier)
        with self._lock:
            self._counts = replace(
                self._counts,
                local=self._counts.local + len(found) - len(from_tier),
                shared=self._counts.shared + len(from_tier),
                rejected=self._counts.rejected + rejected,
            )
            self._shared_keys.update(from_tier)
        self._write_back_unsynced()
        return found

    def put_vectors(self, vectors: Mapping[str, Vectors]) -> None:
        if not vectors:
            return
        self.local.put_vectors(vectors)
        if self.shared is None:
            return
        for vector in vectors.values():
            self._dimensions = int(vector.shape[0])
            break
        self._write_back_unsynced()
        if self.shared.put_vectors(self.model_id, vectors):
            self._count_written(len(vectors))
        else:
            self._remember(vectors)

    # -- counts --------------------------------------------------------------------------------
    @property
    def counts(self) -> TierCounts:
        with self._lock:
            return replace(self._counts, unsynced=len(self._unsynced))

    def take_counts(self) -> TierCounts:
        """The counts so far, and start counting again from zero."""
        with self._lock:
            counts = replace(self._counts, unsynced=len(self._unsynced))
            self._counts = TierCounts()
            self._shared_keys = set()
            return counts

    def take_shared_keys(self) -> set[str]:
        """Content keys served by the shared tier since the last call: the pipeline counts
        the entities behind them as `shared` rather than `cached`."""
        with self._lock:
            keys, self._shared_keys = self._shared_keys, set()
            return keys

    @property
    def problem(self) -> str | None:
        """One sentence while the shared tier is unavailable, else None."""
        return self.shared.problem if self.shared is not None else None

    # -- write-back after an outage -------------------------------------------------------------
    def _remember(self, vectors: Mapping[str, Vectors]) -> None:
        with self._lock:
            for key in vectors:
                self._unsynced[key] = None
            overflow = len(self._unsynced) - self.max_unsynced
            if overflow > 0:
                for key in list(self._unsynced)[:overflow]:
                    del self._unsynced[key]
                log.debug("forgot %d vectors waiting for the shared tier", overflow)

    def _count_written(self, count: int) -> None:
        with self._lock:
            self._counts = replace(self._counts, written_back=self._counts.written_back + count)

    def _write_back_unsynced(self) -> None:
        """Write vectors the tier missed while it was down, once it may answer again."""
        shared, dims = self.shared, self._dimensions
        if shared is None or dims is None or not self._unsynced or not shared.available():
            return
        step = shared.config.keys_per_call
        while True:
            with self._lock:
                keys = list(self._unsynced)[:step]
            if not keys:
                return
            vectors = self.local.get_vectors(keys, dims)
            if vectors and not shared.put_vectors(self.model_id, vectors):
                return  # down again: keep them for later
            with self._lock:
                for key in keys:
                    self._unsynced.pop(key, None)
            self._count_written(len(vectors))
            log.debug("wrote %d vectors the shared tier missed", len(vectors))
