"""Loading the model in a fresh process: what a server start waits for before its first search.

    python -m benchmarks.encoder_load [--backend onnx-int8] [--runs 5]

Each run is a new Python process (nothing imported, nothing cached in memory; the int8
export already on disk) that imports the model registry, loads the encoder, and embeds one
query. It reports each step's seconds and which heavy libraries the load imported: the
onnx-int8 backend should need neither transformers nor torch. The machine's load average is
written beside the figures: on a shared machine, compare runs made side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, write_results
from codesearch.config import DEFAULT_BACKEND
from codesearch.embedding.registry import BACKEND_NAMES, load_encoder

HEAVY = ("transformers", "torch", "sentence_transformers")

# One run, in a fresh interpreter: prints its figures as one JSON line.
CHILD = """
import json, sys, time
started = time.perf_counter()
from codesearch.embedding.registry import load_encoder
imported = time.perf_counter()
encoder = load_encoder(backend=sys.argv[1])
loaded = time.perf_counter()
encoder.encode(["shortest path between two nodes"])
encoded = time.perf_counter()
print(json.dumps({
    "import_registry_s": imported - started,
    "load_encoder_s": loaded - imported,
    "first_query_s": encoded - loaded,
    "heavy_modules": sorted(m for m in sys.modules if m in sys.argv[2].split(",")),
}))
"""


def one_run(backend: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, backend, ",".join(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    run: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in run.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backend", default=DEFAULT_BACKEND, choices=BACKEND_NAMES)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS / "encoder_load.json")
    args = parser.parse_args()

    load_encoder(backend=args.backend)  # makes the int8 export first if it is missing
    load_before = os.getloadavg()
    runs = [one_run(args.backend) for _ in range(args.runs)]
    load_after = os.getloadavg()

    def median(key: str) -> float:
        return round(statistics.median(run[key] for run in runs), 3)

    results: dict[str, Any] = {
        "backend": args.backend,
        "runs": len(runs),
        "load_encoder_s_median": median("load_encoder_s"),
        "import_registry_s_median": median("import_registry_s"),
        "first_query_s_median": median("first_query_s"),
        "heavy_modules_imported": sorted({m for run in runs for m in run["heavy_modules"]}),
        "load_average_1min_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "per_run": runs,
    }
    write_results(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
