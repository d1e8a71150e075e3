"""The pure parts of the remote encoder and the shared tier (no server, no network)."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from tests.support.fakes import FakeEncoder

from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.remote.breaker import CircuitBreaker
from codesearch.embedding.remote.endpoint import (
    EndpointConfig,
    RetryPolicy,
    parse_retry_after,
    redact_url,
)
from codesearch.embedding.remote.identity import (
    PROBE_TEXTS,
    ProbeFile,
    best_match,
    identify,
    probe_fingerprint,
)
from codesearch.embedding.remote.tokens import ApproximateTokenizer, is_packaged_model
from codesearch.embedding.text import PreparedText, TextPreparator
from codesearch.embedding.types import EncoderUnavailable, Vectors
from codesearch.entities import Entity
from codesearch.tiers.shared import SharedTierConfig, decode_vector, encode_vector


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def unit_rows(rows: int, dims: int, seed: int) -> np.ndarray:  # type: ignore[type-arg]
    matrix = np.random.default_rng(seed).standard_normal((rows, dims)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# -- Retry-After ----------------------------------------------------------------------------
def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-4") == 0.0
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28.0 <= (parse_retry_after(date, now) or 0.0) <= 31.0
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert parse_retry_after(past, now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_pauses_grow_and_stay_under_the_cap() -> None:
    policy = RetryPolicy(max_attempts=3, base_delay_s=1.0, max_delay_s=4.0)
    rng = random.Random(1)
    pauses = [policy.backoff(n, rng) for n in (1, 2, 3, 10)]
    assert all(0.0 <= p <= cap for p, cap in zip(pauses, (1.0, 2.0, 4.0, 4.0), strict=True))


# -- circuit breaker -----------------------------------------------------------------------
def test_breaker_opens_once_after_repeated_failures_and_logs_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    breaker = CircuitBreaker("http://gpu:8080/v1", failure_threshold=3, clock=clock)
    with caplog.at_level(logging.WARNING):
        breaker.failed("connection refused")
        breaker.failed("connection refused")
        breaker.check()  # still closed: two failures may be a blip
        for _ in range(50):  # many batches fail against the open breaker
            breaker.failed("connection refused")
            with pytest.raises(EncoderUnavailable, match="connection refused"):
                breaker.check()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "http://gpu:8080/v1 is unavailable (connection refused)" in warnings[0].getMessage()
    assert breaker.problem is not None and "connection refused" in breaker.problem


def test_breaker_lets_one_trial_through_after_the_cooldown_and_closes_on_success(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    breaker = CircuitBreaker("e", failure_threshold=1, cooldown_s=10, clock=clock)
    breaker.failed("down")
    with pytest.raises(EncoderUnavailable):
        breaker.check()
    clock.now += 10
    breaker.check()  # the trial
    with pytest.raises(EncoderUnavailable):
        breaker.check()  # everyone else waits for the trial
    with caplog.at_level(logging.INFO):
        breaker.succeeded()
    assert breaker.state == "closed" and breaker.problem is None
    assert any("answers again" in r.getMessage() for r in caplog.records)
    breaker.check()


def test_breaker_waits_longer_after_a_failed_trial() -> None:
    clock = Clock()
    breaker = CircuitBreaker("e", failure_threshold=1, cooldown_s=10, clock=clock)
    breaker.failed("down")
    clock.now += 10
    breaker.check()
    breaker.failed("still down")
    clock.now += 10
    with pytest.raises(EncoderUnavailable, match="still down"):
        breaker.check()  # 20 s now
    clock.now += 10
    breaker.check()


def test_a_definitive_failure_opens_the_breaker_at_once() -> None:
    breaker = CircuitBreaker("e", failure_threshold=5, clock=Clock())
    breaker.failed("refused the key", definitive=True)
    assert breaker.state == "open"


# -- settings ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "model", "message"),
    [
        ("gpu-box:8080/v1", "m", "http:// or https://"),
        ("ftp://gpu-box/v1", "m", "http:// or https://"),
        ("http://gpu-box:8080/v1", " ", "model name is empty"),
    ],
)
def test_bad_endpoint_settings_get_a_clear_error(url: str, model: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EndpointConfig(url, model)


def test_urls_are_shown_without_credentials() -> None:
    assert redact_url("https://me:s3cret@gpu:8080/v1") == "https://***@gpu:8080/v1"
    with pytest.raises(ValueError) as caught:
        EndpointConfig("ftp://me:s3cret@gpu/v1", "m")
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "prefix", "message"),
    [
        ("http://cache:6379", "", "redis://, rediss:// or unix://"),
        ("redis://cache:6379", "team a", "prefix"),
        ("redis://cache:6379?cluster=maybe", "", "cluster= takes yes or no"),
    ],
)
def test_bad_shared_cache_settings_get_a_clear_error(url: str, prefix: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SharedTierConfig(url, prefix)


def test_shared_cache_accepts_redis_tls_and_socket_urls() -> None:
    for url in ("redis://h:6379/0", "rediss://u:p@h:6380", "unix:///run/redis.sock"):
        assert SharedTierConfig(url).url == url


# -- values in the shared tier ---------------------------------------------------------------
def test_only_unit_vectors_of_the_right_size_are_read_back() -> None:
    good = unit_rows(1, 8, 0)[0]
    assert np.allclose(decode_vector(encode_vector(good), 8), good)  # type: ignore[arg-type]
    assert decode_vector(encode_vector(good), 16) is None  # wrong length
    assert decode_vector(b"\x00" * 31, 8) is None
    assert decode_vector(encode_vector(np.full(8, np.nan, dtype=np.float32)), 8) is None
    assert decode_vector(encode_vector(np.full(8, np.inf, dtype=np.float32)), 8) is None
    assert decode_vector(encode_vector(good * 3), 8) is None  # not unit length
    assert decode_vector(b"garbage!" * 4, 8) is None
    assert decode_vector("text", 8) is None


# -- model identity ---------------------------------------------------------------------------
def test_same_model_with_numeric_noise_keeps_its_fingerprint_another_model_does_not(
    tmp_path: Path,
) -> None:
    registry = ProbeFile(tmp_path / "probes.json")
    probe = unit_rows(len(PROBE_TEXTS), 64, 1)
    first = identify("m", probe, [registry])
    # noise of the size int8 quantisation gives (cosine about 0.99)
    noisy = probe + np.random.default_rng(2).normal(0, 0.012, probe.shape).astype(np.float32)
    assert identify("m", noisy, [registry]).model_id == first.model_id
    other = unit_rows(len(PROBE_TEXTS), 64, 3)
    assert identify("m", other, [registry]).model_id != first.model_id
    # ... and the same name with other dimensions is another model too
    wider = unit_rows(len(PROBE_TEXTS), 128, 1)
    assert identify("m", wider, [registry]).dimensions == 128
    assert first.model_id == f"remote:64:{first.fingerprint}"


def test_a_hash_of_rounded_vectors_alone_would_split_one_model() -> None:
    """Why fingerprints are matched by cosine: rounding puts noisy twins in other buckets."""
    probe = unit_rows(len(PROBE_TEXTS), 384, 4)
    noisy = probe + np.random.default_rng(5).normal(0, 0.012, probe.shape).astype(np.float32)
    assert probe_fingerprint(probe) != probe_fingerprint(noisy)
    assert best_match({"a": probe}, noisy) == "a"


def test_of_two_records_for_one_model_everyone_settles_on_the_smaller() -> None:
    probe = unit_rows(len(PROBE_TEXTS), 32, 6)
    twin = probe + np.float32(0.001)
    assert best_match({"b": probe, "a": twin}, probe) == "a"


def test_a_damaged_registry_file_costs_a_new_record_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "probes.json"
    path.write_text("{not json")
    with caplog.at_level(logging.WARNING):
        identity = identify("m", unit_rows(len(PROBE_TEXTS), 16, 7), [ProbeFile(path)])
    assert identity.dimensions == 16
    assert "unreadable remote model registry" in caplog.text
    assert ProbeFile(path).records().keys() == {identity.fingerprint}


def test_the_registry_file_holds_only_hashes_and_vectors(tmp_path: Path) -> None:
    path = tmp_path / "probes.json"
    identify("secret-model-name", unit_rows(len(PROBE_TEXTS), 16, 8), [ProbeFile(path)])
    assert "secret-model-name" not in path.read_text()


# -- fitting text for a model whose tokenizer is not here ---------------------------------------
def test_approximate_tokens_fit_text_to_the_window_without_ids() -> None:
    body = "\n".join(f"    value_{i} = compute_something(value_{i - 1}, {i})" for i in range(200))
    entity = Entity(
        path="a.py",
        name="long_function",
        kind="function",
        language="python",
        start_line=1,
        end_line=201,
        source=f"def long_function():\n{body}",
        signature="def long_function():",
    )
    preparator = TextPreparator(ApproximateTokenizer(), 512, "remote:384:x")
    prepared = preparator.prepare(entity)
    assert prepared.ids is None  # nothing can mistake estimated pieces for model ids
    assert prepared.tokens <= 126
    assert len(prepared.text) < len(entity.source) / 4
    assert prepared.text.startswith("python function long_function (long function)")


def test_the_packaged_model_is_recognised_under_any_organisation() -> None:
    assert is_packaged_model("all-MiniLM-L6-v2")
    assert is_packaged_model("sentence-transformers/all-MiniLM-L6-v2")
    assert not is_packaged_model("BAAI/bge-small-en-v1.5")


# -- what BatchEmbedder does with an encoder that is unavailable or takes text only ------------
class TextOnlyEncoder(FakeEncoder):
    """Offers encode_ids (as the Encoder protocol asks) but says it wants text."""

    takes_token_ids = False

    def encode_ids(self, ids: object, batch_size: int = 32, *, spare_core: bool = False) -> None:
        raise AssertionError("a text-only encoder must be sent text")


class DownEncoder(FakeEncoder):
    """Embeds the first `good` texts of a call, then reports the endpoint down."""

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good = good

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        done = dict(enumerate(FakeEncoder.encode(self, texts[: self.good])))  # one call
        raise EncoderUnavailable("embedding endpoint http://gpu/v1 is unavailable (down)", done)


def entity(name: str) -> Entity:
    return Entity(
        path="m.py",
        name=name,
        kind="function",
        language="python",
        start_line=1,
        end_line=2,
        source=f"def {name}():\n    return {name!r}",
        signature=f"def {name}():",
    )


def test_an_encoder_that_takes_text_is_sent_text_even_when_ids_are_prepared() -> None:
    encoder = TextOnlyEncoder()
    entities = [entity("alpha"), entity("beta")]
    prepared = [
        PreparedText(f"text of {e.name}", f"{i:032x}", 3, (101, 7, 102))
        for i, e in enumerate(entities)
    ]
    result = BatchEmbedder(encoder, MemoryCache()).process_batch(entities, prepared=prepared)
    assert result.errors == {} and encoder.encoded == ["text of alpha", "text of beta"]


def test_an_unavailable_encoder_fails_the_chunk_at_once_and_keeps_what_came_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    encoder = DownEncoder(good=2)
    entities = [entity(f"f{i}") for i in range(5)]
    cache = MemoryCache()
    with caplog.at_level(logging.WARNING):
        result = BatchEmbedder(encoder, cache, batch_size=5).process_batch(entities)
    assert len(encoder.calls) == 1  # not retried text by text: the texts are not to blame
    assert len(result.vectors) == 2 and len(cache.vectors) == 2
    assert len(result.errors) == 3
    assert set(result.errors.values()) == {"embedding endpoint http://gpu/v1 is unavailable (down)"}
    assert caplog.records == []  # the encoder's breaker says it once; the pipeline adds nothing


class MemoryCache:
    def __init__(self) -> None:
        self.vectors: dict[str, Vectors] = {}

    def get_vectors(self, keys: Sequence[str], dimensions: int) -> dict[str, Vectors]:
        return {k: self.vectors[k] for k in keys if k in self.vectors}

    def put_vectors(self, vectors: dict[str, Vectors]) -> None:
        self.vectors.update(vectors)
