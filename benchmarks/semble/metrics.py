"""Scoring one ranked answer against a query's targets, the way the semble benchmark scores.

Every target (primary or secondary) has relevance 1. A target's rank is the first place in
the ranking that matches it. NDCG@k marks the places some target reached (a place counts
once, however many targets it matches) and divides by the ideal for the number of labelled
targets, so a query whose targets cannot all be reached stays below 1. Paths match when one
ends with the other at a folder boundary: labels are relative to the repository's top or to
its indexed subfolder, rankings to the repository's top.

Two ways to rank, both reported:
- files (the headline): the entity hits mapped to files, first occurrence of each file;
  a target with a line span matches its file.
- entities (semble's own protocol for its published numbers): the first k entity hits as
  they come; a target with a span matches a hit in its file whose lines overlap the span.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from benchmarks.semble.data import Target

CUTOFF = 10


@dataclass(frozen=True)
class RankedHit:
    """One entity hit, reduced to what scoring needs (path relative to the repository)."""

    path: str
    start_line: int
    end_line: int


@dataclass(frozen=True)
class QueryScore:
    ndcg: float
    mrr: float
    recall: float
    ranks: tuple[int | None, ...]  # per target, 1-based, None when not in the ranking


def path_matches(found: str, target: str) -> bool:
    """Equal, or one path ends with the other at a folder boundary."""
    a = found.replace("\\", "/")
    b = target.replace("\\", "/")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def distinct_files(paths: Iterable[str]) -> list[str]:
    """Files in the order they are first met (a file's later hits add nothing)."""
    return list(dict.fromkeys(paths))


def file_rank(files: Sequence[str], target: Target) -> int | None:
    for position, path in enumerate(files, 1):
        if path_matches(path, target.path):
            return position
    return None


def hit_rank(hits: Sequence[RankedHit], target: Target) -> int | None:
    for position, hit in enumerate(hits, 1):
        if not path_matches(hit.path, target.path):
            continue
        if target.start_line is None or target.end_line is None:
            return position
        if hit.start_line <= target.end_line and hit.end_line >= target.start_line:
            return position
    return None


def dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))


def ndcg_at_k(ranks: Iterable[int | None], targets: int, k: int = CUTOFF) -> float:
    if targets <= 0:
        return 0.0
    gains = [0.0] * k
    for rank in ranks:
        if rank is not None and 1 <= rank <= k:
            gains[rank - 1] = 1.0
    return dcg(gains) / dcg([1.0] * min(k, targets))


def reciprocal_rank_at_k(ranks: Iterable[int | None], k: int = CUTOFF) -> float:
    reached = [rank for rank in ranks if rank is not None and rank <= k]
    return 1.0 / min(reached) if reached else 0.0


def recall_at_k(ranks: Sequence[int | None], targets: int, k: int = CUTOFF) -> float:
    """Share of the labelled targets found in the first k places."""
    if targets <= 0:
        return 0.0
    return sum(1 for rank in ranks if rank is not None and rank <= k) / targets


def score(ranks: Sequence[int | None], k: int = CUTOFF) -> QueryScore:
    return QueryScore(
        ndcg=ndcg_at_k(ranks, len(ranks), k),
        mrr=reciprocal_rank_at_k(ranks, k),
        recall=recall_at_k(ranks, len(ranks), k),
        ranks=tuple(ranks),
    )


def score_files(files: Sequence[str], targets: Sequence[Target], k: int = CUTOFF) -> QueryScore:
    """The headline: targets against the ranked distinct files."""
    return score([file_rank(files, t) for t in targets], k)


def score_entities(
    hits: Sequence[RankedHit], targets: Sequence[Target], k: int = CUTOFF
) -> QueryScore:
    """semble's protocol: targets against the first k entity hits, spans checked."""
    return score([hit_rank(hits[:k], t) for t in targets], k)
