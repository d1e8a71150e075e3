"""The regression slice: the held-out queries of one small project, searched end to end.

`tests/quality/test_quality_regression.py` runs `slice_mrr` and compares it with the value
recorded in `tests/quality/regression_slice.json`. To re-record after a deliberate ranking
change: `python -m benchmarks.quality.regression --record` (and say why in the commit).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.quality.corpus import build
from codesearch.config import DEFAULT_BACKEND, Settings
from codesearch.embedding.registry import load_encoder
from codesearch.embedding.types import Encoder
from codesearch.workspace import Workspace

SLICE_FILE = Path(__file__).resolve().parents[2] / "tests" / "quality" / "regression_slice.json"
PROJECT = "requests"
SLICE_SIZE = 100  # at most; requests' held-out half has 85
TOLERANCE = 0.02  # about three queries falling from first to second place (85 queries)
CUTOFF = 10


@dataclass
class SliceResult:
    mrr: float
    positions: list[int | None]  # 1-based rank of each target, None when not in the top 10
    entities: int
    missing_targets: list[str]
    seconds: float


def choose_queries(project: str = PROJECT, size: int = SLICE_SIZE) -> list[dict[str, str]]:
    """The held-out ("test") half of the project's queries, sorted by target."""
    corpus = build(project)
    held_out = sorted(corpus.query_slice("test"), key=lambda q: q.target)
    step = max(1, -(-len(held_out) // size))
    return [{"target": q.target, "text": q.text} for q in held_out[::step]]


def slice_mrr(
    queries: list[dict[str, str]],
    model: Encoder,
    workdir: Path,
    project: str = PROJECT,
) -> SliceResult:
    """Strip the project into workdir, index it with `Workspace`, run the queries."""
    started = time.perf_counter()
    corpus = build(project, target=workdir / "code")
    known = {e.id for e in corpus.entities}
    settings = Settings(store_dir=str(workdir / "store"))
    positions: list[int | None] = []
    with Workspace(corpus.root, settings, encoder=model) as ws:
        summary = ws.index()
        for query in queries:
            hits = ws.search(query["text"], limit=CUTOFF)
            ids = [f"{h.path}::{h.kind}::{h.name}" for h in hits]
            positions.append(ids.index(query["target"]) + 1 if query["target"] in ids else None)
    mrr = sum(1.0 / p for p in positions if p is not None) / max(1, len(queries))
    return SliceResult(
        mrr,
        positions,
        summary.entities,
        [q["target"] for q in queries if q["target"] not in known],
        time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="run or re-record the regression slice")
    parser.add_argument("--record", action="store_true", help=f"rewrite {SLICE_FILE.name}")
    args = parser.parse_args(argv)
    model = load_encoder(backend=DEFAULT_BACKEND)  # the shipped default is what must not regress
    if args.record or not SLICE_FILE.exists():
        queries = choose_queries()
    else:
        queries = json.loads(SLICE_FILE.read_text())["queries"]
    with tempfile.TemporaryDirectory() as tmp:
        result = slice_mrr(queries, model, Path(tmp))
    print(
        f"{PROJECT}: {len(queries)} queries over {result.entities} entities, "
        f"MRR@10 {result.mrr:.4f} in {result.seconds:.1f}s"
    )
    if args.record:
        SLICE_FILE.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "about": "Search-quality regression slice: docstring first sentences of "
            "requests, searched in a docstring-free copy; see benchmarks/quality/README.md",
            "project": PROJECT,
            "cutoff": CUTOFF,
            "backend": DEFAULT_BACKEND,
            "recorded_mrr@10": round(result.mrr, 4),
            "tolerance": TOLERANCE,
            "queries": queries,
        }
        SLICE_FILE.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(f"recorded to {SLICE_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
