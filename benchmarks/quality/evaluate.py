"""Search-quality evaluation: `python -m benchmarks.quality.evaluate [--projects a,b] [--quick]`.

For each pinned project: rebuild the docstring-free corpus and its queries, index every
entity with the real model (vectors cached by content), then rank every query three ways
(keyword only, dense only, the shipped hybrid) and report MRR@10, Recall@1 and Recall@10
per project, per query half (tune / test) and overall. Writes the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.quality.corpus import DEFAULT_SUITES, SUITES, Corpus, Query, build
from benchmarks.quality.engine import (
    METHODS,
    Scores,
    build_index,
    query_vectors,
    search,
    target_position,
    vector_store,
)
from codesearch import search as search_module
from codesearch.embedding.registry import load_encoder
from codesearch.keywords import short_name

RESULTS = Path(__file__).resolve().parent / "results.json"
QUICK_SUITES: tuple[str, ...] = ("requests", "lodash")
QUICK_QUERIES = 100
HALVES: tuple[str, ...] = ("tune", "test")
LABELS = {"keyword": "keyword only", "dense": "dense only", "hybrid": "hybrid (shipped)"}


def ranking_settings() -> dict[str, object]:
    """The shipped ranking constants, recorded next to the numbers they produced."""
    return {
        name: getattr(search_module, name)
        for name in dir(search_module)
        if name.isupper() and isinstance(getattr(search_module, name), int | float | str)
    }


def evaluate(
    projects: list[str],
    *,
    max_queries: int | None = None,
    threads: int = 0,
    backend: str = "torch",
    remote_url: str = "",
    remote_model: str = "",
) -> dict[str, object]:
    """`remote_url` (an OpenAI-compatible API base) embeds through the remote encoder
    instead of a local backend: its quality must equal the local model's it serves."""
    model: Any
    batch_size = 32
    if remote_url:
        from codesearch.embedding.remote.encoder import RemoteEncoder
        from codesearch.embedding.remote.endpoint import EndpointConfig

        model = RemoteEncoder.connect(EndpointConfig(remote_url, remote_model))
        batch_size = model.preferred_batch_size  # every concurrent request filled
    else:
        model = load_encoder(backend=backend, threads=threads)
    store = vector_store(model)
    per_project: dict[str, object] = {}
    pooled = {m: Scores() for m in METHODS}
    pooled_halves = {(m, h): Scores() for m in METHODS for h in HALVES}
    pooled_names = {m: Scores() for m in METHODS}
    started = time.perf_counter()
    try:
        for name in projects:
            corpus = build(name)
            queries = corpus.query_slice(limit=max_queries)
            print(
                f"{name}: {len(corpus.entities)} entities in {len(corpus.files)} files, "
                f"{len(queries)} queries; indexing ...",
                file=sys.stderr,
                flush=True,
            )
            indexed = build_index(corpus, model, store, batch_size=batch_size)
            vectors = query_vectors(model, store, [q.text for q in queries])
            scores = {(m, h): Scores() for m in METHODS for h in HALVES}
            t_rank = time.perf_counter()
            for query, vector in zip(queries, vectors, strict=True):
                for method in METHODS:
                    hits = search(indexed.index, method, query.text, vector)
                    scores[method, query.half].add(target_position(hits, query.target))
            rank_s = time.perf_counter() - t_rank
            named = name_queries(corpus, queries)
            named_vectors = query_vectors(model, store, [text for text, _ in named])
            by_name = {m: Scores() for m in METHODS}
            for (text, target), vector in zip(named, named_vectors, strict=True):
                for method in METHODS:
                    hits = search(indexed.index, method, text, vector)
                    by_name[method].add(target_position(hits, target))
            for method in METHODS:
                pooled_names[method].merge(by_name[method])
            methods: dict[str, object] = {}
            for method in METHODS:
                total = Scores()
                for half in HALVES:
                    total.merge(scores[method, half])
                    pooled_halves[method, half].merge(scores[method, half])
                pooled[method].merge(total)
                methods[method] = {
                    "all": total.summary(),
                    **{half: scores[method, half].summary() for half in HALVES},
                }
            per_project[name] = {
                "package": f"{corpus.name}=={corpus.version}",
                "language": corpus.language,
                "note": SUITES[name].note,
                "files": len(corpus.files),
                "entities": len(corpus.entities),
                "queries": len(queries),
                "dropped_queries": corpus.dropped,
                "newly_embedded": indexed.embedded,
                "index_seconds": round(indexed.seconds, 1),
                "rank_ms_per_query": round(1000 * rank_s / max(1, len(queries) * 3), 2),
                "methods": methods,
                "identifier_queries": {m: by_name[m].summary() for m in METHODS},
            }
    finally:
        store.close()
    overall: dict[str, object] = {}
    for method in METHODS:
        overall[method] = {
            "all": pooled[method].summary(),
            **{half: pooled_halves[method, half].summary() for half in HALVES},
            "macro_mrr@10": round(
                sum(_mrr(data, method) for data in per_project.values()) / max(1, len(per_project)),
                4,
            ),
        }
    return {
        "benchmark": "docstring first sentence -> entity in a docstring/comment-free copy",
        "model": model.name,
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - started, 1),
        "ranking": ranking_settings(),
        "max_queries_per_project": max_queries,
        "projects": per_project,
        "overall": overall,
        "margins": margins(per_project, overall),
        "identifier_queries": {
            "about": "the same targets searched by their bare name (names unique in the project)",
            **{m: pooled_names[m].summary() for m in METHODS},
        },
    }


