"""How long `codesearch index --model X` takes to fail when X cannot load (issue 14, item 1).

    python -m benchmarks.model_failure [--runs 3] [--out FILE.json]

Indexes the fixture folder on the default model, then asks for a hub model that is not in
the (empty, temporary) Hugging Face cache, under each network condition a user meets, and
for a model folder that holds no model; each run must fail with exit status 1 and leave
the index as it was. Before the fix (e47526f) the offline hub case took 87 s of retries
on this machine (five per file, 1-8 s apart) and moved the index aside first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, write_results

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "workspace"
HUB_NAME = "sentence-transformers/all-mpnet-base-v2"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "codesearch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    return done, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "model_failure.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="codesearch-model-failure-"))
    try:
        root = work / "project"
        shutil.copytree(FIXTURE, root)
        (work / "empty-folder").mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
        env.update(CODESEARCH_CACHE_DIR=str(work / "cache"), HF_HUB_CACHE=str(work / "hf"))
        done, seconds = _run(["index", str(root)], env)
        assert done.returncode == 0, done.stderr
        cases: dict[str, tuple[list[str], dict[str, str]]] = {
            "hub_model_HF_HUB_OFFLINE": (["--model", HUB_NAME], {"HF_HUB_OFFLINE": "1"}),
            "hub_model_no_network": (["--model", HUB_NAME], {}),
            "hub_model_refused_port": (
                ["--model", HUB_NAME],
                {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"},
            ),
            "folder_without_a_model": (["--model", str(work / "empty-folder")], {}),
        }
        results: dict[str, Any] = {"baseline_index_s": round(seconds, 2)}
        for name, (flags, extra) in cases.items():
            times = []
            for _ in range(args.runs):
                done, seconds = _run(["index", str(root), *flags], {**env, **extra})
                message = done.stderr.strip()
                assert done.returncode == 1 and "\n" not in message, message
                times.append(seconds)
            results[f"{name}_fail_s"] = round(statistics.median(times), 2)
            results[f"{name}_message"] = message
        done, _ = _run(["index", str(root), "--json"], env)
        assert done.returncode == 0 and json.loads(done.stdout)["embedded"] == 0, done.stdout
        results["index_kept"] = True  # back on the default model, nothing was embedded again
        results["before_fix_hub_model_offline_fail_s"] = 87.2  # e47526f, measured here
        write_results(results, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
