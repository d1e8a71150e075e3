"""Questions asked of indexed roots: several roots searched as one, the entity at a line,
and the entities like it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from codesearch.embedding.types import Vectors
from codesearch.index.search_index import IndexedEntity, SearchIndex
from codesearch.search import Hit, SearchFilters, rank, rank_many

T = TypeVar("T")


class SearchHits(list[T]):
    """Hits, best first, and a notice when they were ranked by keywords alone because the
    query could not be embedded (None otherwise): a face shows it beside the hits.

    A list, so every caller that only wants the hits keeps working unchanged.
    """

    def __init__(self, hits: Iterable[T] = (), notice: str | None = None) -> None:
        super().__init__(hits)
        self.notice = notice


class Searchable(Protocol):
    """What a search across roots needs of each root (a Workspace)."""

    @property
    def model_id(self) -> str: ...

    @property
    def index_view(self) -> SearchIndex | None: ...

    def query_embedding(self, query: str) -> tuple[Vectors | None, str | None]: ...


W = TypeVar("W", bound=Searchable)


def search_workspaces(
    workspaces: Sequence[W],
    query: str,
    *,
    limit: int = 20,
    filters: SearchFilters | None = None,
) -> SearchHits[tuple[W, Hit]]:
    """Search several roots as one index: the query is embedded once (per model), and hits
    are ranked together, with keyword statistics pooled over every root, so a hit's place
    does not depend on which root holds it. A root whose query vector is unavailable is
    ranked by keywords alone, and the answer's notice says why."""
    if not query.strip():
        return SearchHits()
    by_model: dict[str, list[tuple[W, SearchIndex]]] = {}
    for ws in workspaces:
        index = ws.index_view
        if index is not None and len(index):
            by_model.setdefault(ws.model_id, []).append((ws, index))
    hits: list[tuple[W, Hit]] = []
    notice: str | None = None
    for group in by_model.values():  # one group unless roots were opened with other models
        vector, why = group[0][0].query_embedding(query)
        notice = notice or why
        indexes = [index for _, index in group]
        ranked = rank_many(indexes, query, vector, limit=limit, filters=filters)
        hits.extend((group[i][0], hit) for i, hit in ranked)
    if len(by_model) > 1:
        hits.sort(key=lambda pair: -pair[1].score)
    return SearchHits(hits[:limit], notice)


def entity_at(index: SearchIndex, rel: str, line: int) -> tuple[int, Hit] | None:
    """The innermost entity of file `rel` whose range holds this 1-based line, and its row."""
    best: tuple[int, int, IndexedEntity] | None = None  # span, row, entity
    with index.reading():  # rows stay put while we look (a save may be updating)
        for row in index.rows_of(rel):
            item = index.entity(row)
            if item is None:
                continue
            rec = item.record
            if rec.start_line <= line <= rec.end_line:
                span = rec.end_line - rec.start_line
                if best is None or span < best[0]:
                    best = (span, row, item)
    if best is None:
        return None
    _, row, found = best
    rec = found.record
    hit = Hit(
        rel,
        rec.name,
        rec.kind,
        rec.language,
        rec.start_line,
        rec.end_line,
        rec.start_col,
        rec.end_col,
        rec.signature,
        1.0,
        1.0,
        0.0,
        (),
    )
    return row, hit


def similar(
    index: SearchIndex, rel: str, line: int, *, limit: int, filters: SearchFilters | None
) -> list[Hit]:
    """Entities nearest by meaning to the one at rel:line (itself excluded)."""
    with index.reading():  # the row found must still be that entity when ranking
        found = entity_at(index, rel, line)
        if found is None:
            return []
        row, _ = found
        return rank(index, "", index.vector(row), limit=limit, filters=filters, exclude_rows={row})
