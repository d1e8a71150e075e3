"""Shared pieces of the reliability tests: a small real corpus, store snapshots, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.store import Store

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "workspace"
# Real code that every Python install has: about 90 functions, classes and methods.
STDLIB_MODULES = ("textwrap", "shlex", "heapq", "colorsys", "glob", "sched", "quopri")
CLI = [sys.executable, "-m", "codesearch"]
MODEL_LOADED = "loaded model"  # the INFO line the model loader writes once it is ready
VECTOR_TOLERANCE = 1e-6  # batch composition moves float32 results by ~1e-7


def build_corpus(target: Path) -> Path:
    """The multi-language fixture workspace plus a few standard-library modules."""
    shutil.copytree(FIXTURE, target)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    (target / "stdlib").mkdir()
    for name in STDLIB_MODULES:
        shutil.copyfile(stdlib / f"{name}.py", target / "stdlib" / f"{name}.py")
    return target


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


# -- store snapshots -------------------------------------------------------------------------


@dataclass
class Snapshot:
    """What a store holds: file manifests (as plain data) and vectors by content key."""

    manifests: dict[str, dict[str, Any]] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] | None = None

    @property
    def entity_keys(self) -> dict[str, list[str]]:
        return {p: [e["key"] for e in m["entities"]] for p, m in self.manifests.items()}

    @property
    def entity_count(self) -> int:
        return sum(len(m["entities"]) for m in self.manifests.values())


def snapshot(store_dir: Path, model_id: str | None = None) -> Snapshot:
    """Read a store as it is on disk; fails if opening it needed a recovery."""
    snap = Snapshot()
    if not store_dir.exists():
        return snap
    store = Store(store_dir, model_id=model_id)
    try:
        assert store.recovered is None, f"opening needed a recovery: {store.recovered}"
        cache = store._cache
        for key in list(cache.iterkeys()):
            value = cache.get(key)
            if key == "meta":
                snap.meta = value
            elif key.startswith("v:"):
                snap.vectors[key[2:]] = np.frombuffer(value, dtype=np.float32).copy()
            elif key.startswith("m:"):
                snap.manifests[key[2:]] = value
    finally:
        store.close()
    return snap


def _comparable(manifest: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in manifest.items() if k not in ("mtime_ns",)}


def assert_subset_of(partial: Snapshot, reference: Snapshot) -> None:
    """Everything a killed run left behind is right: no wrong vector, no wrong manifest."""
    extra = set(partial.vectors) - set(reference.vectors)
    assert not extra, f"{len(extra)} stored vectors that a clean index does not have"
    for key, vector in partial.vectors.items():
        np.testing.assert_allclose(vector, reference.vectors[key], atol=VECTOR_TOLERANCE, rtol=0)
    for path, manifest in partial.manifests.items():
        assert path in reference.manifests, f"manifest for unknown file {path}"
        assert _comparable(manifest) == _comparable(reference.manifests[path]), path
        missing = [k for k in partial.entity_keys[path] if k not in partial.vectors]
        assert not missing, f"{path}: manifest names {len(missing)} vectors the store lacks"


def assert_same_index(actual: Snapshot, reference: Snapshot) -> None:
    """Same files, same entities (names, ranges, keys), same vectors."""
    assert sorted(actual.manifests) == sorted(reference.manifests)
    for path, manifest in reference.manifests.items():
        assert _comparable(actual.manifests[path]) == _comparable(manifest), path
    assert sorted(actual.vectors) == sorted(reference.vectors)
    for key, vector in reference.vectors.items():
        np.testing.assert_allclose(actual.vectors[key], vector, atol=VECTOR_TOLERANCE, rtol=0)
    assert actual.meta == reference.meta


def expected_work(before: Snapshot, reference: Snapshot) -> tuple[int, int]:
    """(entities to embed, entities found cached) for a restart from `before`.

    Files with a manifest are unchanged and skipped; in the others, an entity whose key is
    already stored must be a cache hit, never embedded again.
    """
    embed = cached = 0
    for path, keys in reference.entity_keys.items():
        if path in before.manifests:
            continue
        for key in keys:
            if key in before.vectors:
                cached += 1
            else:
                embed += 1
    return embed, cached


# -- killing a process at a chosen moment ---------------------------------------------------


@dataclass
class KillOutcome:
    killed: bool  # False: the process finished before the kill was due
    returncode: int
    waited: float  # seconds from the marker line to the kill
    stderr: list[str]


class StderrWatcher:
    """Drains a process's stderr in a thread and notes when a marker line appears."""

    def __init__(self, proc: subprocess.Popen[bytes], marker: str) -> None:
        self.lines: list[str] = []
        self.seen = threading.Event()
        self._marker = marker
        self._thread = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self._thread.start()

    def _run(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if self._marker in line:
                self.seen.set()
        self.seen.set()  # end of output: stop waiting


def kill_after_marker(
    proc: subprocess.Popen[bytes], watcher: StderrWatcher, delay: float, timeout: float = 180
) -> KillOutcome:
    """SIGKILL `delay` seconds after the marker line (unless the process ended first)."""
    if not watcher.seen.wait(timeout):
        proc.kill()
        raise AssertionError("the marker line never came:\n" + "\n".join(watcher.lines[-20:]))
    start = time.monotonic()
    try:
        proc.wait(delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        returncode = proc.wait(30)
        return KillOutcome(True, returncode, time.monotonic() - start, watcher.lines)
    return KillOutcome(False, proc.returncode, time.monotonic() - start, watcher.lines)


def start_cli(args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(REPO)
    )


def run_cli(
    args: Sequence[str], env: dict[str, str], timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=str(cwd or REPO),
        check=False,
    )


def cli_json(args: Sequence[str], env: dict[str, str], timeout: float = 300) -> Any:
    done = run_cli([*args, "--json"], env, timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)
