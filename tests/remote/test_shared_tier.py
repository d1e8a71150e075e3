"""The shared vector tier against a real redis-server (unix socket, TCP, and a cluster)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from tests.support.remote_parts import (
    RedisServer,
    free_port,
    redis_binary,
    start_redis,
    start_redis_cluster,
)

from codesearch.tiers.shared import SharedTierConfig, SharedVectorTier

pytestmark = pytest.mark.slow

MODEL_ID = "all-MiniLM-L6-v2:abc+onnx-int8"
KEY_PATTERN = re.compile(r"^(team-a:)?codesearch:v1:[0-9a-f]{16}:[0-9a-f]{32}$")


def unit_vectors(count: int, dims: int = 384, seed: int = 0) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(count):
        vector = rng.standard_normal(dims).astype(np.float32)
        out[f"{i:032x}"] = vector / np.linalg.norm(vector)
    return out


def tier_for(url: str, **options: object) -> SharedVectorTier:
    return SharedVectorTier(SharedTierConfig(url, **options))  # type: ignore[arg-type]


@pytest.fixture
def tcp_redis() -> Iterator[RedisServer]:
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (.ci/run installs it with apt-get)")
    server = start_redis(port=free_port())
    yield server
    server.stop()


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_vectors_round_trip_in_batches(transport: str, request: pytest.FixtureRequest) -> None:
    server: RedisServer = request.getfixturevalue(
        "redis_server" if transport == "unix" else "tcp_redis"
    )
    assert server.url.startswith("unix://" if transport == "unix" else "redis://")
    tier = tier_for(server.url, keys_per_call=7)  # several MGET/MSET calls
    vectors = unit_vectors(30)
    assert tier.put_vectors(MODEL_ID, vectors)
    lookup = tier.get_vectors(MODEL_ID, [*vectors, "f" * 32], 384)
    assert lookup.found.keys() == vectors.keys() and lookup.rejected == []
    for key, vector in vectors.items():
        assert np.array_equal(lookup.found[key], vector)
    tier.close()


def test_models_and_teams_do_not_see_each_others_vectors(redis_server: RedisServer) -> None:
    vectors = unit_vectors(3)
    tier_for(redis_server.url).put_vectors(MODEL_ID, vectors)
    team = tier_for(redis_server.url, prefix="team-a")
    other_model = tier_for(redis_server.url).get_vectors("remote:384:x", list(vectors), 384)
    assert other_model.found == {}
    assert team.get_vectors(MODEL_ID, list(vectors), 384).found == {}
    team.put_vectors(MODEL_ID, vectors)
    client = redis_server.client()
    keys = sorted(k.decode() for k in client.keys("*"))
    client.close()
    assert len(keys) == 6 and all(KEY_PATTERN.match(k) for k in keys)
    assert sum(k.startswith("team-a:") for k in keys) == 3


def test_garbage_values_are_ignored_and_reported(redis_server: RedisServer) -> None:
    tier = tier_for(redis_server.url)
    vectors = unit_vectors(6)
    keys = list(vectors)
    tier.put_vectors(MODEL_ID, vectors)
    client = redis_server.client()
    client.set(tier.key(MODEL_ID, keys[0]), b"\xde\xad\xbe\xef" * 10)  # wrong length
    client.set(tier.key(MODEL_ID, keys[1]), np.full(384, np.nan, dtype="<f4").tobytes())
    client.set(tier.key(MODEL_ID, keys[2]), np.full(384, np.inf, dtype="<f4").tobytes())
    client.set(tier.key(MODEL_ID, keys[3]), (vectors[keys[3]] * 5).astype("<f4").tobytes())
    client.set(tier.key(MODEL_ID, keys[4]), np.random.bytes(384 * 4))
    client.close()
    lookup = tier.get_vectors(MODEL_ID, keys, 384)
    assert list(lookup.found) == [keys[5]]
    assert sorted(lookup.rejected) == sorted(keys[:5])


def test_a_tier_that_is_down_costs_one_warning_and_is_tried_again_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (.ci/run installs it with apt-get)")
    folder = Path(str(tmp_path))
    clock = [0.0]
    url = f"unix://{folder}/absent.sock"
    tier = SharedVectorTier(SharedTierConfig(url, first_pause_s=30), clock=lambda: clock[0])
    vectors = unit_vectors(4)
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            assert tier.get_vectors(MODEL_ID, list(vectors), 384).found == {}
            assert tier.put_vectors(MODEL_ID, vectors) is False
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "unavailable" in warnings[0].getMessage()
    assert not tier.available() and tier.problem is not None
    # it comes up; the tier is used again once the pause is over
    short = Path("/tmp") / f"csr-up-{free_port()}"
    short.mkdir()
    server = start_redis(short)
    try:
        tier = SharedVectorTier(
            SharedTierConfig(server.url, first_pause_s=30), clock=lambda: clock[0]
        )
        server.stop()
        assert tier.put_vectors(MODEL_ID, vectors) is False
        server = server.restart()
        clock[0] += 10
        assert tier.put_vectors(MODEL_ID, vectors) is False  # still pausing: no call made
        clock[0] += 25
        with caplog.at_level(logging.INFO):
            assert tier.put_vectors(MODEL_ID, vectors) is True
        assert "reachable again" in caplog.text and tier.problem is None
    finally:
        server.stop()


def test_a_frozen_server_times_out_instead_of_hanging(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    tier = tier_for(redis_server.url, call_timeout_s=0.3)
    vectors = unit_vectors(2)
    assert tier.put_vectors(MODEL_ID, vectors)
    redis_server.pause()
    try:
        with caplog.at_level(logging.WARNING):
            assert tier.get_vectors(MODEL_ID, list(vectors), 384).found == {}
        assert "Timeout" in caplog.text
    finally:
        redis_server.resume()


def test_credentials_in_the_url_never_reach_a_message(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    tier = tier_for(f"redis://alice:hunter2-secret@127.0.0.1:{port}/0")
    with caplog.at_level(logging.DEBUG):
        tier.get_vectors(MODEL_ID, ["0" * 32], 384)
    assert tier.problem is not None
    assert "hunter2-secret" not in caplog.text and "hunter2-secret" not in tier.problem
    assert "***@127.0.0.1" in tier.problem


def test_a_cluster_is_found_and_lookups_span_its_nodes(tmp_path: Path) -> None:
    if redis_binary() is None:
        pytest.skip("redis-server is not installed (.ci/run installs it with apt-get)")
    cluster = start_redis_cluster(Path("/tmp") / f"csr-cluster-{free_port()}")
    try:
        tier = tier_for(cluster.url, keys_per_call=50)  # no cluster= flag: asked of the node
        vectors = unit_vectors(200)
        assert tier.put_vectors(MODEL_ID, vectors)
        lookup = tier.get_vectors(MODEL_ID, list(vectors), 384)
        assert lookup.found.keys() == vectors.keys()
        per_node = [node.client().dbsize() for node in cluster.nodes]
        assert all(count > 20 for count in per_node) and sum(per_node) == 200
        flagged = tier_for(cluster.url + "?cluster=yes")
        assert len(flagged.get_vectors(MODEL_ID, list(vectors)[:10], 384).found) == 10
        # the whole cluster goes away: lookups find nothing, nothing raises
        cluster.stop()
        assert tier.get_vectors(MODEL_ID, list(vectors), 384).found == {}
        assert tier.put_vectors(MODEL_ID, vectors) is False
        assert tier.problem is not None
        fresh = tier_for(cluster.url)  # a client that never saw the cluster up
        assert fresh.get_vectors(MODEL_ID, list(vectors), 384).found == {}
        tier.close()
        flagged.close()
    finally:
        cluster.stop()
