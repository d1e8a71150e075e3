"""Embedding throughput: torch fp32 against the onnx-int8 backend, on the same real code.

    python benchmarks/backend_speed.py [--texts N] [--threads T] [--rounds R]
                                       [--cache-dir DIR]
                                       [--out benchmarks/results/backend_speed.json]

The texts are functions and methods from this Python's own standard library (found with
`ast`, so nothing is downloaded), spread evenly over the files. Both backends encode all of
them with batch size 32 and the same thread count; the rounds alternate between backends so
that load from other programs falls on both alike. Entities/s is reported per round, as the
median and as the best round; the ratio is int8 over fp32. The cosine between each int8
vector and its fp32 vector shows how far quantisation moves them.

The int8 model is exported afresh into a temporary folder (so the one-time export is timed
too) unless --cache-dir names a folder, whose export is then reused or kept.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import statistics
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from codesearch.embedding.onnx_backend import export_path  # noqa: E402
from codesearch.embedding.registry import load_encoder  # noqa: E402
from codesearch.embedding.resolve import resolve_model  # noqa: E402
from codesearch.locations import CACHE_DIR_ENV  # noqa: E402

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "backend_speed.json"
SKIP_DIRS = {"test", "tests", "idlelib", "site-packages", "dist-packages", "lib2to3", "turtledemo"}


def stdlib_functions(count: int) -> list[str]:
    """`count` functions and methods (at least 3 lines each), evenly spread over the stdlib."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found: list[str] = []
    for path in sorted(stdlib.rglob("*.py")):
        if SKIP_DIRS.intersection(path.relative_to(stdlib).parts):
            continue
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                text = ast.get_source_segment(source, node)
                if text and text.count("\n") >= 2:
                    found.append(text)
    if len(found) < count:
        raise SystemExit(f"only {len(found)} functions found in {stdlib}")
    step = len(found) / count
    return [found[int(i * step)] for i in range(count)]


def timed(encode: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = encode()
    return time.perf_counter() - started, result


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=300, help="how many functions (300)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all cores)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per backend (3)")
    parser.add_argument("--model", default="", help="model setting ('' = packaged default)")
    parser.add_argument("--cache-dir", default="", help="keep/reuse the export here")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.cache_dir:
        os.environ[CACHE_DIR_ENV] = str(Path(args.cache_dir).resolve())
        return run(args)
    with tempfile.TemporaryDirectory(prefix="codesearch-bench-") as scratch:
        os.environ[CACHE_DIR_ENV] = scratch
        return run(args)


def run(args: argparse.Namespace) -> int:
    threads = args.threads or os.cpu_count() or 1

    texts = stdlib_functions(args.texts)
    spec = resolve_model(args.model)
    load_before = load_average()

    torch_load_s, fp32 = timed(lambda: load_encoder(spec, backend="torch", threads=threads))
    cached = export_path(spec).is_file()
    int8_load_s, int8 = timed(lambda: load_encoder(spec, backend="onnx-int8", threads=threads))
    tokens = [len(ids) for ids in fp32.tokenizer(texts, truncation=True)["input_ids"]]
    window = [min(n, fp32.max_tokens) for n in tokens]

    backends = {"torch-fp32": fp32, "onnx-int8": int8}
    for model in backends.values():  # warm-up: first calls allocate and tune
        model.encode(texts[: args.batch_size], batch_size=args.batch_size)
    seconds: dict[str, list[float]] = {name: [] for name in backends}
    vectors: dict[str, Any] = {}
    for round_no in range(args.rounds):
        for name, model in backends.items():
            started = time.perf_counter()
            vectors[name] = model.encode(texts, batch_size=args.batch_size)
            elapsed = time.perf_counter() - started
            seconds[name].append(elapsed)
            print(f"round {round_no + 1}: {name:<10} {len(texts) / elapsed:7.1f} entities/s")

    cosines = np.sum(vectors["onnx-int8"] * vectors["torch-fp32"], axis=1)
    per_backend = {
        name: {
            "model_id": backends[name].model_id,
            "round_s": [round(s, 3) for s in runs],
            "entities_per_s_median": round(len(texts) / statistics.median(runs), 2),
            "entities_per_s_best": round(len(texts) / min(runs), 2),
        }
        for name, runs in seconds.items()
    }
    fp32_stats, int8_stats = per_backend["torch-fp32"], per_backend["onnx-int8"]
    results = {
        "benchmark": "backend_speed",
        "texts": len(texts),
        "source": "Python standard library functions and methods (ast)",
        "tokens_mean": round(float(np.mean(tokens)), 1),
        "tokens_in_window_mean": round(float(np.mean(window)), 1),
        "truncated_share": round(float(np.mean([n > fp32.max_tokens for n in tokens])), 3),
        "window_tokens": fp32.max_tokens,
        "batch_size": args.batch_size,
        "threads": threads,
        "rounds": args.rounds,
        "backends": per_backend,
        "ratio_int8_over_fp32_median": round(
            int8_stats["entities_per_s_median"] / fp32_stats["entities_per_s_median"], 3
        ),
        "ratio_int8_over_fp32_best": round(
            int8_stats["entities_per_s_best"] / fp32_stats["entities_per_s_best"], 3
        ),
        # Each round's two timings run back to back, so they share that moment's machine load.
        "ratio_int8_over_fp32_paired_median": round(
            statistics.median(
                f / i for f, i in zip(seconds["torch-fp32"], seconds["onnx-int8"], strict=True)
            ),
            3,
        ),
        "cosine_int8_vs_fp32": {
            "mean": round(float(cosines.mean()), 4),
            "min": round(float(cosines.min()), 4),
            "p05": round(float(np.percentile(cosines, 5)), 4),
        },
        "load_s": {"torch-fp32": round(torch_load_s, 2), "onnx-int8": round(int8_load_s, 2)},
        "onnx_export": {
            "reused_cached_export": cached,
            "export_and_load_s": None if cached else round(int8_load_s, 2),
            "path": str(export_path(spec)),
            "size_bytes": export_path(spec).stat().st_size,
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "versions": _versions(),
        },
    }
    print(
        f"\n{len(texts)} functions, {results['tokens_in_window_mean']} tokens on average "
        f"(window {fp32.max_tokens}), batch {args.batch_size}, {threads} threads"
    )
    for name, stats in per_backend.items():
        print(
            f"{name:<10} median {stats['entities_per_s_median']:7.1f} entities/s"
            f"   best {stats['entities_per_s_best']:7.1f}"
        )
    print(
        f"int8 / fp32: {results['ratio_int8_over_fp32_median']:.2f}x (median), "
        f"{results['ratio_int8_over_fp32_best']:.2f}x (best), "
        f"{results['ratio_int8_over_fp32_paired_median']:.2f}x (median of per-round ratios)"
    )
    cos = results["cosine_int8_vs_fp32"]
    print(f"cosine int8 vs fp32: mean {cos['mean']:.4f}, min {cos['min']:.4f}, p5 {cos['p05']:.4f}")
    if not cached:
        print(f"export (first use, included in the int8 load): {int8_load_s:.1f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.out}")
    return 0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("torch", "sentence-transformers", "transformers", "onnxruntime", "onnx"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "missing"
    return found


if __name__ == "__main__":
    raise SystemExit(main())
