"""In-memory search index: a normalised vector matrix plus compact BM25 postings.

Built for 100,000 entities within a few hundred MB: rows are appended, deleted rows are
only marked dead (postings keep pointing at them and are filtered by the alive mask), and
once dead rows pile up the whole index is compacted with vectorised numpy work. Postings
are `array` columns (4 + 2 bytes per entry) rather than dicts, and scoring runs in numpy.
All methods take one lock: the indexing worker patches while the server answers searches.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from codesearch.embedding.types import Vectors
from codesearch.store import EntityRecord

BM25_K1 = 1.2
BM25_B = 0.75
COMPACT_MIN_DEAD = 4096
MAX_TF = 65535


@dataclass(frozen=True)
class KeywordStats:
    """BM25's collection statistics: live rows, their total length, and the number of live
    rows holding each query term. Summed over several indexes (one per workspace root),
    they score every row as if all rows were in one index, so scores compare across roots.
    """

    documents: int
    total_length: float
    document_frequency: Mapping[str, int]

    def __add__(self, other: KeywordStats) -> KeywordStats:
        frequency = dict(self.document_frequency)
        for term, count in other.document_frequency.items():
            frequency[term] = frequency.get(term, 0) + count
        return KeywordStats(
            self.documents + other.documents, self.total_length + other.total_length, frequency
        )


@dataclass(frozen=True)
class IndexedEntity:
    path: str
    record: EntityRecord


class SearchIndex:
    def __init__(self, dimensions: int, capacity: int = 1024) -> None:
        self.dimensions = dimensions
        self._lock = threading.RLock()
        self._reset(capacity)

    def reading(self) -> AbstractContextManager[object]:
        """Hold the index still across several calls: row numbers from one call stay valid
        in the next (a save may add rows or compact them between two calls otherwise)."""
        return self._lock

    def _reset(self, capacity: int) -> None:
        self._matrix = np.zeros((capacity, self.dimensions), dtype=np.float32)
        self._alive = np.zeros(capacity, dtype=bool)
        self._doc_len = np.zeros(capacity, dtype=np.float32)
        self._rows: list[IndexedEntity | None] = []
        self._row_terms: list[npt.NDArray[np.int32]] = []
        self._by_path: dict[str, list[int]] = {}
        self._vocab: dict[str, int] = {}
        self._words: list[str] = []
        self._post_rows: list[array[int]] = []
        self._post_tf: list[array[int]] = []
        self._total_len = 0.0
        self._count = 0
        self._dead = 0

    # -- size ---------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def file_count(self) -> int:
        return len(self._by_path)

    def paths(self) -> list[str]:
        with self._lock:
            return list(self._by_path)

    def memory_bytes(self) -> int:
        """Approximate bytes held by the matrix and postings (for status and benchmarks)."""
        postings = sum(len(r) * 6 for r in self._post_rows)
        terms = sum(t.nbytes for t in self._row_terms)
        return int(self._matrix.nbytes + postings + terms + self._doc_len.nbytes)

    # -- patching -----------------------------------------------------------------------
    def _ensure_capacity(self, needed: int) -> None:
        capacity = self._matrix.shape[0]
        if needed <= capacity:
            return
        new = max(needed, capacity * 2)
        matrix = np.zeros((new, self.dimensions), dtype=np.float32)
        matrix[:capacity] = self._matrix
        self._matrix = matrix
        self._alive = np.concatenate([self._alive, np.zeros(new - capacity, dtype=bool)])
        self._doc_len = np.concatenate([self._doc_len, np.zeros(new - capacity, dtype=np.float32)])

    def _term_id(self, term: str) -> int:
        found = self._vocab.get(term)
        if found is None:
            found = len(self._words)
            self._vocab[term] = found
            self._words.append(term)
            self._post_rows.append(array("i"))
            self._post_tf.append(array("H"))
        return found

    def replace_file(
        self, path: str, records: Sequence[EntityRecord], vectors: Sequence[Vectors]
    ) -> None:
        """The file's rows become exactly these entities (each with its vector)."""
        if len(records) != len(vectors):
            raise ValueError("one vector per record")
        with self._lock:
            self._remove(path)
            if not records:
                self._maybe_compact()
                return
            start = len(self._rows)
            self._ensure_capacity(start + len(records))
            rows = list(range(start, start + len(records)))
            self._matrix[start : start + len(records)] = vectors
            self._alive[start : start + len(records)] = True
            vocab, post_rows, post_tf = self._vocab, self._post_rows, self._post_tf
            for row, record in zip(rows, records, strict=True):
                bag = Counter(record.terms.split())
                # the bag lives on as term ids; the string would cost ~1 KB per entity
                self._rows.append(IndexedEntity(path, dataclasses.replace(record, terms="")))
                term_ids: list[int] = []
                for term, tf in bag.items():  # the hot loop of a cold index: kept plain
                    term_id = vocab.get(term)
                    if term_id is None:
                        term_id = self._term_id(term)
                    post_rows[term_id].append(row)
                    post_tf[term_id].append(tf if tf < MAX_TF else MAX_TF)
                    term_ids.append(term_id)
                self._row_terms.append(np.array(term_ids, dtype=np.int32))
                length = float(sum(bag.values()))
                self._doc_len[row] = length
                self._total_len += length
            self._by_path[path] = rows
            self._count += len(rows)
            self._maybe_compact()

    def remove_file(self, path: str) -> None:
        with self._lock:
            self._remove(path)
            self._maybe_compact()

    def _remove(self, path: str) -> None:
        rows = self._by_path.pop(path, None)
        if not rows:
            return
        for row in rows:
            self._total_len -= float(self._doc_len[row])
            self._doc_len[row] = 0
            self._alive[row] = False
            self._matrix[row] = 0
            self._rows[row] = None
            self._row_terms[row] = np.zeros(0, dtype=np.int32)
        self._count -= len(rows)
        self._dead += len(rows)

    def _maybe_compact(self) -> None:
        if self._dead >= COMPACT_MIN_DEAD and self._dead > self._count:
            self.compact()

    def compact(self) -> None:
        """Drop dead rows and rebuild the postings, all in vectorised numpy."""
        with self._lock:
            used = len(self._rows)
            keep = np.flatnonzero(self._alive[:used])
            remap = np.full(used, -1, dtype=np.int64)
            remap[keep] = np.arange(len(keep))
            capacity = max(1024, int(len(keep) * 1.25))
            matrix = np.zeros((capacity, self.dimensions), dtype=np.float32)
            matrix[: len(keep)] = self._matrix[keep]
            alive = np.zeros(capacity, dtype=bool)
            alive[: len(keep)] = True
            doc_len = np.zeros(capacity, dtype=np.float32)
            doc_len[: len(keep)] = self._doc_len[keep]
            # postings: gather (term, row, tf) triples, drop dead rows, regroup by term
            terms = np.repeat(np.arange(len(self._post_rows)), [len(r) for r in self._post_rows])
            rows = np.concatenate([np.frombuffer(r, dtype=np.int32) for r in self._post_rows])
            tfs = np.concatenate([np.frombuffer(t, dtype=np.uint16) for t in self._post_tf])
            live = remap[rows] >= 0 if len(rows) else np.zeros(0, dtype=bool)
            terms, rows, tfs = terms[live], remap[rows[live]].astype(np.int32), tfs[live]
            order = np.argsort(terms, kind="stable")
            terms, rows, tfs = terms[order], rows[order], tfs[order]
            bounds = np.searchsorted(terms, np.arange(len(self._post_rows) + 1))
            self._post_rows = [
                array("i", rows[bounds[i] : bounds[i + 1]].tobytes())
                for i in range(len(self._post_rows))
            ]
            self._post_tf = [
                array("H", tfs[bounds[i] : bounds[i + 1]].tobytes())
                for i in range(len(self._post_tf))
            ]
            self._rows = [self._rows[i] for i in keep.tolist()]
            self._row_terms = [self._row_terms[i] for i in keep.tolist()]
            self._by_path = {
                path: [int(remap[r]) for r in rs] for path, rs in self._by_path.items()
            }
            self._matrix, self._alive, self._doc_len = matrix, alive, doc_len
            self._dead = 0

    def clear(self) -> None:
        with self._lock:
            self._reset(1024)

    # -- snapshots ----------------------------------------------------------------------
    def to_state(self) -> dict[str, object]:
        """Everything needed to rebuild this index without re-tokenising (a warm start)."""
        with self._lock:
            if self._dead:
                self.compact()
            used = len(self._rows)
            lengths = np.array([len(t) for t in self._row_terms], dtype=np.int64)
            return {
                "dimensions": self.dimensions,
                "matrix": self._matrix[:used].copy(),
                "doc_len": self._doc_len[:used].copy(),
                "rows": [(item.path, item.record) for item in self._rows if item is not None],
                "row_terms": (
                    np.concatenate(self._row_terms) if used else np.zeros(0, dtype=np.int32),
                    lengths,
                ),
                "words": list(self._words),
                "post_rows": [bytes(r) for r in self._post_rows],
                "post_tf": [bytes(t) for t in self._post_tf],
                "total_len": self._total_len,
            }

    @classmethod
    def from_state(cls, state: dict[str, object]) -> SearchIndex:
        matrix = np.asarray(state["matrix"], dtype=np.float32)
        rows: list[tuple[str, EntityRecord]] = state["rows"]  # type: ignore[assignment]
        index = cls(int(state["dimensions"]), capacity=max(1024, int(len(rows) * 1.25)))  # type: ignore[call-overload]
        used = len(rows)
        index._matrix[:used] = matrix
        index._alive[:used] = True
        index._doc_len[:used] = np.asarray(state["doc_len"], dtype=np.float32)
        index._rows = [IndexedEntity(path, record) for path, record in rows]
        packed: tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]] = state["row_terms"]  # type: ignore[assignment]
        flat, lengths = packed
        index._row_terms = (
            list(np.split(np.asarray(flat, dtype=np.int32), np.cumsum(lengths)[:-1]))
            if used
            else []
        )
        index._words = list(state["words"])  # type: ignore[call-overload]
        index._vocab = {word: i for i, word in enumerate(index._words)}
        index._post_rows = [array("i", raw) for raw in state["post_rows"]]  # type: ignore[attr-defined]
        index._post_tf = [array("H", raw) for raw in state["post_tf"]]  # type: ignore[attr-defined]
        index._total_len = float(state["total_len"])  # type: ignore[arg-type]
        index._count = used
        for row, (path, _) in enumerate(rows):
            index._by_path.setdefault(path, []).append(row)
        return index

    # -- reading ------------------------------------------------------------------------
    def entity(self, row: int) -> IndexedEntity | None:
        rows = self._rows
        return rows[row] if 0 <= row < len(rows) else None

    def rows_of(self, path: str) -> list[int]:
        with self._lock:
            return list(self._by_path.get(path, ()))

    def vector(self, row: int) -> Vectors:
        with self._lock:
            vector: Vectors = self._matrix[row].copy()
            return vector

    def alive_mask(self) -> npt.NDArray[np.bool_]:
        with self._lock:
            return self._alive[: len(self._rows)].copy()

    def dense_scores(self, query: Vectors) -> npt.NDArray[np.float32]:
        """Cosine similarity of every row with the (unit) query; dead rows get -inf."""
        with self._lock:
            used = len(self._rows)
            scores: npt.NDArray[np.float32] = self._matrix[:used] @ query.astype(np.float32)
            scores[~self._alive[:used]] = -np.inf
            return scores

    def keyword_stats(self, terms: Sequence[str]) -> KeywordStats:
        """This index's share of the BM25 statistics for these query terms."""
        with self._lock:
            frequency: dict[str, int] = {}
            for term in dict.fromkeys(terms):
                term_id = self._vocab.get(term)
                if term_id is not None:
                    rows = np.frombuffer(self._post_rows[term_id], dtype=np.int32)
                    frequency[term] = int(self._alive[rows].sum()) if len(rows) else 0
            return KeywordStats(self._count, self._total_len, frequency)

    def keyword_array(
        self, terms: Sequence[str], stats: KeywordStats | None = None
    ) -> npt.NDArray[np.float32]:
        """BM25 score of every row (0 where no term matches), computed in numpy.

        `stats` (pooled over several indexes) replaces this index's own statistics.
        """
        with self._lock:
            used = len(self._rows)
            scores = np.zeros(used, dtype=np.float32)
            if not self._count:
                return scores
            documents = stats.documents if stats is not None else self._count
            total_length = stats.total_length if stats is not None else self._total_len
            avg_len = total_length / documents
            for term in dict.fromkeys(terms):
                term_id = self._vocab.get(term)
                if term_id is None:
                    continue
                rows = np.frombuffer(self._post_rows[term_id], dtype=np.int32)
                if not len(rows):
                    continue
                live = self._alive[rows]
                rows = rows[live]
                df = len(rows)
                if not df:
                    continue
                if stats is not None:
                    df = stats.document_frequency.get(term, df)
                tf = np.frombuffer(self._post_tf[term_id], dtype=np.uint16)[live].astype(np.float32)
                idf = math.log(1.0 + (documents - df + 0.5) / (df + 0.5))
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self._doc_len[rows] / avg_len)
                scores[rows] += idf * tf * (BM25_K1 + 1) / (tf + norm)
            return scores

    def row_terms(self, row: int) -> tuple[str, ...]:
        with self._lock:
            if not 0 <= row < len(self._row_terms):
                return ()
            words = self._words
            return tuple(words[i] for i in self._row_terms[row].tolist())
