"""The remote encoder against a real OpenAI-compatible server running the real model, with
faults injected by the server (tests/support/embedding_server.py says which server and why)."""

from __future__ import annotations

import email.utils
import logging
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from tests.remote.conftest import FAST_RETRY, MODEL, connect
from tests.support.remote_parts import EmbeddingServer, InfinityServer, start_embedding_server

from codesearch.embedding.remote.encoder import RemoteEncoder
from codesearch.embedding.remote.endpoint import EmbeddingEndpoint, EndpointConfig, RetryPolicy
from codesearch.embedding.remote.errors import RemoteRequestError
from codesearch.embedding.remote.identity import ProbeFile
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.embedding.types import EncoderUnavailable, QueryEmbeddingUnavailable

pytestmark = pytest.mark.slow

TEXTS = [f"def handler_{i}(request):\n    return respond(request, code={i})" for i in range(40)]


def test_remote_vectors_are_the_local_models_in_order(
    server: EmbeddingServer, probe_file: ProbeFile, model: TorchEncoder
) -> None:
    """Ten requests of four, four in flight: every vector lands in its text's place."""
    encoder = connect(server.base_url, probe_file, request_batch_size=4, max_concurrency=4)
    try:
        remote = encoder.encode(TEXTS)
    finally:
        encoder.close()
    local = model.encode(TEXTS)
    assert remote.shape == (40, 384) and remote.dtype == np.float32
    cosines = np.sum(remote * local, axis=1)
    assert float(cosines.min()) > 0.9999
    assert server.stats()["answered"] >= 10


def test_a_query_is_one_text_one_vector(server: EmbeddingServer, probe_file: ProbeFile) -> None:
    encoder = connect(server.base_url, probe_file)
    try:
        vector = encoder.embed_query("retry failed uploads")
        texts = encoder.encode(["retry failed uploads"])
    finally:
        encoder.close()
    assert vector.shape == (384,)
    assert float(vector @ texts[0]) > 0.9999


def test_rate_limits_are_waited_out_as_long_as_retry_after_asks(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file)
    pauses: list[float] = []
    endpoint = EmbeddingEndpoint(
        EndpointConfig(server.base_url, MODEL, retry=FAST_RETRY), sleep=pauses.append
    )
    encoder.endpoint = endpoint
    try:
        server.faults(rate_limited=2, retry_after="2")
        assert encoder.encode(TEXTS[:3]).shape == (3, 384)
        assert len(pauses) == 2 and all(p >= 2.0 for p in pauses)
        date = email.utils.formatdate(time.time() + 3, usegmt=True)
        server.faults(rate_limited=1, retry_after=date)
        pauses.clear()
        assert encoder.encode(TEXTS[:3]).shape == (3, 384)
        assert len(pauses) == 1 and 1.0 <= pauses[0] <= 3.5
        assert endpoint.breaker.state == "closed"  # busy is not down
    finally:
        encoder.close()


def test_a_retry_after_longer_than_the_budget_fails_now_and_says_so(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file)
    try:
        server.faults(rate_limited=5, retry_after="600")
        with pytest.raises(EncoderUnavailable, match=r"rate limited.*asks to wait 600 s"):
            encoder.encode(TEXTS[:2])
    finally:
        encoder.close()


def test_server_errors_and_dropped_connections_are_retried(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file)
    try:
        server.faults(server_errors=2)
        assert encoder.encode(TEXTS[:5]).shape == (5, 384)
        server.faults(drops=2)
        assert encoder.encode(TEXTS[:5]).shape == (5, 384)
    finally:
        encoder.close()


def test_a_server_that_keeps_failing_gives_up_within_the_budget(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file)
    try:
        server.faults(server_errors=100, error_status=502)
        with pytest.raises(EncoderUnavailable, match="HTTP 502"):
            encoder.encode(TEXTS[:5])
        assert encoder.problem is not None and "HTTP 502" in encoder.problem
    finally:
        encoder.close()


def test_responses_slower_than_the_timeout_fail_as_timeouts(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file, request_timeout_s=0.3, query_timeout_s=0.3)
    try:
        server.faults(delay_s=1.0)
        with pytest.raises(EncoderUnavailable, match="timed out"):
            encoder.encode(TEXTS[:2])
    finally:
        encoder.close()


def test_the_retry_budget_bounds_a_request_even_below_its_timeout(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file)
    budget = RetryPolicy(max_attempts=3, base_delay_s=0.01, max_delay_s=0.05, total_s=0.5)
    encoder.endpoint = EmbeddingEndpoint(
        EndpointConfig(server.base_url, MODEL, request_timeout_s=30, retry=budget)
    )
    try:
        server.faults(delay_s=2.0)
        with pytest.raises(EncoderUnavailable, match="timed out"):
            encoder.encode(TEXTS[:2])
    finally:
        encoder.close()


def test_a_slow_query_gives_up_quickly_with_a_reason_search_can_show(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file, query_timeout_s=0.3)
    try:
        server.faults(delay_s=1.5)
        with pytest.raises(QueryEmbeddingUnavailable) as caught:
            encoder.embed_query("retry failed uploads")
        assert str(caught.value).startswith("query embedding unavailable: timed out")
        # a slow query does not declare the endpoint down: indexing may go on
        assert encoder.endpoint.breaker.state == "closed"
    finally:
        encoder.close()