def name_queries(corpus: Corpus, queries: list[Query]) -> list[tuple[str, str]]:
    """(bare name, target) for each query target whose bare name is unique in the project."""
    counts = Counter(short_name(e.name) for e in corpus.entities)
    out: list[tuple[str, str]] = []
    for query in queries:
        name = short_name(query.target.split("::", 2)[2])
        if counts[name] == 1 and len(name) > 2:
            out.append((name, query.target))
    return out


def _mrr(project: object, method: str, half: str = "all") -> float:
    assert isinstance(project, dict)
    methods = project["methods"]
    assert isinstance(methods, dict)
    return float(methods[method][half]["mrr@10"])


def margins(projects: dict[str, object], overall: dict[str, object]) -> dict[str, object]:
    """Hybrid MRR@10 minus the better of the two single rankers, per project and overall."""
    out: dict[str, object] = {}
    for name, data in projects.items():
        assert isinstance(data, dict)
        out[name] = {
            half: round(
                _mrr(data, "hybrid", half)
                - max(_mrr(data, "keyword", half), _mrr(data, "dense", half)),
                4,
            )
            for half in ("all", *HALVES)
        }
    rows = {m: overall[m] for m in METHODS}
    out["overall"] = {
        half: round(
            float(rows["hybrid"][half]["mrr@10"])  # type: ignore[index]
            - max(float(rows[m][half]["mrr@10"]) for m in ("keyword", "dense")),  # type: ignore[index]
            4,
        )
        for half in ("all", *HALVES)
    }
    return out


def format_table(results: dict[str, object]) -> str:
    projects = results["projects"]
    overall = results["overall"]
    assert isinstance(projects, dict) and isinstance(overall, dict)
    lines = [
        f"{'project':<10} {'lang':<11} {'n':>5}  {'method':<17} "
        f"{'MRR@10':>7} {'R@1':>6} {'R@10':>6}   {'MRR tune':>8} {'MRR test':>8}"
    ]
    rows: list[tuple[str, str, dict[str, object]]] = [
        (name, str(data["language"]), data["methods"]) for name, data in projects.items()
    ]
    rows.append(("overall", "pooled", overall))
    for name, language, methods in rows:
        for method in METHODS:
            entry = methods[method]
            assert isinstance(entry, dict)
            all_ = entry["all"]
            lines.append(
                f"{name:<10} {language:<11} {all_['queries']:>5}  {LABELS[method]:<17} "
                f"{all_['mrr@10']:>7.3f} {all_['recall@1']:>6.3f} {all_['recall@10']:>6.3f}   "
                f"{entry['tune']['mrr@10']:>8.3f} {entry['test']['mrr@10']:>8.3f}"
            )
        lines.append("")
    margin_rows = results["margins"]
    assert isinstance(margin_rows, dict)
    lines.append("hybrid MRR@10 minus the better single ranker (all / tune / test):")
    for name, margin in margin_rows.items():
        lines.append(
            f"  {name:<10} {margin['all']:+.3f} / {margin['tune']:+.3f} / {margin['test']:+.3f}"
        )
    idents = results["identifier_queries"]
    assert isinstance(idents, dict)
    lines.append(
        f"identifier queries (bare names, n={idents['hybrid']['queries']}) MRR@10: "
        + ", ".join(f"{LABELS[m]} {idents[m]['mrr@10']:.3f}" for m in METHODS)
    )
    macro = {m: overall[m]["macro_mrr@10"] for m in METHODS}
    lines.append(
        "macro MRR@10 (mean over projects): "
        + ", ".join(f"{LABELS[m]} {macro[m]:.3f}" for m in METHODS)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--projects",
        default="",
        help=f"comma-separated, from {', '.join(SUITES)} (default: {', '.join(DEFAULT_SUITES)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a fast slice: {', '.join(QUICK_SUITES)} (unless --projects), "
        f"first {QUICK_QUERIES} queries each; writes no results file unless --output",
    )
    parser.add_argument("--max-queries", type=int, default=None, help="per project")
    parser.add_argument("--output", type=Path, default=None, help=f"default {RESULTS}")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    parser.add_argument(
        "--backend", default="torch", choices=("torch", "onnx-int8"), help="model backend"
    )
    parser.add_argument(
        "--remote-url",
        default="",
        help="embed through an OpenAI-compatible endpoint (API base, e.g. http://host:8080/v1)",
    )
    parser.add_argument(
        "--remote-model", default="all-MiniLM-L6-v2", help="the model name the endpoint serves"
    )
    args = parser.parse_args(argv)
    projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    if not projects:
        projects = list(QUICK_SUITES if args.quick else DEFAULT_SUITES)
    unknown = [p for p in projects if p not in SUITES]
    if unknown:
        parser.error(f"unknown project(s) {', '.join(unknown)}; choose from {', '.join(SUITES)}")
    max_queries = args.max_queries or (QUICK_QUERIES if args.quick else None)
    results = evaluate(
        projects,
        max_queries=max_queries,
        threads=args.threads,
        backend=args.backend,
        remote_url=args.remote_url,
        remote_model=args.remote_model,
    )
    print(format_table(results))
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"results written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
