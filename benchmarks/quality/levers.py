"""Lever sweeps behind the shipped ranking: `python -m benchmarks.quality.levers`.

Each lever is scored on the same corpora and queries as `evaluate`, but with the whole
score matrix in numpy, so dozens of fusion settings cost seconds. Settings are chosen on
the "tune" half of the queries; the "test" half is reported next to it as a check
against overfitting. The chosen settings are then shipped in `codesearch.search`,
`codesearch.keywords` and `codesearch.embedding.text`, and `evaluate` measures the
shipped code itself.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmarks.quality.corpus import DEFAULT_SUITES, Corpus, build
from benchmarks.quality.engine import query_vectors, vector_store
from codesearch import keywords
from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.registry import load_encoder
from codesearch.embedding.text import TextPreparator
from codesearch.embedding.types import Encoder
from codesearch.entities import Entity
from codesearch.store import Store

FloatArray = npt.NDArray[np.float64]
LEVERS = Path(__file__).resolve().parent / "levers.json"
CUTOFF = 10
IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*(?:\(\))?")


# -- data ------------------------------------------------------------------------------
@dataclass
class Project:
    name: str
    corpus: Corpus
    entities: list[Entity]  # row order
    matrix: npt.NDArray[np.float32]  # entity vectors, one row each
    queries: list[str]
    targets: npt.NDArray[np.int64]
    tune: npt.NDArray[np.bool_]
    query_matrix: npt.NDArray[np.float32]
    dense: npt.NDArray[np.float32] = field(init=False)  # queries x entities cosine

    def __post_init__(self) -> None:
        self.dense = self.query_matrix @ self.matrix.T


def embed_entities(
    entities: Sequence[Entity],
    model: Encoder,
    store: Store,
    preparator: TextPreparator | None = None,
) -> npt.NDArray[np.float32]:
    embedder = BatchEmbedder(model, store, preparator=preparator)
    result = embedder.process_batch(entities)
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} entities failed: {list(result.errors)[:3]}")
    return np.stack([result.vectors[e.id] for e in entities])


def load_project(
    name: str, model: Encoder, store: Store, preparator: TextPreparator | None = None
) -> Project:
    corpus = build(name)
    entities = corpus.entities
    row = {e.id: i for i, e in enumerate(entities)}
    matrix = embed_entities(entities, model, store, preparator)
    queries = [q.text for q in corpus.queries]
    return Project(
        name,
        corpus,
        entities,
        matrix,
        queries,
        np.array([row[q.target] for q in corpus.queries], dtype=np.int64),
        np.array([q.half == "tune" for q in corpus.queries], dtype=bool),
        np.stack(query_vectors(model, store, queries)),
    )


def name_queries(project: Project, model: Encoder, store: Store) -> Project:
    """The same targets, queried by their bare name (`get_encodings`, `baseIsMatch`)."""
    bare = [project.entities[t].name.replace("#", ".").rsplit(".", 1)[-1] for t in project.targets]
    counts = Counter(e.name.replace("#", ".").rsplit(".", 1)[-1] for e in project.entities)
    keep = [i for i, name in enumerate(bare) if counts[name] == 1 and len(name) > 2]
    texts = [bare[i] for i in keep]
    return Project(
        project.name,
        project.corpus,
        project.entities,
        project.matrix,
        texts,
        project.targets[keep],
        project.tune[keep],
        np.stack(query_vectors(model, store, texts)),
    )


# -- keyword scoring -------------------------------------------------------------------
class Bm25:
    """BM25 over term bags (the same formula as the engine's SearchIndex, k1/b free)."""

    def __init__(self, bags: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.n = len(bags)
        self.k1, self.b = k1, b
        self.lengths = np.array([len(bag) for bag in bags], dtype=np.float64)
        self.avg = float(self.lengths.mean()) if self.n else 1.0
        self.postings: dict[str, tuple[npt.NDArray[np.int64], FloatArray]] = {}
        raw: dict[str, dict[int, int]] = {}
        for row, bag in enumerate(bags):
            for term, tf in Counter(bag).items():
                raw.setdefault(term, {})[row] = tf
        for term, posting in raw.items():
            rows = np.fromiter(posting, dtype=np.int64)
            self.postings[term] = (rows, np.array([posting[r] for r in rows], dtype=np.float64))
        self.bags = [frozenset(bag) for bag in bags]

    def scores(self, terms: Sequence[str]) -> FloatArray:
        out = np.zeros(self.n, dtype=np.float64)
        for term in terms:
            found = self.postings.get(term)
            if found is None:
                continue
            rows, tf = found
            idf = math.log(1.0 + (self.n - len(rows) + 0.5) / (len(rows) + 0.5))
            norm = self.k1 * (1 - self.b + self.b * self.lengths[rows] / self.avg)
            out[rows] += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


@dataclass(frozen=True)
class Tokenising:
    """How entity bags and queries become terms (defaults: the shipped keywords module)."""

    name: str = "shipped"
    bag: Callable[[Entity], list[str]] = lambda e: keywords.entity_terms(e).split()
    query: Callable[[str], list[str]] = keywords.query_terms
    name_terms: Callable[[str], set[str]] = keywords.name_terms
    k1: float = 1.2
    b: float = 0.75


# -- fusion ----------------------------------------------------------------------------
@dataclass
class QueryScores:
    dense: FloatArray
    keyword: FloatArray
    name_cover: FloatArray  # share of each entity's name terms that the query contains
    name_all: FloatArray  # 1 where every query term is a name term (the old exact boost)
    terms: int
    exact: FloatArray  # 1 where the query is the entity's name (bare or qualified)
    identifier: bool  # the query looks like one identifier, not a sentence
    cover_idf: FloatArray  # name cover with each name word weighted by its idf


Fusion = Callable[[QueryScores], FloatArray]


def _ranks(scores: FloatArray, valid: npt.NDArray[np.bool_] | None = None) -> FloatArray:
    """1-based rank of every row by descending score (ties by row); inf where not valid."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    if valid is not None:
        ranks[~valid] = np.inf
    return ranks


def rrf(
    k: float = 60.0,
    wd: float = 1.0,
    wk: float = 1.0,
    pool: int = 200,
    name: float = 0.0,
    cover: float = 0.0,
) -> Fusion:
    def fuse(s: QueryScores) -> FloatArray:
        rd = _ranks(s.dense)
        rk = _ranks(s.keyword, s.keyword > 0)
        out = np.where(rd <= pool, wd / (k + rd), 0.0) + np.where(rk <= pool, wk / (k + rk), 0.0)
        out += (name * s.name_all + cover * s.name_cover) / (k + 1)
        return out

    return fuse


def mix(
    alpha: float = 0.3,
    norm: str = "max",
    name: float = 0.0,
    cover: float = 0.0,
    dense_norm: str = "raw",
    exact: float = 0.0,
    ident_alpha: float | None = None,
    cover_mode: str = "share",
) -> Fusion:
    """Convex mix of the dense score and the normalised BM25 score (+ name boosts)."""

    def fuse(s: QueryScores) -> FloatArray:
        kw = s.keyword
        top = float(kw.max())
        if norm == "max":
            kw = kw / top if top > 0 else kw
        elif norm == "sat":  # saturating: bm / (bm + median of positive scores)
            pos = kw[kw > 0]
            kw = kw / (kw + float(np.median(pos))) if len(pos) else kw
        elif norm == "minmax10":
            top10 = np.sort(kw)[-10:]
            lo = float(top10[0])
            kw = np.clip((kw - lo) / (top - lo), 0, None) if top > lo else kw * 0
        dense = s.dense
        if dense_norm == "minmax10":
            top10 = np.sort(dense)[-10:]
            lo, hi = float(top10[0]), float(top10[-1])
            dense = np.clip((dense - lo) / (hi - lo), 0, None) if hi > lo else dense * 0
        elif dense_norm == "z":
            dense = (dense - dense.mean()) / (dense.std() + 1e-9)
        a = ident_alpha if ident_alpha is not None and s.identifier else alpha
        if cover_mode == "idf":
            covered = s.cover_idf
        elif cover_mode == "all":
            covered = (s.name_cover >= 1.0).astype(np.float64)
        elif cover_mode == "square":
            covered = s.name_cover**2
        else:
            covered = s.name_cover
        boosts = name * s.name_all + cover * covered + exact * s.exact
        return (1 - a) * dense + a * kw + boosts

    return fuse


def dense_only(s: QueryScores) -> FloatArray:
    return s.dense


def keyword_only(s: QueryScores) -> FloatArray:
    return s.keyword


# -- scoring ---------------------------------------------------------------------------
@dataclass
class Result:
    tune: float
    test: float
    all: float
    r1: float
    r10: float
    n: int


def positions(scores: FloatArray, target: int) -> int:
    value = scores[target]
    above = int((scores > value).sum())
    ties = int(((scores == value) & (np.arange(len(scores)) < target)).sum())
    return 1 + above + ties


def score_project(
    project: Project, tokenising: Tokenising, fusions: dict[str, Fusion]
) -> dict[str, npt.NDArray[np.int64]]:
    """Target position per query for every fusion."""
    bags = [tokenising.bag(e) for e in project.entities]
    bm25 = Bm25(bags, tokenising.k1, tokenising.b)
    name_sets = [tokenising.name_terms(e.name) for e in project.entities]
    idf = {
        term: math.log(1.0 + (bm25.n - len(rows) + 0.5) / (len(rows) + 0.5))
        for term, (rows, _) in bm25.postings.items()
    }
    full_names = [e.name.replace("#", ".").lower() for e in project.entities]
    bare_names = [n.rsplit(".", 1)[-1] for n in full_names]
    out = {f: np.zeros(len(project.queries), dtype=np.int64) for f in fusions}
    for qi, text in enumerate(project.queries):
        terms = tokenising.query(text)
        wanted = set(terms)
        cover = np.array(
            [len(ns & wanted) / len(ns) if ns else 0.0 for ns in name_sets], dtype=np.float64
        )
        name_all = np.array(
            [1.0 if wanted and wanted <= ns else 0.0 for ns in name_sets], dtype=np.float64
        )
        cover_idf = np.array(
            [
                sum(idf.get(t, 0.0) for t in ns & wanted) / sum(idf.get(t, 0.0) for t in ns)
                if ns and sum(idf.get(t, 0.0) for t in ns) > 0
                else 0.0
                for ns in name_sets
            ],
            dtype=np.float64,
        )
        plain = text.strip().lower()
        exact = np.array(
            [
                1.0 if plain in (full, bare) else 0.0
                for full, bare in zip(full_names, bare_names, strict=True)
            ],
            dtype=np.float64,
        )
        scores = QueryScores(
            project.dense[qi].astype(np.float64),
            bm25.scores(terms),
            cover,
            name_all,
            len(terms),
            exact,
            IDENTIFIER.fullmatch(text.strip()) is not None,
            cover_idf,
        )
        target = int(project.targets[qi])
        for name, fusion in fusions.items():
            out[name][qi] = positions(fusion(scores), target)
    return out


def summarise(pos: npt.NDArray[np.int64], tune: npt.NDArray[np.bool_]) -> Result:
    rr = np.where(pos <= CUTOFF, 1.0 / pos, 0.0)
    return Result(
        float(rr[tune].mean()) if tune.any() else 0.0,
        float(rr[~tune].mean()) if (~tune).any() else 0.0,
        float(rr.mean()),
        float((pos == 1).mean()),
        float((pos <= CUTOFF).mean()),
        len(pos),
    )


def sweep(
    projects: Sequence[Project], tokenising: Tokenising, fusions: dict[str, Fusion]
) -> dict[str, dict[str, Result]]:
    """fusion -> project (and "pooled", "macro") -> Result."""
    table: dict[str, dict[str, Result]] = {f: {} for f in fusions}
    pooled: dict[str, list[npt.NDArray[np.int64]]] = {f: [] for f in fusions}
    for project in projects:
        found = score_project(project, tokenising, fusions)
        for f, pos in found.items():
            table[f][project.name] = summarise(pos, project.tune)
            pooled[f].append(pos)
    tune_all = np.concatenate([p.tune for p in projects])
    for f in fusions:
        table[f]["pooled"] = summarise(np.concatenate(pooled[f]), tune_all)
        per = [table[f][p.name] for p in projects]
        table[f]["macro"] = Result(
            float(np.mean([r.tune for r in per])),
            float(np.mean([r.test for r in per])),
            float(np.mean([r.all for r in per])),
            float(np.mean([r.r1 for r in per])),
            float(np.mean([r.r10 for r in per])),
            sum(r.n for r in per),
        )
    return table


def print_table(title: str, table: dict[str, dict[str, Result]], names: Sequence[str]) -> None:
    print(f"\n== {title}: MRR@10 on tune half / test half (pooled, macro, per project all)")
    head = f"{'setting':<34} {'pool tune':>9} {'pool test':>9} {'macro':>6} " + " ".join(
        f"{n[:8]:>8}" for n in names
    )
    print(head)
    for setting, rows in table.items():
        p, m = rows["pooled"], rows["macro"]
        cells = " ".join(f"{rows[n].all:>8.3f}" for n in names)
        print(f"{setting:<34} {p.tune:>9.3f} {p.test:>9.3f} {m.all:>6.3f} {cells}")


def to_json(table: dict[str, dict[str, Result]]) -> dict[str, object]:
    return {
        setting: {
            where: {
                "mrr_tune": round(r.tune, 4),
                "mrr_test": round(r.test, 4),
                "mrr": round(r.all, 4),
                "r1": round(r.r1, 4),
                "r10": round(r.r10, 4),
            }
            for where, r in rows.items()
        }
        for setting, rows in table.items()
    }


@dataclass
class Context:
    """What a lever group may use: the shipped-text projects, the model and the cache."""

    projects: list[Project]
    model: Encoder
    store: Store

    def name_projects(self) -> list[Project]:
        return [name_queries(p, self.model, self.store) for p in self.projects]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.quality import lever_groups

    parser = argparse.ArgumentParser(description="sweep the ranking levers")
    parser.add_argument("--projects", default=",".join(DEFAULT_SUITES))
    parser.add_argument(
        "--group",
        default=",".join(lever_groups.GROUPS),
        help=f"comma-separated, from {', '.join(lever_groups.GROUPS)} (default: all)",
    )
    parser.add_argument("--output", type=Path, default=LEVERS)
    args = parser.parse_args(argv)
    names = [p for p in args.projects.split(",") if p]
    model = load_encoder(backend="torch")
    store = vector_store(model)
    started = time.perf_counter()
    context = Context([load_project(n, model, store) for n in names], model, store)
    print(f"loaded in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    results: dict[str, object] = {}
    try:
        for group in args.group.split(","):
            for title, variant, tokenising, fusions in lever_groups.GROUPS[group](context):
                table = sweep(variant or context.projects, tokenising, fusions)
                print_table(title, table, names)
                results[title] = to_json(table)
    finally:
        store.close()
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    previous.update(results)
    args.output.write_text(json.dumps(previous, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
