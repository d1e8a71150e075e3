"""`codesearch` end to end through an embedding endpoint and a shared vector cache.

Real parts: the test embedding server (tests/support/embedding_server.py: the packaged model
behind `/v1/embeddings`, with faults on cue) and Debian's redis-server, both started here on
loopback or a socket in a temp folder. Each "machine" is its own copy of the fixture
workspace and its own cache folder. Faults below the CLI (429, slow answers, garbage in
Redis, wrong dimensions) are tested in test_remote_pipeline and test_tiered_pipeline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import FIXTURES
from tests.remote.conftest import MODEL
from tests.support.remote_parts import (
    EmbeddingServer,
    RedisServer,
    redis_binary,
    start_embedding_server,
    start_redis,
)

from codesearch.embedding.remote.identity import PROBE_TEXTS

pytestmark = pytest.mark.slow

API_KEY = "sk-test-7f3a9c1e5b2d4086"
REDIS_PASSWORD = "redis-pw-91c4e7a2"
URL_PASSWORD = "url-pw-5d8e2b6f"
KEY_VAR = "TEAM_EMBED_KEY"  # named by --embed-api-key-env, as a team's CI would


def codesearch() -> str:
    script = Path(sys.executable).parent / "codesearch"
    return str(script) if script.exists() else "codesearch"


@dataclass
class Machine:
    """One developer's machine (or CI): a copy of the project and its own cache folder.
    Every output it printed is kept, to look for secrets in afterwards."""

    root: Path
    cache: Path
    flags: list[str]
    env: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [codesearch(), *args, *self.flags, "-vv"],  # -vv: the debug log is scanned too
            capture_output=True,
            text=True,
            env={**os.environ, "CODESEARCH_CACHE_DIR": str(self.cache), **self.env},
            timeout=300,
        )
        self.outputs += [result.stdout, result.stderr]
        return result

    def index(self) -> tuple[int, dict[str, Any], str]:
        result = self.run("index", str(self.root), "--json")
        return result.returncode, json.loads(result.stdout), result.stderr

    def search(self, query: str) -> tuple[list[dict[str, Any]], str]:
        result = self.run("search", query, "--path", str(self.root), "--json", "--limit", "3")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout), result.stderr


def machine(tmp_path: Path, name: str, flags: list[str], **env: str) -> Machine:
    root = tmp_path / name / "project"
    shutil.copytree(FIXTURES / "workspace", root)
    return Machine(root, tmp_path / name / "cache", flags, dict(env))


def problems(stderr: str) -> list[str]:
    """Lines a user reads as warnings or errors (the debug log's lines aside)."""
    return [
        line for line in stderr.splitlines() if line.startswith(("WARNING", "ERROR", "codesearch:"))
    ]


@pytest.fixture
def keyed_server() -> Iterator[EmbeddingServer]:
    """A server of its own (tests kill it) that requires the API key, as a team's would."""
    server = start_embedding_server(
        "--backend", "torch", "--api-key-env", KEY_VAR, env={KEY_VAR: API_KEY}
    )
    yield server
    server.stop()


@pytest.fixture
def locked_redis() -> Iterator[RedisServer]:
    """A redis-server that wants a password (given in the URL, as users write it)."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (.ci/run installs it with apt-get)")
    server = start_redis(password=REDIS_PASSWORD)
    yield server
    server.stop()


def test_a_second_machine_takes_every_vector_from_the_shared_cache(
    tmp_path: Path, server: EmbeddingServer, redis_server: RedisServer
) -> None:
    # the URL carries a user and password (some gateways want them): never shown anywhere
    url = server.base_url.replace("http://", f"http://ci:{URL_PASSWORD}@")
    flags = ["--embed-url", url, "--embed-model", MODEL, "--shared-cache", redis_server.url]
    flags += ["--shared-cache-prefix", "team-a"]
    ci = machine(tmp_path, "ci", flags)
    code, cold, stderr = ci.index()
    assert code == 0, stderr
    assert cold["embedded"] == cold["entities"] >= 15 and cold["shared"] == 0

    laptop = machine(tmp_path, "laptop", flags)
    sent = server.stats()["texts"]
    code, warm, stderr = laptop.index()
    assert code == 0, stderr
    assert warm["shared"] == warm["entities"] == cold["entities"]
    assert warm["embedded"] == warm["cached"] == warm["failed"] == 0
    assert server.stats()["texts"] - sent == len(PROBE_TEXTS)  # only the identity probe

    hits, stderr = laptop.search("retry failed uploads")
    assert hits[0]["name"] == "retry_failed_upload"
    assert hits[0]["dense_score"] > 0.3 and not problems(stderr)  # the query went remote
    status = laptop.run("status", "--path", str(laptop.root), "--json")
    shown = json.loads(status.stdout)
    assert shown["shared_cache"] == {"url": redis_server.url, "problem": None}
    assert shown["model"] == f"{MODEL} @ {server.base_url.replace('http://', 'http://***@')}"

    client = redis_server.client()
    names = client.keys("*")
    assert names and all(name.startswith(b"team-a:codesearch:v1:") for name in names)
    client.close()
    for text in [*ci.outputs, *laptop.outputs, *files_text(tmp_path)]:
        assert URL_PASSWORD not in text


def test_the_endpoint_down_mid_index_is_one_message_and_the_next_run_completes(
    tmp_path: Path, keyed_server: EmbeddingServer, locked_redis: RedisServer
) -> None:
    server = keyed_server
    flags = ["--embed-url", server.base_url, "--embed-model", MODEL, "--embed-batch-size", "4"]
    flags += ["--embed-concurrency", "1", "--shared-cache", locked_redis.url]
    flags += ["--embed-api-key-env", KEY_VAR]
    ci = machine(tmp_path, "ci", flags, **{KEY_VAR: API_KEY})
    server.faults(exit_after=3)  # the probe and two requests of 4 answered, then it dies
    code, first, stderr = ci.index()
    assert code == 1  # the index is incomplete: a script (CI) must notice
    # two requests of 4 texts came back (entities of equal text share one): those are in
    assert first["embedded"] == first["entities"] >= 8 and first["failed"] > 0
    said = problems(stderr)
    assert len(said) == 1 and "unavailable" in said[0] and "connection failed" in said[0]

    server = server.restart()
    code, second, stderr = ci.index()
    assert code == 0, stderr
    assert second["failed"] == 0 and second["entities"] == first["entities"] + first["failed"]
    assert second["embedded"] == first["failed"]  # only what failed went to the endpoint
    server.stop()

    for text in [*ci.outputs, *files_text(tmp_path), *redis_text(locked_redis)]:
        assert API_KEY not in text and REDIS_PASSWORD not in text


def test_the_endpoint_down_keeps_the_index_and_search_ranks_by_keywords_saying_so_once(
    tmp_path: Path, keyed_server: EmbeddingServer, locked_redis: RedisServer
) -> None:
    flags = ["--embed-url", keyed_server.base_url, "--embed-model", MODEL]
    flags += ["--shared-cache", locked_redis.url]
    laptop = machine(tmp_path, "laptop", flags, CODESEARCH_EMBED_API_KEY=API_KEY)
    code, summary, stderr = laptop.index()
    assert code == 0 and summary["failed"] == 0, stderr
    keyed_server.kill()
    code, again, stderr = laptop.index()  # nothing changed: nothing needs the endpoint
    assert code == 0 and (again["entities"], again["failed"]) == (summary["entities"], 0)
    said = problems(stderr)
    assert len(said) == 1 and "connection failed" in said[0]  # but it is down: said once
    hits, stderr = laptop.search("retry failed uploads")
    assert hits[0]["name"] == "retry_failed_upload" and hits[0]["dense_score"] == 0.0
    said = problems(stderr)
    assert len(said) == 1 and "query embedding unavailable" in said[0]
    assert "ranked by keywords" in said[0]
    status = laptop.run("status", "--path", str(laptop.root), "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["entities"] == summary["entities"]
    for text in [*laptop.outputs, *files_text(tmp_path), *redis_text(locked_redis)]:
        assert API_KEY not in text and REDIS_PASSWORD not in text


def files_text(folder: Path) -> list[str]:
    """Every file under the folder (stores, probe registry, snapshots), as text."""
    return [path.read_bytes().decode("latin-1") for path in folder.rglob("*") if path.is_file()]


def redis_text(server: RedisServer) -> list[str]:
    client = server.client()
    try:
        texts = []
        for name in client.keys("*"):
            value = client.get(name) if client.type(name) == b"string" else client.hgetall(name)
            texts += [name.decode("latin-1"), repr(value)]
        return texts
    finally:
        client.close()
