"""Index a corpus with the engine's own parts and rank queries three ways.

The index is built exactly as `Workspace` builds it (same TextPreparator, same keyword
terms, same SearchIndex, same `rank`), minus the file manifests, so the numbers are those
of the shipped search. Vectors are cached by content key in one store shared by all
projects and settings, so a rerun embeds only what changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from benchmarks.quality.corpus import Corpus, quality_dir
from codesearch import keywords
from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.onnx_inference import OnnxInt8Encoder
from codesearch.embedding.text import TextPreparator, content_key
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.embedding.types import Encoder, Vectors
from codesearch.entities import Entity
from codesearch.index.search_index import SearchIndex
from codesearch.search import Hit, rank
from codesearch.store import SCHEMA_VERSION, EntityRecord, Store, StoreMeta

METHODS: tuple[str, ...] = ("keyword", "dense", "hybrid")
CUTOFF = 10

TermsFn = Callable[[Entity], str]


def vector_store(model: Encoder) -> Store:
    """One vector cache per model backend for every project and setting (keys hold the text).

    A store belongs to one model id, so each backend keeps its own folder: sharing one would
    make the store move the other backend's vectors aside as another model's. A remote
    model's folder is named by its identity (`remote:<dims>:<fingerprint>`).
    """
    if isinstance(model, TorchEncoder):
        folder = "vectors"
    elif isinstance(model, OnnxInt8Encoder):
        folder = "vectors-onnx-int8"
    else:
        folder = "vectors-" + model.model_id.replace(":", "-")
    store = Store(quality_dir() / folder, model_id=model.model_id)
    if store.meta() is None:
        store.set_meta(StoreMeta(SCHEMA_VERSION, model.model_id, model.dimensions))
    return store


@dataclass
class Indexed:
    corpus: Corpus
    index: SearchIndex
    rows: dict[str, int]  # entity id -> row
    embedded: int
    seconds: float


def build_index(
    corpus: Corpus,
    model: Encoder,
    store: Store,
    *,
    preparator: TextPreparator | None = None,
    terms: TermsFn = keywords.entity_terms,
    batch_size: int = 32,
) -> Indexed:
    """Embed (or look up) every entity of the corpus and load them into a SearchIndex."""
    started = time.perf_counter()
    embedder = BatchEmbedder(model, store, batch_size=batch_size, preparator=preparator)
    result = embedder.process_batch(corpus.entities)
    index = SearchIndex(model.dimensions)
    by_path: dict[str, list[Entity]] = {}
    for entity in corpus.entities:
        if entity.id in result.vectors:
            by_path.setdefault(entity.path, []).append(entity)
    for path, entities in by_path.items():
        records = [
            EntityRecord(
                e.name, e.kind, e.language, e.start_line, e.end_line, e.start_col, e.end_col,
                result.keys[e.id], e.signature, terms(e),
            )
            for e in entities
        ]  # fmt: skip
        index.replace_file(path, records, [result.vectors[e.id] for e in entities])
    rows: dict[str, int] = {}
    for path in index.paths():
        for row in index.rows_of(path):
            item = index.entity(row)
            if item is not None:
                rows[f"{path}::{item.record.kind}::{item.record.name}"] = row
    return Indexed(
        corpus, index, rows, result.summary.newly_embedded, time.perf_counter() - started
    )


def query_vectors(model: Encoder, store: Store, texts: Sequence[str]) -> list[Vectors]:
    """Query embeddings, cached like entity vectors (queries are the same text each run)."""
    keys = [content_key(model.model_id + "#query", text) for text in texts]
    found = store.get_vectors(keys, model.dimensions)
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
    if missing:
        encoded = model.encode([t for _, t in missing], batch_size=64)
        fresh = {k: encoded[i] for i, (k, _) in enumerate(missing)}
        store.put_vectors(fresh)
        found.update(fresh)
    return [np.asarray(found[k], dtype=np.float32) for k in keys]


def search(index: SearchIndex, method: str, query: str, vector: Vectors) -> list[Hit]:
    """The three rankings compared: plain BM25, plain cosine, and the shipped mix."""
    if method == "keyword":
        return rank(index, query, None, limit=CUTOFF, boosts=False)
    if method == "dense":
        return rank(index, query, vector, limit=CUTOFF, use_keywords=False)
    return rank(index, query, vector, limit=CUTOFF)


def hit_id(hit: Hit) -> str:
    return f"{hit.path}::{hit.kind}::{hit.name}"


@dataclass
class Scores:
    queries: int = 0
    rr_sum: float = 0.0
    at1: int = 0
    at10: int = 0

    def add(self, position: int | None) -> None:
        """`position` is the 1-based rank of the target, None when not in the top 10."""
        self.queries += 1
        if position is not None and position <= CUTOFF:
            self.rr_sum += 1.0 / position
            self.at1 += position == 1
            self.at10 += 1

    def merge(self, other: Scores) -> None:
        self.queries += other.queries
        self.rr_sum += other.rr_sum
        self.at1 += other.at1
        self.at10 += other.at10

    def summary(self) -> dict[str, float]:
        n = max(1, self.queries)
        return {
            "queries": self.queries,
            "mrr@10": round(self.rr_sum / n, 4),
            "recall@1": round(self.at1 / n, 4),
            "recall@10": round(self.at10 / n, 4),
        }


def target_position(hits: Sequence[Hit], target: str) -> int | None:
    for position, hit in enumerate(hits, 1):
        if hit_id(hit) == target:
            return position
    return None
