"""Our search on the semble benchmark: NDCG@10, MRR@10 and R@10 beside semble's numbers.

    python -m benchmarks.semble.evaluate --repos DIR --annotations DIR --repos-json FILE \\
        [--repo NAME]... [--language L]... [--exclude NAME]... [--out FILE] \\
        [--backend onnx-int8|torch] [--cache-dir DIR] [--published DIR]

For each repository with labelled queries and a checkout under --repos: index its
benchmark_root subfolder with the engine (as semble indexes it), run every query, rank the
files of the hits, score them (see metrics.py). Writes --out (JSON: overall, per category,
per language, per repository, with semble's and CodeRankEmbed-hybrid's published
per-repository NDCG@10 and their means over the same repositories), a markdown table beside
it (.md) and one line per query (-queries.jsonl) for reading the misses.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.semble.data import (
    CATEGORIES,
    BenchmarkDataError,
    Query,
    RepoSpec,
    load_queries,
    load_repo_specs,
)
from benchmarks.semble.engine import EntityHit, RepositoryRun, search_repository
from benchmarks.semble.metrics import (
    CUTOFF,
    QueryScore,
    RankedHit,
    distinct_files,
    score_entities,
    score_files,
)
from codesearch.config import DEFAULT_BACKEND
from codesearch.embedding.registry import BACKEND_NAMES

BENCHMARKS = Path(__file__).resolve().parent.parent
DEFAULT_OUT = BENCHMARKS / "results" / "semble.json"
DEFAULT_CACHE = BENCHMARKS / ".corpus" / "semble"
Json = dict[str, Any]


@dataclass(frozen=True)
class Published:
    """Published NDCG@10 of one method, per repository (and per category within it)."""

    ndcg10: dict[str, float]
    by_category: dict[str, dict[str, float]]


@dataclass
class QueryResult:
    query: Query
    files: list[str]  # ranked distinct files, relative to the repository's top
    hits: list[EntityHit]  # entity hits, paths relative to the repository's top
    by_file: QueryScore
    by_entity: QueryScore


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(statistics.fmean(items), 4) if items else None


def load_published(folder: Path) -> dict[str, Published]:
    """semble's and CodeRankEmbed-hybrid's per-repository results, where the folder has them."""
    found: dict[str, Published] = {}
    sources = {"semble": "semble-hybrid-*.json", "coderankembed_hybrid": "coderankembed-*.json"}
    for method, pattern in sources.items():
        files = sorted(folder.glob(pattern), key=lambda p: p.stat().st_mtime)
        if not files:
            continue
        data = json.loads(files[-1].read_text(encoding="utf-8"))
        ndcg: dict[str, float] = {}
        cats: dict[str, dict[str, float]] = {}
        for row in data.get("repos", []):
            if row.get("mode", "hybrid") != "hybrid":
                continue
            ndcg[row["repo"]] = float(row["ndcg10"])
            cats[row["repo"]] = {k: float(v) for k, v in row.get("by_category", {}).items()}
        found[method] = Published(ndcg, cats)
    return found


def checkout_revision(checkout: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def missing_targets(spec: RepoSpec, repos_dir: Path, queries: Sequence[Query]) -> int:
    """Targets whose file is not in the checkout (a sign of a checkout at another revision)."""
    checkout = repos_dir / spec.name
    root = spec.index_root(repos_dir)
    paths = {t.path for q in queries for t in q.targets}
    return sum(1 for p in paths if not (checkout / p).is_file() and not (root / p).is_file())


def score_repository(
    spec: RepoSpec, queries: Sequence[Query], run: RepositoryRun
) -> list[QueryResult]:
    results: list[QueryResult] = []
    for query, found in zip(queries, run.hits, strict=True):
        hits = [
            EntityHit(spec.repo_path(h.path), h.name, h.kind, h.start_line, h.end_line)
            for h in found
        ]
        files = distinct_files(h.path for h in hits)
        ranked = [RankedHit(h.path, h.start_line, h.end_line) for h in hits]
        results.append(
            QueryResult(
                query,
                files,
                hits,
                score_files(files, query.targets),
                score_entities(ranked, query.targets),
            )
        )
    return results


def repository_row(
    spec: RepoSpec,
    results: Sequence[QueryResult],
    run: RepositoryRun,
    revision: str | None,
    missing: int,
    published: dict[str, Published],
) -> Json:
    by_cat: dict[str, list[float]] = defaultdict(list)
    for r in results:
        by_cat[r.query.category].append(r.by_file.ndcg)
    row: Json = {
        "repo": spec.name,
        "language": spec.language,
        "queries": len(results),
        "ndcg10": mean(r.by_file.ndcg for r in results),
        "mrr10": mean(r.by_file.mrr for r in results),
        "r10": mean(r.by_file.recall for r in results),
        "ndcg10_entities": mean(r.by_entity.ndcg for r in results),
        "by_category": {c: mean(v) for c, v in sorted(by_cat.items())},
        "entities": run.entities,
        "files": run.files,
        "embedded": run.embedded,
        "failed": run.failed,
        "index_seconds": round(run.index_seconds, 2),
        "query_ms_p50": round(run.query_ms_p50, 2),
        "revision": revision,
        "pinned_revision": spec.revision,
        "at_pinned_revision": revision == spec.revision,
        "targets_missing_from_checkout": missing,
    }
    for method, data in published.items():
        row[method] = data.ndcg10.get(spec.name)
        row[f"{method}_by_category"] = data.by_category.get(spec.name)
    return row


def _group_summary(
    rows: Sequence[Json], results: Sequence[QueryResult], methods: Iterable[str]
) -> Json:
    """Means over repositories (as semble reports them) and over queries, ours and theirs."""
    summary: Json = {
        "repos": len(rows),
        "queries": len(results),
        "ndcg10": mean(r["ndcg10"] for r in rows),
        "mrr10": mean(r["mrr10"] for r in rows),
        "r10": mean(r["r10"] for r in rows),
        "ndcg10_entities": mean(r["ndcg10_entities"] for r in rows),
        "ndcg10_over_queries": mean(r.by_file.ndcg for r in results),
    }
    for method in methods:
        theirs = [r for r in rows if r.get(method) is not None]
        summary[method] = mean(r[method] for r in theirs)
        summary[f"ndcg10_on_{method}_repos"] = mean(r["ndcg10"] for r in theirs)
        summary[f"at_or_above_{method}"] = sum(1 for r in theirs if r["ndcg10"] >= r[method])
        summary[f"{method}_repos"] = len(theirs)
    return summary


def _category_summary(
    rows: Sequence[Json], results: Sequence[QueryResult], methods: Iterable[str]
) -> Json:
    out: Json = {}
    for category in CATEGORIES:
        ours = [r for r in rows if r["by_category"].get(category) is not None]
        entry: Json = {
            "repos": len(ours),
            "queries": sum(1 for r in results if r.query.category == category),
            "ndcg10": mean(r["by_category"][category] for r in ours),
            "ndcg10_over_queries": mean(
                r.by_file.ndcg for r in results if r.query.category == category
            ),
        }
        for method in methods:
            theirs = [
                r[f"{method}_by_category"][category]
                for r in ours
                if (r.get(f"{method}_by_category") or {}).get(category) is not None
            ]
            entry[method] = mean(theirs)
        out[category] = entry
    return out


def summarise(rows: Sequence[Json], results: Sequence[QueryResult], methods: Sequence[str]) -> Json:
    by_language: Json = {}
    for language in sorted({r["language"] for r in rows}):
        group = [r for r in rows if r["language"] == language]
        names = {r["repo"] for r in group}
        by_language[language] = _group_summary(
            group, [q for q in results if q.query.repo in names], methods
        )
    return {
        "overall": _group_summary(rows, results, methods),
        "by_category": _category_summary(rows, results, methods),
        "by_language": by_language,
    }


def query_line(result: QueryResult) -> Json:
    q = result.query
    grades = ["relevant"] * len(q.relevant) + ["secondary"] * len(q.secondary)
    return {
        "repo": q.repo,
        "language": q.language,
        "category": q.category,
        "query": q.text,
        "ndcg10": round(result.by_file.ndcg, 4),
        "mrr10": round(result.by_file.mrr, 4),
        "r10": round(result.by_file.recall, 4),
        "ndcg10_entities": round(result.by_entity.ndcg, 4),
        "targets": [
            {"path": t.describe(), "grade": g, "rank": rank}
            for t, g, rank in zip(q.targets, grades, result.by_file.ranks, strict=True)
        ],
        "top_files": result.files[:CUTOFF],
        "top_hits": [
            f"{h.path}:{h.start_line}-{h.end_line} {h.kind} {h.name}" for h in result.hits[:CUTOFF]
        ],
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def markdown(report: Json) -> str:
    methods = report["published_methods"]
    heads = {"semble": "semble", "coderankembed_hybrid": "CRE hybrid"}
    o = report["overall"]
    lines = [
        f"# semble benchmark: {o['repos']} repositories, {o['queries']} queries",
        "",
        f"Engine {report['engine_commit']}, backend {report['backend']}, {report['date']}. "
        "NDCG@10 / MRR@10 / R@10 over ranked distinct files; `entities` = NDCG@10 over the "
        "first 10 entity hits (semble's own protocol). Means over repositories.",
        "",
        "| | NDCG@10 | MRR@10 | R@10 | NDCG@10 entities | "
        + " | ".join(heads[m] for m in methods)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(methods),
        f"| overall | {_fmt(o['ndcg10'])} | {_fmt(o['mrr10'])} | {_fmt(o['r10'])} | "
        f"{_fmt(o['ndcg10_entities'])} | " + " | ".join(_fmt(o[m]) for m in methods) + " |",
    ]
    for category, c in report["by_category"].items():
        lines.append(
            f"| {category} ({c['queries']} q) | {_fmt(c['ndcg10'])} | | | | "
            + " | ".join(_fmt(c[m]) for m in methods)
            + " |"
        )
    lines += [
        "",
        "| language | repos | NDCG@10 | MRR@10 | R@10 | "
        + " | ".join(heads[m] for m in methods)
        + " |",
    ]
    lines.append("|---|---:|---:|---:|---:|" + "---:|" * len(methods))
    for language, g in report["by_language"].items():
        lines.append(
            f"| {language} | {g['repos']} | {_fmt(g['ndcg10'])} | {_fmt(g['mrr10'])} | "
            f"{_fmt(g['r10'])} | " + " | ".join(_fmt(g[m]) for m in methods) + " |"
        )
    lines += [
        "",
        "| repository | language | queries | entities | index s | NDCG@10 | MRR@10 | R@10 | "
        "entities | " + " | ".join(heads[m] for m in methods) + " | revision |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|" * len(methods) + "---|",
    ]
    for r in report["repos"]:
        lines.append(
            f"| {r['repo']} | {r['language']} | {r['queries']} | {r['entities']} | "
            f"{r['index_seconds']:.0f} | {_fmt(r['ndcg10'])} | {_fmt(r['mrr10'])} | "
            f"{_fmt(r['r10'])} | {_fmt(r['ndcg10_entities'])} | "
            + " | ".join(_fmt(r.get(m)) for m in methods)
            + f" | {'pinned' if r['at_pinned_revision'] else (r['revision'] or '?')[:12]} |"
        )
    if report["skipped"]:
        lines += [
            "",
            "Not evaluated: " + "; ".join(f"{k} ({v})" for k, v in report["skipped"].items()),
        ]
    return "\n".join(lines) + "\n"


def engine_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(BENCHMARKS), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or "unknown"


def outputs(out: Path) -> tuple[Path, Path]:
    return out.with_suffix(".md"), out.with_name(out.stem + "-queries.jsonl")


def write_report(
    out: Path,
    rows: list[Json],
    results: list[QueryResult],
    published: dict[str, Published],
    meta: Json,
    skipped: dict[str, str],
) -> Json:
    methods = list(published)
    report: Json = {**meta, "published_methods": methods}
    report.update(summarise(rows, results, methods))
    report["repos"] = rows
    report["skipped"] = skipped
    out.parent.mkdir(parents=True, exist_ok=True)
    md_path, queries_path = outputs(out)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    with queries_path.open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(query_line(result), ensure_ascii=False) + "\n")
    return report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repos", type=Path, required=True, help="folder of checkouts, one per repository name"
    )
    parser.add_argument(
        "--annotations", type=Path, required=True, help="folder of <repo>.json query files"
    )
    parser.add_argument("--repos-json", type=Path, required=True, help="the benchmark's repos.json")
    parser.add_argument(
        "--repo", action="append", default=[], help="only this repository (repeatable)"
    )
    parser.add_argument(
        "--language", action="append", default=[], help="only this language (repeatable)"
    )
    parser.add_argument(
        "--exclude", action="append", default=[], help="leave this repository out (repeatable)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--backend", choices=BACKEND_NAMES, default=DEFAULT_BACKEND)
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE, help="vector stores, reused across runs"
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=None,
        help="folder with semble's results files (default: results/ beside --repos-json)",
    )
    return parser.parse_args(argv)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        specs = load_repo_specs(args.repos_json)
        queries = load_queries(args.annotations, specs)
    except BenchmarkDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.repo) - set(specs))
    if unknown:
        print(f"error: not in {args.repos_json}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    queries = [
        q
        for q in queries
        if (not args.repo or q.repo in args.repo)
        and (not args.language or q.language in args.language)
        and q.repo not in args.exclude
    ]
    by_repo: dict[str, list[Query]] = defaultdict(list)
    for q in queries:
        by_repo[q.repo].append(q)
    if not by_repo:
        print("error: no labelled queries match the filters", file=sys.stderr)
        return 2
    published = load_published(args.published or args.repos_json.parent / "results")
    cache_dir = args.cache_dir / args.backend
    started = time.perf_counter()
    meta: Json = {
        "benchmark": "semble (MinishLab/semble benchmarks/, MIT licence)",
        "engine_commit": engine_commit(),
        "backend": args.backend,
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "cutoff": CUTOFF,
    }
    rows: list[Json] = []
    results: list[QueryResult] = []
    skipped: dict[str, str] = {}
    names = sorted(by_repo)
    for number, name in enumerate(names, 1):
        spec = specs[name]
        root = spec.index_root(args.repos)
        if not root.is_dir():
            skipped[name] = f"no checkout at {root}"
            print(
                f"[{number}/{len(names)}] {name}: skipped, no checkout at {root}", file=sys.stderr
            )
            continue
        repo_queries = by_repo[name]
        print(
            f"[{number}/{len(names)}] {name} ({spec.language}): indexing {root}",
            file=sys.stderr,
            flush=True,
        )
        run = search_repository(
            root,
            [q.text for q in repo_queries],
            cache_dir=cache_dir,
            backend=args.backend,
            label=name,
        )
        scored = score_repository(spec, repo_queries, run)
        row = repository_row(
            spec,
            scored,
            run,
            checkout_revision(args.repos / name),
            missing_targets(spec, args.repos, repo_queries),
            published,
        )
        rows.append(row)
        results.extend(scored)
        theirs = row.get("semble")
        print(
            f"    {run.entities} entities, {run.files} files, index {run.index_seconds:.1f}s "
            f"({run.embedded} embedded); NDCG@10 {_fmt(row['ndcg10'])} "
            f"(semble {_fmt(theirs)}), MRR@10 {_fmt(row['mrr10'])}, R@10 {_fmt(row['r10'])}",
            file=sys.stderr,
            flush=True,
        )
        meta["seconds"] = round(time.perf_counter() - started, 1)
        write_report(args.out, rows, results, published, meta, skipped)  # partial, as we go
    if not rows:
        print("error: no repository could be evaluated", file=sys.stderr)
        return 1
    report = write_report(args.out, rows, results, published, meta, skipped)
    o = report["overall"]
    print(
        f"\n{o['repos']} repositories, {o['queries']} queries: NDCG@10 {_fmt(o['ndcg10'])}, "
        f"MRR@10 {_fmt(o['mrr10'])}, R@10 {_fmt(o['r10'])}; semble {_fmt(o.get('semble'))}, "
        f"CRE hybrid {_fmt(o.get('coderankembed_hybrid'))} on the same repositories\n"
        f"written to {args.out} (+ {outputs(args.out)[0].name}, {outputs(args.out)[1].name})",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
