"""The batch pipeline and the workspace through the remote encoder, against the real model
behind the test server (tests/support/embedding_server.py), with the server's faults.

After each fault: entities that failed are recorded with one reason, what succeeded is
stored, and the next run embeds only what is missing and completes the index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.remote.conftest import FAST_RETRY, MODEL, connect, fixture_entities
from tests.support.remote_parts import EmbeddingServer, start_embedding_server

from codesearch.config import Settings
from codesearch.embedding.batch import BatchEmbedder, BatchResult
from codesearch.embedding.remote.encoder import RemoteEncoder
from codesearch.embedding.remote.endpoint import EndpointConfig
from codesearch.embedding.remote.identity import ProbeFile
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.entities import Entity
from codesearch.store import SCHEMA_VERSION, Store, StoreMeta
from codesearch.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def entities() -> list[Entity]:
    return fixture_entities()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(tmp_path / "store")
    yield store
    store.close()


def stamp(store: Store, encoder: RemoteEncoder) -> None:
    store.set_meta(StoreMeta(SCHEMA_VERSION, encoder.model_id, encoder.dimensions))


def complete(result: BatchResult, entities: list[Entity]) -> bool:
    return result.errors == {} and set(result.vectors) == {e.id for e in entities}


def test_remote_vectors_for_entities_are_the_local_models(
    server: EmbeddingServer,
    probe_file: ProbeFile,
    store: Store,
    model: TorchEncoder,
    entities: list[Entity],
    tmp_path: Path,
) -> None:
    """Same tokenizer, same 128-token window, same text: the same vectors as local fp32."""
    encoder = connect(server.base_url, probe_file)
    stamp(store, encoder)
    remote = BatchEmbedder(encoder, store, batch_size=encoder.preferred_batch_size)
    local = BatchEmbedder(model, Store(tmp_path / "local"))
    by_remote = remote.process_batch(entities)
    by_local = local.process_batch(entities)
    encoder.close()
    assert complete(by_remote, entities)
    for entity in entities:
        assert float(by_remote.vectors[entity.id] @ by_local.vectors[entity.id]) > 0.9999
    texts_remote = [p.text for p in remote.preparator.prepare_many(entities)]  # type: ignore[union-attr]
    texts_local = [p.text for p in local.preparator.prepare_many(entities)]  # type: ignore[union-attr]
    assert texts_remote == texts_local


def test_the_endpoint_killed_mid_index_loses_nothing(
    tmp_path: Path, store: Store, entities: list[Entity], caplog: pytest.LogCaptureFixture
) -> None:
    server = start_embedding_server("--backend", "torch")
    config = EndpointConfig(
        server.base_url, MODEL, request_batch_size=4, max_concurrency=1, retry=FAST_RETRY
    )
    encoder = RemoteEncoder.connect(config, registries=[ProbeFile(tmp_path / "p.json")])
    encoder.endpoint.breaker.base_cooldown_s = encoder.endpoint.breaker._cooldown_s = 0.2
    stamp(store, encoder)
    embedder = BatchEmbedder(encoder, store, batch_size=8)
    try:
        server.faults(exit_after=2)  # two requests answered, then the process dies
        with caplog.at_level(logging.WARNING):
            first = embedder.process_batch(entities)
        assert first.summary.newly_embedded == 8
        assert len(first.errors) == len(entities) - 8
        reasons = set(first.errors.values())
        assert len(reasons) <= 2 and all("connection failed" in r for r in reasons)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1  # one message, not one per batch
        # the server is back: the next run embeds exactly what is missing
        server = server.restart()
        time.sleep(0.3)
        second = embedder.process_batch(entities)
        assert complete(second, entities)
        assert second.summary.cached == 8
        assert second.summary.newly_embedded == len(entities) - 8
    finally:
        encoder.close()
        server.stop()


def test_rate_limits_and_server_errors_mid_index_still_complete_it(
    server: EmbeddingServer, probe_file: ProbeFile, store: Store, entities: list[Entity]
) -> None:
    encoder = connect(server.base_url, probe_file, request_batch_size=4)
    stamp(store, encoder)
    # fewer failures than the breaker's threshold (3) in any order: with four requests in
    # flight, the answers to the 429s may arrive before the drop's, so a drop and two 5xx
    # could count as three in a row and open it (flaky before)
    server.faults(rate_limited=2, retry_after="0", server_errors=1, drops=1)
    result = BatchEmbedder(encoder, store, batch_size=16).process_batch(entities)
    encoder.close()
    assert complete(result, entities)


def test_vectors_of_the_wrong_size_are_never_stored(
    server: EmbeddingServer, probe_file: ProbeFile, store: Store, entities: list[Entity]
) -> None:
    encoder = connect(server.base_url, probe_file, request_batch_size=4, max_concurrency=1)
    stamp(store, encoder)
    server.faults(wrong_dimensions=1)
    first = BatchEmbedder(encoder, store, batch_size=8).process_batch(entities)
    encoder.close()
    assert first.errors and all("383-dimensional" in r for r in first.errors.values())
    assert all(v.shape == (384,) for v in first.vectors.values())
    # the next run (a new start, which identifies the model again) completes the index
    again = connect(server.base_url, probe_file)
    second = BatchEmbedder(again, store, batch_size=8).process_batch(entities)
    again.close()
    assert complete(second, entities)
    assert second.summary.newly_embedded == len(first.errors)


def test_responses_slower_than_the_timeout_fail_then_the_next_run_completes(
    server: EmbeddingServer, probe_file: ProbeFile, store: Store, entities: list[Entity]
) -> None:
    encoder = connect(server.base_url, probe_file, request_timeout_s=0.5)
    stamp(store, encoder)
    server.faults(delay_s=1.0)
    first = BatchEmbedder(encoder, store, batch_size=8).process_batch(entities)
    encoder.close()
    assert len(first.errors) == len(entities)
    assert all("timed out" in reason for reason in first.errors.values())
    server.reset()
    again = connect(server.base_url, probe_file)
    second = BatchEmbedder(again, store, batch_size=8).process_batch(entities)
    again.close()
    assert complete(second, entities)


def test_a_text_the_endpoint_rejects_fails_alone(
    server: EmbeddingServer, probe_file: ProbeFile, store: Store, entities: list[Entity]
) -> None:
    encoder = connect(server.base_url, probe_file)
    stamp(store, encoder)
    server.faults(reject_containing="ChunkedUploader")
    result = BatchEmbedder(encoder, store, batch_size=64).process_batch(entities)
    encoder.close()
    failed = {e.name for e in entities if e.id in result.errors}
    assert failed and all("ChunkedUploader" in name for name in failed)
    assert len(result.vectors) == len(entities) - len(failed)
    assert all("HTTP 400" in reason for reason in result.errors.values())


def test_a_workspace_indexes_and_searches_through_the_remote_encoder(
    server: EmbeddingServer, probe_file: ProbeFile, workspace_copy: Path
) -> None:
    encoder = connect(server.base_url, probe_file)
    try:
        with Workspace(workspace_copy, Settings(), encoder=encoder).open() as ws:
            summary = ws.index()
            assert summary.failed == 0 and summary.embedded == summary.entities > 0
            hits = ws.search("retry failed uploads", limit=3)
            assert hits[0].name == "retry_failed_upload"
            sent = server.stats()["texts"]
            assert ws.index().embedded == 0
            assert server.stats()["texts"] == sent  # unchanged: nothing went to the endpoint
    finally:
        encoder.close()
