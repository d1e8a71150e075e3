"""Calibrate the weak-result threshold: `python -m benchmarks.quality.weak_threshold`.

A search always returns its best hits, even when the code asked about is not there: five
unrelated functions then look as confident as real answers. `codesearch.search.WEAK_SCORE`
marks hits scored below it as weak ("no strong match"). This command derives that value
from the quality benchmark's queries (docstring first sentences, benchmarks/quality):

- **found**: the top-1 score of each query whose target the shipped ranking puts first;
- **absent, other project**: the top-1 score of each query searched in the index of each
  OTHER project (the code it describes is not there: the "retry logic in a project without
  any" case);
- **absent, target removed**: the top-1 score of each query searched in its own project
  with its target taken out (a harder case: near relatives of the target remain).

The threshold is the highest score that leaves at most `MAX_FOUND_WEAK` of the tune half's
found hits below it (a correct first answer marked weak costs trust; an unrelated answer
left unmarked is today's behaviour). It is checked on the held-out test half. Marking does
not reorder anything, so MRR@10 is unchanged by construction; the command checks that the
hybrid ranking it scores is the shipped one by reporting its MRR@10 beside.

Writes benchmarks/results/weak_threshold.json. Rerun after any change to the score mix
(`codesearch.search`) and copy the printed value into `WEAK_SCORE`.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.quality.corpus import DEFAULT_SUITES, SUITES, build
from benchmarks.quality.engine import (
    CUTOFF,
    Indexed,
    build_index,
    hit_id,
    query_vectors,
    vector_store,
)
from codesearch import search as search_module
from codesearch.config import DEFAULT_BACKEND
from codesearch.embedding.registry import load_encoder
from codesearch.embedding.types import Vectors
from codesearch.search import rank

RESULTS = Path(__file__).resolve().parents[1] / "results" / "weak_threshold.json"
MAX_FOUND_WEAK = 0.05  # at most this share of correct first answers may be marked weak
PERCENTILES = (1, 5, 10, 25, 50, 75, 90, 95, 99)
SWEEP = tuple(round(0.25 + 0.025 * i, 3) for i in range(17))  # 0.25 .. 0.65


@dataclass
class Samples:
    """Top-1 scores of one kind of query outcome, per query half."""

    tune: list[float] = field(default_factory=list)
    test: list[float] = field(default_factory=list)

    def add(self, half: str, value: float) -> None:
        (self.tune if half == "tune" else self.test).append(value)

    def all(self) -> list[float]:
        return self.tune + self.test


def _top(indexed: Indexed, text: str, vector: Vectors, exclude: set[int] | None = None) -> float:
    hits = rank(indexed.index, text, vector, limit=1, exclude_rows=exclude or ())
    return hits[0].score if hits else 0.0


def auc(positive: list[float], negative: list[float]) -> float:
    """The chance that a random positive scores above a random negative (ties count half)."""
    pos = np.sort(np.asarray(positive))
    neg = np.sort(np.asarray(negative))
    if not len(pos) or not len(neg):
        return float("nan")
    below = np.searchsorted(neg, pos, side="left")
    ties = np.searchsorted(neg, pos, side="right") - below
    return float((below + 0.5 * ties).sum() / (len(pos) * len(neg)))


def collect(projects: list[str], backend: str) -> tuple[dict[str, Samples], dict[str, float]]:
    model = load_encoder(backend=backend)
    store = vector_store(model)
    samples = {name: Samples() for name in ("found", "missed", "other_project", "removed")}
    reciprocal: list[float] = []
    try:
        indexed: dict[str, Indexed] = {}
        queries = {}
        for name in projects:
            corpus = build(name)
            print(f"{name}: indexing {len(corpus.entities)} entities ...", file=sys.stderr)
            indexed[name] = build_index(corpus, model, store)
            qs = corpus.query_slice()
            queries[name] = (qs, query_vectors(model, store, [q.text for q in qs]))
        for name in projects:
            own = indexed[name]
            for query, vector in zip(*queries[name], strict=True):
                hits = rank(own.index, query.text, vector, limit=CUTOFF)
                ids = [hit_id(h) for h in hits]
                position = ids.index(query.target) + 1 if query.target in ids else None
                reciprocal.append(1.0 / position if position else 0.0)
                if hits:
                    kind = "found" if position == 1 else "missed"
                    samples[kind].add(query.half, hits[0].score)
                row = own.rows.get(query.target)
                if row is not None:
                    samples["removed"].add(query.half, _top(own, query.text, vector, {row}))
                for other in projects:
                    if other != name:
                        score = _top(indexed[other], query.text, vector)
                        samples["other_project"].add(query.half, score)
    finally:
        store.close()
    return samples, {"mrr@10": round(float(np.mean(reciprocal)), 4), "queries": len(reciprocal)}


def share_below(values: list[float], threshold: float) -> float:
    return round(sum(v < threshold for v in values) / max(1, len(values)), 4)


def choose(found_tune: list[float]) -> float:
    """The highest threshold (2 decimals) leaving at most MAX_FOUND_WEAK of found hits below."""
    ordered = sorted(found_tune)
    cut = ordered[int(MAX_FOUND_WEAK * len(ordered))]  # at most that many strictly below
    return float(np.floor(cut * 100) / 100)


def summarise(samples: dict[str, Samples], threshold: float) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, sample in samples.items():
        values = sample.all()
        out[name] = {
            "n": len(values),
            "mean": round(float(np.mean(values)), 4) if values else None,
            "percentiles": {f"p{p}": round(float(np.percentile(values, p)), 4) for p in PERCENTILES}
            if values
            else {},
            "weak_at_threshold": {
                "all": share_below(values, threshold),
                "tune": share_below(sample.tune, threshold),
                "test": share_below(sample.test, threshold),
            },
        }
    return out


def sweep(samples: dict[str, Samples]) -> list[dict[str, float]]:
    return [
        {"threshold": t, **{name: share_below(s.all(), t) for name, s in samples.items()}}
        for t in SWEEP
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--projects", default=",".join(DEFAULT_SUITES))
    parser.add_argument(
        "--backend", default=DEFAULT_BACKEND, choices=("torch", "onnx-int8"), help="model backend"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    projects = [p.strip() for p in args.projects.split(",") if p.strip()]
    unknown = [p for p in projects if p not in SUITES]
    if unknown or len(projects) < 2:
        parser.error(f"give at least two projects from {', '.join(SUITES)}")
    started = time.perf_counter()
    samples, ranking = collect(projects, args.backend)
    threshold = choose(samples["found"].tune)
    results = {
        "benchmark": "top-1 scores: target found first vs target absent (benchmarks/quality)",
        "backend": args.backend,
        "projects": projects,
        "python": platform.python_version(),
        "seconds": round(time.perf_counter() - started, 1),
        "rule": f"highest threshold leaving at most {MAX_FOUND_WEAK:.0%} of the tune half's "
        "correct first answers below it",
        "threshold": threshold,
        "shipped_WEAK_SCORE": getattr(search_module, "WEAK_SCORE", None),
        "hybrid_ranking": ranking,
        "distributions": summarise(samples, threshold),
        "separation_auc": {
            "found_vs_other_project": round(
                auc(samples["found"].all(), samples["other_project"].all()), 4
            ),
            "found_vs_removed": round(auc(samples["found"].all(), samples["removed"].all()), 4),
        },
        "sweep": sweep(samples),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    dist = results["distributions"]
    assert isinstance(dist, dict)
    for name, data in dist.items():
        pct = data["percentiles"]
        print(
            f"{name:<14} n={data['n']:>5}  p5 {pct.get('p5', 0):.3f}  p50 {pct.get('p50', 0):.3f}"
            f"  p95 {pct.get('p95', 0):.3f}  weak at {threshold:.2f}: "
            f"{data['weak_at_threshold']['all']:.1%}"
        )
    print(f"hybrid MRR@10 {ranking['mrr@10']} over {ranking['queries']} queries (unchanged)")
    print(f"threshold {threshold:.2f}; written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
