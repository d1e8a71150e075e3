"""RemoteEncoder: the Encoder the batch pipeline drives, answered by an embedding endpoint.

`RemoteEncoder.connect(config)` asks the endpoint for the probe texts' vectors (which also
proves it is reachable and tells the dimensions), identifies the model from them (see
`identity`) and picks the tokenizer that fits texts to its window (see `tokens`).

Texts, not token ids, go over the wire: the OpenAI API takes text, and a server may host a
model whose tokenizer differs from any here. So `takes_token_ids` is False: the pipeline
sends `PreparedText.text` to `encode`. `encode_ids` exists for callers that hold only ids;
it decodes them with the tokenizer, which gives the same ids back for a WordPiece model
such as the packaged one, but costs a decode and is only as exact as that round trip.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from codesearch.embedding.remote.breaker import CircuitBreaker
from codesearch.embedding.remote.endpoint import EmbeddingEndpoint, EndpointConfig, RetryPolicy
from codesearch.embedding.remote.identity import (
    PROBE_TEXTS,
    ModelIdentity,
    ProbeFile,
    ProbeRegistry,
    identify,
)
from codesearch.embedding.remote.tokens import tokenizer_for
from codesearch.embedding.types import EncoderUnavailable, Vectors

log = logging.getLogger(__name__)

# The probe at start-up: a server that is down should not hold the start for long.
_PROBE_RETRY = RetryPolicy(max_attempts=3, base_delay_s=0.5, max_delay_s=2.0, total_s=20.0)
_PROBE_TIMEOUT_S = 10.0


class RemoteEncoder:
    """Unit vectors from an OpenAI-compatible endpoint; thread-safe."""

    takes_token_ids = False  # send texts: see the module docstring

    def __init__(
        self,
        endpoint: EmbeddingEndpoint,
        identity: ModelIdentity,
        *,
        tokenizer: Any,
        max_tokens: int,
    ) -> None:
        self.endpoint = endpoint
        self.identity = identity
        self.tokenizer: Any = tokenizer
        self.max_tokens = max_tokens
        endpoint.dimensions = identity.dimensions  # an answer of another size is refused

    @classmethod
    def connect(
        cls,
        config: EndpointConfig,
        *,
        registries: Sequence[ProbeRegistry] | None = None,
        tokenizer: Any | None = None,
        max_tokens: int | None = None,
        probe_retry: RetryPolicy | None = None,
    ) -> RemoteEncoder:
        """Probe the endpoint and identify its model; raises EncoderUnavailable if it cannot.

        `registries`: where fingerprints are recorded, the deciding one first (the shared
        tier's, then the local file); None means the local file alone. `probe_retry`: how
        hard to try (default: a few attempts, for a start; a retry after a failure may
        want one).
        """
        if registries is None:
            registries = [ProbeFile()]
        probe_config = _for_probe(config, probe_retry or _PROBE_RETRY)
        # the probe's failure is raised to the caller, who says it once: its breaker never
        # opens (and so never logs its own warning) within the probe's attempts
        quiet = CircuitBreaker(
            config.shown_url, failure_threshold=probe_config.retry.max_attempts + 1
        )
        probing = EmbeddingEndpoint(probe_config, breaker=quiet)
        try:
            probe = probing.embed(list(PROBE_TEXTS))
        except EncoderUnavailable as exc:
            raise EncoderUnavailable(f"cannot start the remote model: {exc.reason}") from None
        finally:
            probing.close()
        identity = identify(config.model, probe, registries)
        if tokenizer is None:
            tokenizer, window = tokenizer_for(config.model)
            max_tokens = max_tokens or window
        encoder = cls(
            EmbeddingEndpoint(config),
            identity,
            tokenizer=tokenizer,
            max_tokens=max_tokens or 512,
        )
        log.info(
            "remote model %s at %s: %d dimensions, id %s",
            config.model,
            config.shown_url,
            identity.dimensions,
            identity.model_id,
        )
        return encoder

    # -- what the pipeline reads --------------------------------------------------------
    @property
    def model_id(self) -> str:
        return self.identity.model_id

    @property
    def name(self) -> str:
        return f"{self.identity.name} @ {self.endpoint.config.shown_url}"

    @property
    def dimensions(self) -> int:
        return self.identity.dimensions

    @property
    def preferred_batch_size(self) -> int:
        """Texts per `encode` call that fill every concurrent request: give BatchEmbedder
        this as its batch size, or the endpoint never has more than one request in flight."""
        config = self.endpoint.config
        return config.request_batch_size * config.max_concurrency

    @property
    def problem(self) -> str | None:
        """One sentence while the endpoint is unusable (for a status bar), else None."""
        return self.endpoint.breaker.problem

    # -- embedding -------------------------------------------------------------------------
    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        """Unit vectors, one per text. `batch_size` is the caller's; the endpoint's request
        size and concurrency decide how the texts travel."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        try:
            raw = self.endpoint.embed(texts)
        except EncoderUnavailable as exc:
            raise EncoderUnavailable(
                exc.reason, {i: _unit(v) for i, v in exc.done.items()}
            ) from None
        return _unit_rows(raw)

    def encode_ids(
        self, ids: Sequence[Sequence[int]], batch_size: int = 32, *, spare_core: bool = False
    ) -> Vectors:
        """Vectors for texts given as token ids, decoded back to text (see module docstring);
        `spare_core` means nothing here: the work is on the server."""
        decode = getattr(self.tokenizer, "decode", None)
        if decode is None:
            raise TypeError("this remote model's tokenizer cannot turn ids back into text")
        texts = [str(decode(list(row), skip_special_tokens=True)) for row in ids]
        return self.encode(texts, batch_size)

    def embed_query(self, text: str) -> Vectors:
        """A search query's unit vector within the short query timeout; raises
        QueryEmbeddingUnavailable ("query embedding unavailable: <reason>") otherwise, so
        search ranks by keywords alone and says why."""
        return _unit(self.endpoint.embed_query(text))

    def close(self) -> None:
        self.endpoint.close()


def _for_probe(config: EndpointConfig, retry: RetryPolicy) -> EndpointConfig:
    """The start-up probe: few retries, but time for a cold server's first answer."""
    return dataclasses.replace(
        config,
        retry=retry,
        request_timeout_s=max(config.request_timeout_s, _PROBE_TIMEOUT_S),
    )


def _unit(vector: Vectors) -> Vectors:
    """L2-normalised (cosine ranking needs unit vectors, and not every server sends them);
    a zero or non-finite vector is passed on as it is, for the pipeline to reject."""
    row = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(row))
    if not np.isfinite(norm) or norm == 0.0:
        return row
    return np.asarray(row / norm, dtype=np.float32)


def _unit_rows(matrix: Vectors) -> Vectors:
    rows = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    safe = np.where(np.isfinite(norms) & (norms > 0), norms, 1.0)
    return np.ascontiguousarray(rows / safe, dtype=np.float32)
