"""BatchEmbedder: prepare -> cache lookup -> embed misses in batches -> store each batch.

Every entity's failure is its own: an empty entity, a text the model rejects or a vector
that comes back broken is recorded in `BatchResult.errors` and the rest goes on. A batch
that fails as a whole is retried item by item to find the culprit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from codesearch.embedding.text import EmptyEntityError, PreparedText, TextPreparator
from codesearch.embedding.types import Encoder, EncoderUnavailable, Vectors
from codesearch.entities import Entity

log = logging.getLogger(__name__)


class VectorCache(Protocol):
    def get_vectors(self, keys: Sequence[str], dimensions: int) -> dict[str, Vectors]: ...

    def put_vectors(self, vectors: dict[str, Vectors]) -> None: ...


@dataclass
class BatchSummary:
    total: int = 0
    success: int = 0
    failed: int = 0
    cached: int = 0
    newly_embedded: int = 0


@dataclass
class BatchResult:
    summary: BatchSummary
    vectors: dict[str, Vectors]  # entity id -> unit vector
    keys: dict[str, str]  # entity id -> content key
    errors: dict[str, str]  # entity id -> reason
    metadata: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False


ProgressCallback = Callable[[int, int], None]  # (embedded so far, to embed in total)


class BatchEmbedder:
    def __init__(
        self,
        encoder: Encoder,
        cache: VectorCache,
        *,
        batch_size: int = 32,
        preparator: TextPreparator | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.encoder = encoder
        self.cache = cache
        self.batch_size = batch_size
        self.preparator = preparator or TextPreparator(
            encoder.tokenizer, encoder.max_tokens, encoder.model_id
        )

    def process_batch(
        self,
        entities: Sequence[Entity],
        *,
        force: bool = False,
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        prepared: Sequence[PreparedText | EmptyEntityError] | None = None,
        spare_core: Callable[[], bool] | None = None,
    ) -> BatchResult:
        """Vectors for entities: cached ones looked up, the rest embedded and stored.

        `force` re-embeds even what is cached. `should_stop` is polled between model
        calls; what was stored before it said stop stays stored. `spare_core` is asked
        before each model call whether other work needs a core now (see encode_ids).
        """
        started = time.perf_counter()
        dims = self.encoder.dimensions
        result = BatchResult(
            BatchSummary(total=len(entities)),
            {},
            {},
            {},
            {"model_id": self.encoder.model_id, "dimensions": dims},
        )
        if not entities:
            result.metadata["timings"] = {"prepare_s": 0.0, "lookup_s": 0.0, "embed_s": 0.0}
            return result

        texts = prepared if prepared is not None else self._prepare(entities)
        t_prepared = time.perf_counter()
        by_key: dict[str, list[str]] = {}  # content key -> entity ids sharing it
        key_text: dict[str, PreparedText] = {}
        for entity, item in zip(entities, texts, strict=True):
            if isinstance(item, Exception):
                result.errors[entity.id] = str(item)
                continue
            result.keys[entity.id] = item.key
            by_key.setdefault(item.key, []).append(entity.id)
            key_text[item.key] = item

        found = {} if force else self.cache.get_vectors(list(by_key), dims)
        for key, hit in found.items():
            for entity_id in by_key[key]:
                result.vectors[entity_id] = hit
                result.summary.cached += 1
        t_looked_up = time.perf_counter()

        # Length-sorted so each model call pads little; identical texts embedded once.
        misses = sorted((k for k in by_key if k not in found), key=lambda k: key_text[k].tokens)
        to_embed = sum(len(by_key[k]) for k in misses)
        embedded = 0
        store_s = 0.0
        for start in range(0, len(misses), self.batch_size):
            if should_stop is not None and should_stop():
                result.cancelled = True
                break
            chunk = misses[start : start + self.batch_size]
            spare = spare_core is not None and spare_core()
            outcomes, errors = self._embed_chunk([key_text[k] for k in chunk], spare)
            stored: dict[str, Vectors] = {}
            for key, vector, error in zip(chunk, outcomes, errors, strict=True):
                ids = by_key[key]
                if vector is None:
                    for entity_id in ids:
                        result.errors[entity_id] = error or "embedding failed"
                    continue
                stored[key] = vector
                for entity_id in ids:
                    result.vectors[entity_id] = vector
                    result.summary.newly_embedded += 1
            t_store = time.perf_counter()
            self.cache.put_vectors(stored)
            store_s += time.perf_counter() - t_store
            embedded += sum(len(by_key[k]) for k in chunk)
            if on_progress is not None:
                on_progress(embedded, to_embed)

        result.summary.failed = len(result.errors)
        result.summary.success = len(result.vectors)
        result.metadata["timings"] = {
            "prepare_s": t_prepared - started,
            "lookup_s": t_looked_up - t_prepared,
            "embed_s": time.perf_counter() - t_looked_up - store_s,
            "store_s": store_s,
            "total_s": time.perf_counter() - started,
        }
        return result

    def _prepare(self, entities: Sequence[Entity]) -> list[PreparedText | EmptyEntityError]:
        try:
            return self.preparator.prepare_many(entities)
        except Exception:
            log.exception("preparing a batch failed; preparing item by item")
        prepared: list[PreparedText | EmptyEntityError] = []
        for entity in entities:
            try:
                prepared.extend(self.preparator.prepare_many([entity]))
            except Exception as exc:
                prepared.append(EmptyEntityError(f"could not prepare text: {exc}"))
        return prepared

    def _embed_chunk(
        self, items: list[PreparedText], spare_core: bool = False
    ) -> tuple[list[Vectors | None], list[str | None]]:
        """One model call; on failure, one call per text so only the bad one fails.

        An encoder that is unavailable as a whole (a remote endpoint down) fails the chunk
        at once with its one reason: the texts are not to blame, and the next index
        embeds them again. Vectors it did return before failing are kept.
        """
        try:
            return self._check(self._encode(items, spare_core), len(items))
        except EncoderUnavailable as exc:
            return self._partial(exc, len(items))
        except Exception as exc:
            if len(items) == 1:
                return [None], [f"model failed: {type(exc).__name__}: {exc}"]
            log.warning("a batch of %d failed (%s); retrying one by one", len(items), exc)
        vectors: list[Vectors | None] = []
        errors: list[str | None] = []
        for item in items:
            one, error = self._embed_chunk([item], spare_core)
            vectors.extend(one)
            errors.extend(error)
        return vectors, errors

    def _partial(
        self, exc: EncoderUnavailable, count: int
    ) -> tuple[list[Vectors | None], list[str | None]]:
        vectors: list[Vectors | None] = [None] * count
        errors: list[str | None] = [exc.reason] * count
        for position, vector in exc.done.items():
            if 0 <= position < count:
                checked, error = self._check(np.asarray([vector], dtype=np.float32), 1)
                vectors[position], errors[position] = checked[0], error[0]
        return vectors, errors

    def _encode(self, items: list[PreparedText], spare_core: bool) -> Vectors:
        """The model's vectors, from the prepared token ids when the preparator built them
        (a tokenizer with a Rust core) and the encoder takes ids, else from the text (a
        remote encoder is sent text: `takes_token_ids` is False)."""
        ids = [item.ids for item in items if item.ids is not None]
        if self.encoder.takes_token_ids and len(ids) == len(items):
            return self.encoder.encode_ids(ids, batch_size=self.batch_size, spare_core=spare_core)
        return self.encoder.encode([item.text for item in items], batch_size=self.batch_size)

    def _check(self, matrix: Vectors, count: int) -> tuple[list[Vectors | None], list[str | None]]:
        dims = self.encoder.dimensions
        if matrix.shape != (count, dims):
            raise ValueError(f"model returned shape {matrix.shape}, expected ({count}, {dims})")
        vectors: list[Vectors | None] = []
        errors: list[str | None] = []
        for row in matrix:
            if not np.all(np.isfinite(row)) or not np.any(row):
                vectors.append(None)
                errors.append("model returned an invalid vector (NaN or zero)")
            else:
                vectors.append(np.array(row, dtype=np.float32))
                errors.append(None)
        return vectors, errors
