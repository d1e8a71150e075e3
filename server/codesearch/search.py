"""Query -> ranked entities: dense cosine and BM25 keyword rankings, fused by reciprocal rank.

Dense search understands "retry failed uploads" without the words in the code; keywords
catch exact identifiers the small model blurs. Reciprocal rank fusion needs no score
calibration between the two, which keeps it stable across models and workspaces.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from codesearch import keywords
from codesearch.embedding.model import Vectors
from codesearch.index.search_index import IndexedEntity, SearchIndex

RRF_K = 60.0
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 1.0
NAME_BOOST = 0.5  # in units of a first-place RRF contribution
CANDIDATES = 200


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
    matched: tuple[str, ...]

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
        }


def _top(scores: dict[int, float], count: int) -> list[int]:
    return sorted(scores, key=lambda r: (-scores[r], r))[:count]


def rank(
    index: SearchIndex,
    query: str,
    query_vector: Vectors | None,
    *,
    limit: int = 20,
    filters: SearchFilters | None = None,
    exclude_rows: Collection[int] = (),
    use_keywords: bool = True,
) -> list[Hit]:
    """Hybrid ranking; with `query_vector` None it is keyword only, with no terms dense only."""
    filters = filters or SearchFilters()
    if limit <= 0 or len(index) == 0:
        return []
    q_terms = keywords.query_terms(query) if use_keywords else []
    pool = max(CANDIDATES, limit * 5)

    def allowed(row: int) -> bool:
        item = index.entity(row)
        return item is not None and row not in exclude_rows and filters.accepts(item)

    dense: dict[int, float] = {}
    if query_vector is not None:
        scores = index.dense_scores(query_vector)
        finite = int(np.isfinite(scores).sum())
        take = min(finite, pool if not filters.active() else finite)
        if take:
            order = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else None
            rows = order if order is not None else np.arange(len(scores))
            rows = rows[np.argsort(-scores[rows], kind="stable")]
            for row in rows.tolist():
                if not np.isfinite(scores[row]):
                    break
                if allowed(row):
                    dense[row] = float(scores[row])
                    if len(dense) >= pool:
                        break
    keyword: dict[int, float] = {}
    if q_terms:
        for row, value in index.keyword_scores(q_terms).items():
            if allowed(row):
                keyword[row] = value

    fused: dict[int, float] = {}
    for weight, ranking in ((DENSE_WEIGHT, dense), (KEYWORD_WEIGHT, keyword)):
        for position, row in enumerate(_top(ranking, pool)):
            fused[row] = fused.get(row, 0.0) + weight / (RRF_K + position + 1)
    if q_terms:
        wanted = set(q_terms)
        for row in fused:
            item = index.entity(row)
            if item is not None and wanted <= keywords.name_terms(item.record.name):
                fused[row] += NAME_BOOST / (RRF_K + 1)

    hits: list[Hit] = []
    for row in _top(fused, limit):
        item = index.entity(row)
        if item is None:
            continue
        record = item.record
        hits.append(
            Hit(
                path=item.path,
                name=record.name,
                kind=record.kind,
                language=record.language,
                start_line=record.start_line,
                end_line=record.end_line,
                start_col=record.start_col,
                end_col=record.end_col,
                signature=record.signature,
                score=fused[row],
                dense_score=dense.get(row, 0.0),
                keyword_score=keyword.get(row, 0.0),
                matched=tuple(keywords.matched_terms(q_terms, index.row_terms(row))),
            )
        )
    return hits