def test_vectors_of_another_size_are_refused_and_stop_the_endpoint(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file)
    try:
        server.faults(wrong_dimensions=1)
        with pytest.raises(EncoderUnavailable, match="383-dimensional vectors, expected 384"):
            encoder.encode(TEXTS[:2])
        assert encoder.endpoint.breaker.state == "open"
        with pytest.raises(QueryEmbeddingUnavailable, match="model behind it changed"):
            encoder.embed_query("x")
    finally:
        encoder.close()


def test_a_rejected_request_blames_the_texts_not_the_endpoint(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    encoder = connect(server.base_url, probe_file)
    try:
        server.faults(reject_containing="POISON")
        with pytest.raises(RemoteRequestError, match="HTTP 400"):
            encoder.encode(["fine", "POISON here"])
        assert encoder.endpoint.breaker.state == "closed"
    finally:
        encoder.close()


def test_an_endpoint_that_is_down_gives_one_warning_and_fails_fast(
    probe_file: ProbeFile, caplog: pytest.LogCaptureFixture, server: EmbeddingServer
) -> None:
    encoder = connect(server.base_url, probe_file)
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    encoder.endpoint = EmbeddingEndpoint(EndpointConfig(dead, MODEL, retry=FAST_RETRY))
    try:
        with caplog.at_level(logging.WARNING):
            failures = []
            for start in range(0, 40, 4):  # ten batches
                with pytest.raises(EncoderUnavailable) as caught:
                    encoder.encode(TEXTS[start : start + 4])
                failures.append(str(caught.value))
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1
        assert "is unavailable (connection failed" in warnings[0].getMessage()
        assert all("connection failed" in f for f in failures)
        with pytest.raises(QueryEmbeddingUnavailable, match="is unavailable"):
            encoder.embed_query("anything")
    finally:
        encoder.close()


def test_an_endpoint_that_comes_back_is_used_again(tmp_path: Path) -> None:
    """Killed, then restarted on the same port: after the cool-down a trial succeeds."""
    server = start_embedding_server("--backend", "torch")
    config = EndpointConfig(server.base_url, MODEL, retry=FAST_RETRY)
    encoder = RemoteEncoder.connect(config, registries=[ProbeFile(tmp_path / "p.json")])
    encoder.endpoint.breaker.base_cooldown_s = 0.2
    encoder.endpoint.breaker._cooldown_s = 0.2
    try:
        server.kill()
        with pytest.raises(EncoderUnavailable):
            encoder.encode(TEXTS[:4])
        assert encoder.problem is not None
        server = server.restart()
        time.sleep(0.3)
        assert encoder.encode(TEXTS[:4]).shape == (4, 384)
        assert encoder.problem is None
    finally:
        encoder.close()
        server.stop()


def test_the_api_key_is_sent_and_never_written_anywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-4f9a1c7e2b"
    monkeypatch.setenv("TEAM_EMBED_KEY", secret)
    server = start_embedding_server(
        "--backend", "torch", "--api-key-env", "TEAM_EMBED_KEY", env={"TEAM_EMBED_KEY": secret}
    )
    probes = ProbeFile(tmp_path / "p.json")
    try:
        with caplog.at_level(logging.DEBUG):
            config = EndpointConfig(
                server.base_url, MODEL, api_key_env="TEAM_EMBED_KEY", retry=FAST_RETRY
            )
            encoder = RemoteEncoder.connect(config, registries=[probes])
            assert encoder.encode(TEXTS[:2]).shape == (2, 384)
            assert secret not in repr(encoder.endpoint) and secret not in repr(config)
            encoder.close()
            # a wrong key: the server echoes what it got in its error body
            monkeypatch.setenv("TEAM_EMBED_KEY", secret + "-old")
            with pytest.raises(EncoderUnavailable) as caught:
                RemoteEncoder.connect(config, registries=[probes])
        message = str(caught.value)
        assert "refused the key in $TEAM_EMBED_KEY" in message and "HTTP 401" in message
        assert secret not in message
        assert secret not in caplog.text
        assert secret not in probes.path.read_text()
        # and with no key at all, the message says which variable to set
        monkeypatch.delenv("TEAM_EMBED_KEY")
        with pytest.raises(EncoderUnavailable, match=r"no key \(set \$TEAM_EMBED_KEY\)"):
            RemoteEncoder.connect(config, registries=[probes])
    finally:
        server.stop()


def test_a_wrong_model_name_says_what_to_check(
    server: EmbeddingServer, probe_file: ProbeFile
) -> None:
    config = EndpointConfig(server.base_url, "no-such-model", retry=FAST_RETRY)
    with pytest.raises(EncoderUnavailable, match="'no-such-model' must be served there"):
        RemoteEncoder.connect(config, registries=[probe_file])


def test_infinity_emb_speaks_the_same_api(
    infinity: InfinityServer, probe_file: ProbeFile, model: TorchEncoder
) -> None:
    """An existing server (infinity-emb) with the packaged model: the local model's vectors."""
    encoder = connect(infinity.base_url, probe_file, request_batch_size=8)
    try:
        vectors = encoder.encode(TEXTS[:20])
        query = encoder.embed_query("handler that responds to a request")
    finally:
        encoder.close()
    assert vectors.shape == (20, 384)
    assert float(np.min(np.sum(vectors * model.encode(TEXTS[:20]), axis=1))) > 0.999
    assert float(query @ model.encode(["handler that responds to a request"])[0]) > 0.999
