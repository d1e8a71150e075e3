"""Query -> ranked entities: dense cosine and BM25 keyword scores, mixed, plus name boosts.

Dense search understands "retry failed uploads" without the words in the code; keywords
catch exact identifiers the small model blurs. The two are mixed as scores, not ranks:

    score = (1 - a) * cosine + a * bm25 / best_bm25 + c * name_cover + e * exact_name

`bm25 / best_bm25` puts the keyword score on the cosine's 0..1 scale per query, so no
calibration is needed across workspaces. `name_cover` is the share of the entity's own
name words that the query contains ("compute checksum" covers `compute_checksum` fully),
and `exact_name` fires when the query *is* the entity's name (`Cache.get`, `get`).
The constants were chosen on half of the queries of the search-quality benchmark
(benchmarks/quality, six real projects in Python, JavaScript and TypeScript) and checked
on the other half: mixing beat reciprocal rank fusion (k=60) by +0.04 MRR@10 there.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from codesearch import keywords
from codesearch.embedding.types import Vectors
from codesearch.index.search_index import IndexedEntity, KeywordStats, SearchIndex

KEYWORD_WEIGHT = 0.2  # a: the keyword share of the mix (the dense share is 1 - a)
NAME_COVER_BOOST = 0.1  # c: added when all of an entity's own name words are in the query
EXACT_NAME_BOOST = 0.3  # e: added when the query is the entity's (bare or qualified) name
CANDIDATES = 200  # best rows taken from each ranker before mixing
# A search hit scored below this is "weak": no strong match for the query (the code asked
# about may not be there). Derived by `python -m benchmarks.quality.weak_threshold`
# (results: benchmarks/results/weak_threshold.json) from the quality benchmark's top-1
# scores on the shipped backend: the highest value that marks at most 5% of correct first
# answers weak (3.9% of 930), while it marks 84% of the top hits of queries searched in a
# project that lacks their target. Rerun it after changing the mix above. Marking never
# reorders hits, so it cannot change MRR@10.
WEAK_SCORE = 0.55
T = TypeVar("T")


@dataclass(frozen=True)
class SearchFilters:
    language: str | None = None
    kind: str | None = None
    path_glob: str | None = None

    def active(self) -> bool:
        return bool(self.language or self.kind or self.path_glob)

    def accepts(self, item: IndexedEntity) -> bool:
        record = item.record
        if self.language and record.language != self.language:
            return False
        if self.kind and record.kind != self.kind:
            return False
        return not (self.path_glob and not _glob_match(item.path, self.path_glob))


def _glob_match(path: str, pattern: str) -> bool:
    """`*` crosses folders (src/* matches src/a/b.py); a bare folder name matches below it."""
    pattern = pattern.strip()
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern.rstrip("/") + "/*"):
        return True
    return "/" not in pattern and fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)


@dataclass(frozen=True)
class Hit:
    path: str
    name: str
    kind: str
    language: str
    start_line: int
    end_line: int
    start_col: int
    end_col: int
    signature: str
    score: float
    dense_score: float
    keyword_score: float
    matched: tuple[str, ...]  # the query's words found in the entity's terms, as typed
    weak: bool = False  # scored below WEAK_SCORE: no strong match (searches only)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "name": self.name,
            "kind": self.kind,
            "language": self.language,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "score": round(self.score, 6),
            "dense_score": round(self.dense_score, 6),
            "keyword_score": round(self.keyword_score, 6),
            "matched": list(self.matched),
            "signature": self.signature,
            "weak": self.weak,
        }


def _top_rows(values: npt.NDArray[np.floating[Any]], count: int) -> list[int]:
    """Rows of the `count` largest finite values, best first (ties by row)."""
    finite = np.flatnonzero(np.isfinite(values))
    if len(finite) > count:
        finite = finite[np.argpartition(-values[finite], count - 1)[:count]]
    order = np.lexsort((finite, -values[finite]))
    return [int(r) for r in finite[order]]


def _allowed_mask(
    index: SearchIndex, filters: SearchFilters, exclude_rows: Collection[int]
) -> npt.NDArray[np.bool_]:
    """Live rows that pass the filters; filters cost one pass over the rows when set."""
    mask = index.alive_mask()
    if filters.active():
        for row in np.flatnonzero(mask).tolist():
            item = index.entity(row)
            if item is None or not filters.accepts(item):
                mask[row] = False
    for row in exclude_rows:
        if 0 <= row < len(mask):
            mask[row] = False
    return mask


def rank(
    index: SearchIndex,
    query: str,
    query_vector: Vectors | None,
    *,
    limit: int = 20,
    filters: SearchFilters | None = None,
    exclude_rows: Collection[int] = (),
    use_keywords: bool = True,
    boosts: bool = True,
) -> list[Hit]:
    """Hybrid ranking; with `query_vector` None it is keyword only, with no terms dense only.

    `boosts=False` turns the name boosts off (the benchmark's plain baselines).
    """
    with index.reading():  # one consistent view while saves update the index
        ranked = _rank(
            [index], query, query_vector, limit, filters, [exclude_rows], use_keywords, boosts
        )
    return [hit for _, hit in ranked]


def rank_many(
    indexes: Sequence[SearchIndex],
    query: str,
    query_vector: Vectors | None,
    *,
    limit: int = 20,
    filters: SearchFilters | None = None,
) -> list[tuple[int, Hit]]:
    """Hybrid ranking over several indexes (one per workspace root) as if they were one.

    The keyword statistics (rows, lengths, document frequencies) are pooled and the keyword
    score is normalised by the best over all indexes, so a hit's place does not depend on
    which root holds it. Gives (position of the hit's index in `indexes`, hit), best first.
    """
    with ExitStack() as stack:
        for index in indexes:  # always in the caller's order: no lock-order inversions
            stack.enter_context(index.reading())
        excludes: list[Collection[int]] = [() for _ in indexes]
        return _rank(indexes, query, query_vector, limit, filters, excludes, True, True)


Row = tuple[int, int]  # (position of the index, row in it)


def _rank(
    indexes: Sequence[SearchIndex],
    query: str,
    query_vector: Vectors | None,
    limit: int,
    filters: SearchFilters | None,
    excludes: Sequence[Collection[int]],
    use_keywords: bool,
    boosts: bool,
) -> list[tuple[int, Hit]]:
    filters = filters or SearchFilters()
    if limit <= 0 or not any(len(index) for index in indexes):
        return []
    q_terms = keywords.query_terms(query) if use_keywords else []
    pool = max(CANDIDATES, limit * 5)
    stats: KeywordStats | None = None
    if q_terms and len(indexes) > 1:
        shares = [index.keyword_stats(q_terms) for index in indexes]
        stats = shares[0]
        for share in shares[1:]:
            stats = stats + share

    # Candidate generation stays in numpy: at 100k entities a Python loop over every
    # matching row costs hundreds of milliseconds; only the top `pool` rows leave numpy.
    cosine: dict[Row, float] = {}
    keyword: dict[Row, float] = {}
    dense_of: list[npt.NDArray[np.float32] | None] = []
    bm25_of: list[npt.NDArray[np.floating[Any]]] = []
    for i, index in enumerate(indexes):
        allowed = _allowed_mask(index, filters, excludes[i])
        scores = index.dense_scores(query_vector) if query_vector is not None else None
        dense_of.append(scores)
        if scores is not None:
            masked = np.where(allowed, scores, -np.inf)
            for row in _top_rows(masked, pool):
                cosine[(i, row)] = float(scores[row])
        bm25 = np.zeros(0)
        if q_terms:
            bm25 = np.where(allowed, index.keyword_array(q_terms, stats), 0.0)
            best_rows = _top_rows(np.where(bm25 > 0, bm25, -np.inf), pool)
            keyword.update(((i, row), float(bm25[row])) for row in best_rows)
        bm25_of.append(bm25)

    candidates = set(cosine) | set(keyword)
    if q_terms:  # dense candidates need their keyword score too
        for i, row in candidates.difference(keyword):
            if bm25_of[i][row] > 0:
                keyword[(i, row)] = float(bm25_of[i][row])
    if query_vector is not None:  # keyword candidates need their cosine too
        for i, row in candidates.difference(cosine):
            dense = dense_of[i]
            assert dense is not None
            cosine[(i, row)] = float(dense[row])
    best_keyword = max(keyword.values(), default=0.0)
    dense_share = 1.0 - KEYWORD_WEIGHT if query_vector is not None else 0.0
    keyword_share = KEYWORD_WEIGHT if query_vector is not None else 1.0
    cover = boosts and bool(q_terms)
    exact = boosts and use_keywords and keywords.is_identifier_query(query)
    shown_words = keywords.query_words(query) if q_terms else {}
    # the threshold is calibrated on the hybrid ranking of a query, not on "more like this"
    judged = query_vector is not None and use_keywords and boosts and bool(query.strip())
    fused: dict[Row, float] = {}
    for i, row in candidates:
        value = dense_share * cosine.get((i, row), 0.0)
        if best_keyword > 0:
            value += keyword_share * keyword.get((i, row), 0.0) / best_keyword
        if cover or exact:
            item = indexes[i].entity(row)
            name = item.record.name if item is not None else ""
            if cover:
                value += NAME_COVER_BOOST * keywords.name_cover(q_terms, name)
            if exact and keywords.is_exact_name(query, name):
                value += EXACT_NAME_BOOST
        fused[(i, row)] = value

    hits: list[tuple[int, Hit]] = []
    for i, row in sorted(fused, key=lambda key: (-fused[key], key))[:limit]:
        item = indexes[i].entity(row)
        if item is None:
            continue
        record = item.record
        score = fused[(i, row)]
        hit = Hit(
            path=item.path,
            name=record.name,
            kind=record.kind,
            language=record.language,
            start_line=record.start_line,
            end_line=record.end_line,
            start_col=record.start_col,
            end_col=record.end_col,
            signature=record.signature,
            score=score,
            dense_score=cosine.get((i, row), 0.0),
            keyword_score=keyword.get((i, row), 0.0),
            matched=tuple(keywords.matched_words(q_terms, indexes[i].row_terms(row), shown_words)),
            weak=judged and score < WEAK_SCORE,
        )
        hits.append((i, hit))
    return hits


def name_match_rank(query: str, name: str) -> int:
    """0 when the query is the entity's name (bare or qualified, any case), 1 when the name
    starts with the query, 2 otherwise."""
    wanted = query.strip().lower()
    full = name.lower()
    short = full.rsplit(".", 1)[-1]
    if wanted in (short, full):
        return 0
    if short.startswith(wanted) or full.startswith(wanted):
        return 1
    return 2


def name_matches_first(query: str, hits: Sequence[T], name: Callable[[T], str]) -> list[T]:
    """The order of a symbol lookup (`workspace/symbol`, an editor's "go to symbol"): hits
    named exactly what was typed first, then names that start with it, each group in the
    ranked order. People type the start of a name there, and VS Code shows only the
    symbols whose names match what was typed; `rank` alone may put a by-meaning hit first.
    """
    order = sorted(
        enumerate(hits), key=lambda item: (name_match_rank(query, name(item[1])), item[0])
    )
    return [hit for _, hit in order]
