"""Every performance benchmark in one run, and a summary of the figures the README quotes.

    python -m benchmarks [--only index_speed,scale] [--out FILE.json]

Each benchmark runs in its own process (memory figures are per process) and writes its own
results file in benchmarks/results/; this then reads those files and writes the headline
figures, as absolute numbers and as ratios, with the target each one is held to, to
benchmarks/results/summary.json. Timings on a shared machine are noisy: run it idle.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS

Json = dict[str, Any]


def _step(module: str, out: str, *extra: str, out_flag: str = "--out") -> tuple[list[str], Path]:
    """A benchmark module, its extra arguments, and the results file it is told to write."""
    return [module, *extra, out_flag, str(RESULTS / out)], RESULTS / out


# name -> arguments after `python -m`, and the results file it writes
STEPS: dict[str, tuple[list[str], Path]] = {
    "index_speed": _step("benchmarks.index_speed", "index_speed.json"),
    "index_speed_torch": _step(
        "benchmarks.index_speed", "index_speed_torch.json", "--backend", "torch"
    ),
    "backend_speed": _step("benchmarks.backend_speed", "backend_speed.json"),
    "quality_torch": _step(
        "benchmarks.quality.evaluate", "quality_torch.json", "--backend", "torch",
        out_flag="--output",
    ),
    "quality_int8": _step(
        "benchmarks.quality.evaluate", "quality_int8.json", "--backend", "onnx-int8",
        out_flag="--output",
    ),
    "scale": _step("benchmarks.scale", "scale.json"),
    "lsp_latency": _step("benchmarks.lsp_latency", "lsp_latency.json"),
    "first_search": _step("benchmarks.first_search", "first_search.json"),
    "encoder_load": _step("benchmarks.encoder_load", "encoder_load.json"),
}  # fmt: skip


def _mrr(quality: Json) -> float:
    return float(quality["overall"]["hybrid"]["all"]["mrr@10"])


def _check(value: float, target: float, *, at_most: bool) -> Json:
    met = value <= target if at_most else value >= target
    return {"value": value, "target": target, "met": met}


# summary rows: name -> (steps it reads, function of their results)
ROWS: dict[str, tuple[tuple[str, ...], Callable[..., Json]]] = {
    "pipeline_over_raw_encode (default backend)": (
        ("index_speed",),
        lambda r: {
            **_check(r["pipeline_over_raw"], 0.95, at_most=False),
            "backend": r.get("backend", "torch"),
            "runs": r.get("pipeline_over_raw_runs"),
            "pipeline_entities_per_s": r["pipeline_entities_per_s"],
            "raw_entities_per_s": r["raw_entities_per_s"],
        },
    ),
    "pipeline_over_raw_encode (torch fp32)": (
        ("index_speed_torch",),
        lambda r: {
            **_check(r["pipeline_over_raw"], 0.95, at_most=False),
            "runs": r.get("pipeline_over_raw_runs"),
            "pipeline_entities_per_s": r["pipeline_entities_per_s"],
            "raw_entities_per_s": r["raw_entities_per_s"],
        },
    ),
    "one_edit_reindex": (
        ("index_speed",),
        lambda r: {"seconds": r["one_edit_seconds"], "embedded": r["one_edit_embedded"]},
    ),
    "int8_over_fp32_throughput": (
        ("backend_speed",),
        lambda r: {
            "ratio_median": r["ratio_int8_over_fp32_median"],
            "cosine_mean": r["cosine_int8_vs_fp32"]["mean"],
            "cosine_min": r["cosine_int8_vs_fp32"]["min"],
        },
    ),
    "int8_quality_loss_mrr@10 (<= 0.01 makes it the default)": (
        ("quality_torch", "quality_int8"),
        lambda torch, int8: {
            **_check(round(_mrr(torch) - _mrr(int8), 4), 0.01, at_most=True),
            "torch_mrr@10": _mrr(torch),
            "int8_mrr@10": _mrr(int8),
        },
    ),
    "search_ms_p50_excluding_query_embedding (100k)": (
        ("scale",),
        lambda r: {
            **_check(r["search_ms_p50_excluding_query_embedding"], 30, at_most=True),
            "entities": r["entities"],
        },
    ),
    "search_ms_p95_excluding_query_embedding (100k)": (
        ("scale",),
        lambda r: _check(r["search_ms_p95_excluding_query_embedding"], 100, at_most=True),
    ),
    "search_ms_p95_including_query_embedding (100k)": (
        ("scale",),
        lambda r: {
            **_check(r["search_ms_p95_including_query_embedding"], 60, at_most=True),
            "p50": r["search_ms_p50_including_query_embedding"],
        },
    ),
    "warm_restart_ready_s (100k)": (
        ("scale",),
        lambda r: {
            **_check(r["warm_restart_ready_s"], 5, at_most=True),
            "embedded": r["warm_restart_embedded"],
        },
    ),
    "server_rss_mib (100k)": (
        ("scale",),
        lambda r: _check(r["server_rss_mib"], 1024, at_most=True),
    ),
    "store_bytes_per_entity (100k)": (
        ("scale",),
        lambda r: {"value": r["store_bytes_per_entity"]},
    ),
    "first_workspace_symbol_after_warm_start_s": (
        ("first_search",),
        lambda r: {
            **_check(r["at_idle_first_answer_latency_s_median"], 1.0, at_most=True),
            "start_to_idle_s": r["at_idle_start_to_idle_s_median"],
            "asked_at_once_latency_s": r["at_once_first_answer_latency_s_median"],
        },
    ),
    "model_load_s (fresh process, default backend)": (
        ("encoder_load",),
        lambda r: {
            "median": r["load_encoder_s_median"],
            "backend": r["backend"],
            "heavy_modules_imported": r["heavy_modules_imported"],
        },
    ),
    "save_to_searchable_s (LSP, >= 2,000 entities)": (
        ("lsp_latency",),
        lambda r: {
            "median": r["save_to_searchable_median_s"],
            "p95": r["save_to_searchable_p95_s"],
            "saves": r["saves"],
            "embedded_per_save": r["entities_embedded_per_save"],
            "server_rss_mib_after_index": r["server_rss_mib_after_index"],
        },
    ),
}


def run_step(name: str) -> float:
    """Run one benchmark in a fresh interpreter; its own output goes to the terminal."""
    arguments, _ = STEPS[name]
    print(f"\n=== {name}: python -m {' '.join(arguments)}", flush=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", *arguments], check=True)
    return round(time.perf_counter() - started, 1)


def summarise(steps: list[str], seconds: dict[str, float]) -> Json:
    """Headline rows from whatever results files exist (fresh ones from this run marked)."""
    loaded: dict[str, Json] = {}
    for name, (_, path) in STEPS.items():
        if path.is_file():
            loaded[name] = json.loads(path.read_text())
    rows: Json = {}
    for title, (needs, build) in ROWS.items():
        if all(n in loaded for n in needs):
            rows[title] = {
                **build(*(loaded[n] for n in needs)),
                "fresh": all(n in steps for n in needs),
            }
    return {"ran": steps, "seconds": seconds, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", default="", help=f"comma-separated, from {', '.join(STEPS)}")
    parser.add_argument("--out", type=Path, default=RESULTS / "summary.json")
    args = parser.parse_args()
    steps = [s.strip() for s in args.only.split(",") if s.strip()] or list(STEPS)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    seconds = {name: run_step(name) for name in steps}
    summary = summarise(steps, seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")
    print("\n=== summary")
    for title, row in summary["rows"].items():
        met = {True: "  [met]", False: "  [NOT met]"}.get(row.get("met"), "")
        fields = ", ".join(f"{k} {v}" for k, v in row.items() if k not in ("met", "fresh"))
        print(f"{title}: {fields}{met}{'' if row['fresh'] else '  (from an earlier run)'}")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
