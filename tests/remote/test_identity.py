"""Model identity of a remote model, from real servers: the packaged model served by fp32
torch, by the int8 ONNX export and by infinity-emb is one model; a rotated copy (standing
for another model of the same size) is another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.remote.conftest import MODEL, connect
from tests.support.remote_parts import EmbeddingServer, InfinityServer, RedisServer

from codesearch.embedding.remote.encoder import RemoteEncoder
from codesearch.embedding.remote.endpoint import EmbeddingEndpoint, EndpointConfig
from codesearch.embedding.remote.identity import PROBE_TEXTS, ProbeFile, probe_cosines
from codesearch.tiers.shared import SharedTierConfig, SharedVectorTier

pytestmark = pytest.mark.slow


def probe_of(url: str) -> np.ndarray:  # type: ignore[type-arg]
    endpoint = EmbeddingEndpoint(EndpointConfig(url, MODEL))
    try:
        return endpoint.embed(list(PROBE_TEXTS))
    finally:
        endpoint.close()


def model_id(url: str, registry: ProbeFile) -> str:
    encoder = connect(url, registry)
    encoder.close()
    return encoder.model_id


def test_one_model_on_two_backends_is_one_identity_another_model_is_not(
    server: EmbeddingServer,
    int8_server: EmbeddingServer,
    rotated_server: EmbeddingServer,
    probe_file: ProbeFile,
) -> None:
    fp32 = model_id(server.base_url, probe_file)
    int8 = model_id(int8_server.base_url, probe_file)
    rotated = model_id(rotated_server.base_url, probe_file)
    assert fp32 == int8
    assert rotated != fp32
    assert fp32.startswith("remote:384:")
    # the margins the threshold (0.97) sits between
    same = probe_cosines(probe_of(server.base_url), probe_of(int8_server.base_url))
    other = probe_cosines(probe_of(server.base_url), probe_of(rotated_server.base_url))
    assert float(same.min()) > 0.98 and float(np.abs(other).max()) < 0.5


def test_infinity_emb_and_the_int8_export_are_the_same_model(
    infinity: InfinityServer, int8_server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    assert model_id(infinity.base_url, probe_file) == model_id(int8_server.base_url, probe_file)


def test_a_team_agrees_on_one_fingerprint_through_the_shared_tier(
    tmp_path: Path,
    server: EmbeddingServer,
    int8_server: EmbeddingServer,
    redis_server: RedisServer,
) -> None:
    """Two machines, each with its own registry file, served by different backends."""
    ids = []
    for name, url in (("ci", server.base_url), ("laptop", int8_server.base_url)):
        tier = SharedVectorTier(SharedTierConfig(redis_server.url))
        local = ProbeFile(tmp_path / name / "remote-models.json")
        config = EndpointConfig(url, MODEL)
        encoder = RemoteEncoder.connect(config, registries=[tier.probe_registry(), local])
        encoder.close()
        tier.close()
        ids.append(encoder.model_id)
        assert list(local.records()) == [encoder.identity.fingerprint]  # adopted locally
    assert ids[0] == ids[1]
    client = redis_server.client()
    keys = client.keys("*")
    assert keys == [b"codesearch:v1:probes:384"]
    fields = client.hgetall(keys[0])
    assert list(fields) == [ids[0].rsplit(":", 1)[1].encode()]
    assert all(len(value) == len(PROBE_TEXTS) * 384 * 4 for value in fields.values())
    client.close()


def test_with_the_shared_tier_down_the_local_registry_decides(
    tmp_path: Path, server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    tier = SharedVectorTier(SharedTierConfig(f"unix://{tmp_path}/nothing.sock"))
    config = EndpointConfig(server.base_url, MODEL)
    encoder = RemoteEncoder.connect(config, registries=[tier.probe_registry(), probe_file])
    encoder.close()
    assert list(probe_file.records()) == [encoder.identity.fingerprint]
    assert model_id(server.base_url, probe_file) == encoder.model_id
