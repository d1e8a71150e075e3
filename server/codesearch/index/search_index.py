"""In-memory search index: a normalised vector matrix plus BM25 postings, patched per file.

Rows are reused after deletion, so a long editing session does not grow the matrix. All
methods take one lock: the indexing worker patches while the server answers searches.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codesearch.embedding.model import Vectors
from codesearch.store import EntityRecord

BM25_K1 = 1.2
BM25_B = 0.75


@dataclass(frozen=True)
class IndexedEntity:
    path: str
    record: EntityRecord


class SearchIndex:
    def __init__(self, dimensions: int, capacity: int = 1024) -> None:
        self.dimensions = dimensions
        self._lock = threading.RLock()
        self._matrix = np.zeros((capacity, dimensions), dtype=np.float32)
        self._alive = np.zeros(capacity, dtype=bool)
        self._doc_len = np.zeros(capacity, dtype=np.float32)
        self._rows: list[IndexedEntity | None] = [None] * capacity
        self._by_path: dict[str, list[int]] = {}
        self._free: list[int] = list(range(capacity - 1, -1, -1))
        self._postings: dict[str, dict[int, int]] = {}
        self._row_terms: dict[int, tuple[str, ...]] = {}
        self._total_len = 0.0
        self._count = 0

    # -- size ---------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def file_count(self) -> int:
        return len(self._by_path)

    def paths(self) -> list[str]:
        with self._lock:
            return list(self._by_path)

    # -- patching -----------------------------------------------------------------
    def _grow(self) -> None:
        old = self._matrix.shape[0]
        new = old * 2
        matrix = np.zeros((new, self.dimensions), dtype=np.float32)
        matrix[:old] = self._matrix
        self._matrix = matrix
        self._alive = np.concatenate([self._alive, np.zeros(old, dtype=bool)])
        self._doc_len = np.concatenate([self._doc_len, np.zeros(old, dtype=np.float32)])
        self._rows.extend([None] * old)
        self._free.extend(range(new - 1, old - 1, -1))

    def replace_file(
        self, path: str, records: Sequence[EntityRecord], vectors: Sequence[Vectors]
    ) -> None:
        """The file's rows become exactly these entities (each with its vector)."""
        with self._lock:
            self._remove(path)
            rows: list[int] = []
            for record, vector in zip(records, vectors, strict=True):
                if not self._free:
                    self._grow()
                row = self._free.pop()
                self._matrix[row] = vector
                self._alive[row] = True
                self._rows[row] = IndexedEntity(path, record)
                bag = Counter(record.terms.split())
                for term, tf in bag.items():
                    self._postings.setdefault(term, {})[row] = tf
                self._row_terms[row] = tuple(bag)
                length = float(sum(bag.values()))
                self._doc_len[row] = length
                self._total_len += length
                rows.append(row)
            if rows:
                self._by_path[path] = rows
            self._count += len(rows)

    def remove_file(self, path: str) -> None:
        with self._lock:
            self._remove(path)

    def _remove(self, path: str) -> None:
        rows = self._by_path.pop(path, None)
        if not rows:
            return
        for row in rows:
            for term in self._row_terms.pop(row, ()):
                posting = self._postings.get(term)
                if posting is not None:
                    posting.pop(row, None)
                    if not posting:
                        del self._postings[term]
            self._total_len -= float(self._doc_len[row])
            self._doc_len[row] = 0
            self._alive[row] = False
            self._matrix[row] = 0
            self._rows[row] = None
            self._free.append(row)
        self._count -= len(rows)

    def clear(self) -> None:
        with self._lock:
            for path in list(self._by_path):
                self._remove(path)

    # -- reading ------------------------------------------------------------------
    def entity(self, row: int) -> IndexedEntity | None:
        return self._rows[row]

    def rows_of(self, path: str) -> list[int]:
        with self._lock:
            return list(self._by_path.get(path, ()))

    def vector(self, row: int) -> Vectors:
        with self._lock:
            return self._matrix[row].copy()

    def alive_mask(self) -> npt.NDArray[np.bool_]:
        return self._alive.copy()

    def dense_scores(self, query: Vectors) -> npt.NDArray[np.float32]:
        """Cosine similarity of every row with the (unit) query; dead rows get -inf."""
        with self._lock:
            scores: npt.NDArray[np.float32] = self._matrix @ query.astype(np.float32)
            scores[~self._alive] = -np.inf
            return scores

    def keyword_scores(self, terms: Sequence[str]) -> dict[int, float]:
        """BM25 over the identifier-aware term bags."""
        with self._lock:
            if not self._count:
                return {}
            avg_len = self._total_len / self._count if self._count else 1.0
            scores: dict[int, float] = {}
            for term in terms:
                posting = self._postings.get(term)
                if not posting:
                    continue
                df = len(posting)
                idf = math.log(1.0 + (self._count - df + 0.5) / (df + 0.5))
                for row, tf in posting.items():
                    norm = BM25_K1 * (1 - BM25_B + BM25_B * float(self._doc_len[row]) / avg_len)
                    scores[row] = scores.get(row, 0.0) + idf * tf * (BM25_K1 + 1) / (tf + norm)
            return scores

    def row_terms(self, row: int) -> tuple[str, ...]:
        return self._row_terms.get(row, ())
