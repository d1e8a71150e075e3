"""The batch pipeline over the local store and a real Redis tier, with the real model.

"Machines" are separate local stores sharing one redis-server; faults are the server
stopped or frozen mid-index and garbage written into it. After each: every entity has its
vector, and the next run completes what the tier missed.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import numpy as np
import pytest
from tests.remote.conftest import fixture_entities
from tests.support.remote_parts import RedisServer

from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.entities import Entity
from codesearch.store import SCHEMA_VERSION, Store, StoreMeta
from codesearch.tiers.cache import TieredVectorCache
from codesearch.tiers.shared import SharedTierConfig, SharedVectorTier

pytestmark = pytest.mark.slow

VECTOR_KEY = re.compile(rb"^codesearch:v1:[0-9a-f]{16}:[0-9a-f]{32}$")


class Machine:
    """One developer's machine: its own store, the team's tier."""

    def __init__(self, folder: Path, model: TorchEncoder, url: str, **tier: object) -> None:
        self.store = Store(folder)
        self.store.set_meta(StoreMeta(SCHEMA_VERSION, model.model_id, model.dimensions))
        config = SharedTierConfig(url, **tier)  # type: ignore[arg-type]
        self.tier = SharedVectorTier(config)
        self.cache = TieredVectorCache(self.store, self.tier, model.model_id)
        self.embedder = BatchEmbedder(model, self.cache, batch_size=4)

    def index(self, entities: list[Entity], **options: object) -> dict[str, int]:
        result = self.embedder.process_batch(entities, **options)  # type: ignore[arg-type]
        assert result.errors == {}
        assert set(result.vectors) == {e.id for e in entities}
        self.vectors = result.vectors
        return {
            "embedded": result.summary.newly_embedded,
            "found": result.summary.cached,
            **vars(self.cache.take_counts()),
        }

    def close(self) -> None:
        self.tier.close()
        self.store.close()


@pytest.fixture(scope="module")
def entities() -> list[Entity]:
    found = fixture_entities()
    assert len(found) >= 15
    return found


def unique_keys(machine: Machine, entities: list[Entity]) -> set[str]:
    prepared = machine.embedder.preparator.prepare_many(entities)
    return {p.key for p in prepared if not isinstance(p, Exception)}


def test_a_second_machine_with_a_warm_tier_embeds_nothing(
    tmp_path: Path, model: TorchEncoder, redis_server: RedisServer, entities: list[Entity]
) -> None:
    first = Machine(tmp_path / "ci", model, redis_server.url)
    keys = unique_keys(first, entities)
    cold = first.index(entities)
    assert cold["embedded"] == len(entities) and cold["written_back"] == len(keys)
    second = Machine(tmp_path / "laptop", model, redis_server.url)
    warm = second.index(entities)
    assert warm["embedded"] == 0
    assert (warm["shared"], warm["local"], warm["rejected"]) == (len(keys), 0, 0)
    for entity in entities:
        assert np.array_equal(second.vectors[entity.id], first.vectors[entity.id])
    # the shared vectors were copied into the laptop's store: the next run needs no tier
    again = second.index(entities)
    assert (again["embedded"], again["shared"], again["local"]) == (0, 0, len(keys))
    first.close()
    second.close()


def test_only_content_hashes_and_vectors_reach_the_tier(
    tmp_path: Path, model: TorchEncoder, redis_server: RedisServer, entities: list[Entity]
) -> None:
    machine = Machine(tmp_path / "ci", model, redis_server.url)
    machine.index(entities)
    machine.close()
    client = redis_server.client()
    names = client.keys("*")
    assert names
    words = {e.name.encode() for e in entities} | {e.path.encode() for e in entities}
    words |= {line.strip().encode() for e in entities for line in e.source.splitlines()[:2]}
    words = {w for w in words if len(w) >= 4}
    for name in names:
        assert VECTOR_KEY.match(name), name
        value = client.get(name)
        assert isinstance(value, bytes) and len(value) == model.dimensions * 4
        vector = np.frombuffer(value, dtype="<f4")
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3
        assert not any(word in value or word in name for word in words)
    client.close()


def test_redis_stopped_mid_index_loses_nothing_and_catches_up_when_back(
    tmp_path: Path,
    model: TorchEncoder,
    redis_server: RedisServer,
    entities: list[Entity],
    caplog: pytest.LogCaptureFixture,
) -> None:
    machine = Machine(tmp_path / "a", model, redis_server.url, first_pause_s=0.2)
    server = redis_server

    def stop_after_first_batch(done: int, total: int) -> None:
        if server.process.poll() is None:
            server.stop()

    with caplog.at_level(logging.WARNING):
        counts = machine.index(entities, on_progress=stop_after_first_batch)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "shared vector cache" in warnings[0].getMessage()
    assert counts["embedded"] == len(entities)  # every entity has its vector, embedded here
    assert counts["written_back"] == 4  # the first batch, before the stop
    assert counts["unsynced"] == len(unique_keys(machine, entities)) - 4
    # Redis comes back (empty: no persistence); what it missed is written on the next call
    server = server.restart()
    deadline = time.monotonic() + 30
    while not machine.tier.available() and time.monotonic() < deadline:
        time.sleep(0.05)  # the tier waits out its pause (it doubled while Redis was away)
    machine.cache.get_vectors(["0" * 32], model.dimensions)
    assert machine.cache.counts.unsynced == 0
    client = server.client()
    assert client.dbsize() == counts["unsynced"]
    client.close()
    machine.close()
    server.stop()


def test_garbage_in_the_tier_is_re_embedded_and_overwritten(
    tmp_path: Path, model: TorchEncoder, redis_server: RedisServer, entities: list[Entity]
) -> None:
    first = Machine(tmp_path / "ci", model, redis_server.url)
    first.index(entities)
    client = redis_server.client()
    names = sorted(client.keys("*"))
    spoiled = {
        names[0]: b"not a vector at all",
        names[1]: np.full(model.dimensions, np.nan, dtype="<f4").tobytes(),
        names[2]: np.random.bytes(model.dimensions * 4),
    }
    for name, value in spoiled.items():
        client.set(name, value)
    second = Machine(tmp_path / "laptop", model, redis_server.url)
    counts = second.index(entities)
    assert counts["rejected"] == 3 and counts["written_back"] == 3
    assert counts["shared"] == len(names) - 3
    assert 3 <= counts["embedded"] <= len(entities)  # a key may be shared by two entities
    for name in spoiled:
        value = client.get(name)
        assert value not in spoiled.values()
        assert abs(float(np.linalg.norm(np.frombuffer(value, dtype="<f4"))) - 1.0) < 1e-3
    for entity in entities:  # and the re-embedded vectors are the model's
        assert float(second.vectors[entity.id] @ first.vectors[entity.id]) > 0.9999
    client.close()
    first.close()
    second.close()


def test_a_frozen_tier_mid_index_is_skipped_after_one_timeout(
    tmp_path: Path,
    model: TorchEncoder,
    redis_server: RedisServer,
    entities: list[Entity],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = Machine(tmp_path / "ci", model, redis_server.url)
    first.index(entities)
    second = Machine(tmp_path / "laptop", model, redis_server.url, call_timeout_s=0.3)
    redis_server.pause()
    try:
        with caplog.at_level(logging.WARNING):
            counts = second.index(entities)
    finally:
        redis_server.resume()
    assert counts["embedded"] == len(entities) and counts["shared"] == 0
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "Timeout" in warnings[0].getMessage()
    first.close()
    second.close()
