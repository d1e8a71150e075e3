"""One OpenAI-compatible embeddings endpoint over httpx: batching, concurrency, retries.

The request is the OpenAI shape every server named in the issue speaks (Text Embeddings
Inference, vLLM, Infinity, Ollama, LM Studio): `POST {base}/embeddings` with
`{"model": ..., "input": [...]}`, answered by `data[i].embedding` with `data[i].index`.

Defaults, and why: 64 texts per request and 4 requests in flight. A GPU server batches
what it has queued; 4 x 64 = 256 texts outstanding keeps a mid-size GPU busy while one
request's JSON is parsed here and the next is sent, and 64 short texts (the pipeline sends
at most 128 tokens each) make a request of about 40 KB out and 250 KB back, small enough
that a retry costs little. Servers cap a request's size (TEI: 32 by default with its
`--max-client-batch-size`, OpenAI: 2048), so a 413 asks for a smaller `request_batch_size`.

Retries: 429, 5xx, timeouts and dropped or refused connections are retried with full-jitter
exponential backoff, at least as long as a `Retry-After` header asks (seconds or an HTTP
date), within a total time per request. A 400/413/422 means a text is at fault
(RemoteRequestError: the pipeline then tries the texts one by one); 401/403/404 or vectors
of the wrong size mean the endpoint is unusable as configured (EncoderUnavailable, and the
circuit breaker opens at once).

The API key is read from an environment variable, sent only in the Authorization header,
and scrubbed from every message this module writes (a server may echo it in an error body).
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import numpy as np

from codesearch.embedding.remote import (
    API_KEY_ENV,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_REQUEST_BATCH_SIZE,
)
from codesearch.embedding.remote.breaker import CircuitBreaker
from codesearch.embedding.remote.errors import RemoteRequestError
from codesearch.embedding.types import EncoderUnavailable, QueryEmbeddingUnavailable, Vectors

log = logging.getLogger(__name__)

_BODY_SNIPPET = 200  # characters of an error body quoted in a message


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per request, backoff (full jitter) and the total time a request may take."""

    max_attempts: int = 6
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    total_s: float = 90.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: a random pause up to base x 2^(attempt-1), capped."""
        cap = min(self.max_delay_s, self.base_delay_s * (2 ** (attempt - 1)))
        return rng.uniform(0.0, cap)


@dataclass(frozen=True)
class EndpointConfig:
    """Where the endpoint is and how hard to drive it. The key itself is never held here:
    only the name of the environment variable that holds it."""

    base_url: str  # the API base, for example http://gpu-box:8080/v1
    model: str
    api_key_env: str = API_KEY_ENV
    request_batch_size: int = DEFAULT_REQUEST_BATCH_SIZE
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    request_timeout_s: float = 60.0  # one request's read time: a busy GPU queues requests
    connect_timeout_s: float = 3.0
    query_timeout_s: float = 2.0  # a search waits no longer for its query vector
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"embedding URL must be http:// or https:// with a host "
                f"(for example http://gpu-box:8080/v1), got {redact_url(self.base_url)!r}"
            )
        if not self.model.strip():
            raise ValueError("the embedding model name is empty")
        if self.request_batch_size < 1 or self.max_concurrency < 1:
            raise ValueError("request batch size and concurrent requests must be at least 1")

    @property
    def shown_url(self) -> str:
        return redact_url(self.base_url)


def redact_url(url: str) -> str:
    """The URL without a user or password in it (users do write keys into URLs)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        current = datetime.now(timezone.utc).timestamp() if now is None else now
        seconds = when.timestamp() - current
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


class _Retryable(Exception):
    """An attempt failed in a way worth retrying (the endpoint may recover)."""

    def __init__(
        self,
        reason: str,
        retry_after: float | None = None,
        *,
        alive: bool = False,
        timed_out: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.alive = alive  # the server answered (429): busy, not down
        self.timed_out = timed_out


class EmbeddingEndpoint:
    """Sends texts to the endpoint and returns one raw vector per text, in order."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.breaker = breaker or CircuitBreaker(config.shown_url)
        self.dimensions: int | None = None  # known after the first answer; then enforced
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._secret = os.environ.get(config.api_key_env, "").strip()
        headers = {"Authorization": f"Bearer {self._secret}"} if self._secret else {}
        limit = config.max_concurrency + 2  # the pool's requests plus queries beside them
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(config.request_timeout_s, connect=config.connect_timeout_s),
            limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit),
        )
        self._url = config.base_url.rstrip("/") + "/embeddings"
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EmbeddingEndpoint({self.config.shown_url}, model={self.config.model!r})"

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        self._client.close()

    # -- public calls --------------------------------------------------------------------
    def embed(self, texts: Sequence[str]) -> Vectors:
        """Vectors for texts: requests of `request_batch_size`, `max_concurrency` at once.

        Raises EncoderUnavailable (with the vectors that did come back) when the endpoint
        fails, RemoteRequestError when it rejects a request's texts.
        """
        size = self.config.request_batch_size
        chunks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        if not chunks:
            return np.zeros((0, self.dimensions or 0), dtype=np.float32)
        if len(chunks) == 1 or self.config.max_concurrency == 1:
            return self._embed_sequentially(chunks)
        pool = self._executor()
        futures = [pool.submit(self._request_with_retries, chunk) for chunk in chunks]
        return self._gather(futures, size)

    def embed_query(self, text: str) -> Vectors:
        """One text, one attempt, a short timeout: a search must not wait on a slow server."""
        try:
            self.breaker.check()
        except EncoderUnavailable as exc:
            raise QueryEmbeddingUnavailable(exc.reason) from None
        timeout = self.config.query_timeout_s
        try:
            vectors = self._attempt(
                [text], httpx.Timeout(timeout, connect=min(timeout, self.config.connect_timeout_s))
            )
        except _Retryable as exc:
            if exc.alive or exc.timed_out:
                # busy, not down (a query's timeout is short): indexing may go on
                self.breaker.release_trial()
            else:
                self.breaker.failed(exc.reason)  # refused or dropped: tell later queries now
            raise QueryEmbeddingUnavailable(exc.reason) from None
        except EncoderUnavailable as exc:
            self.breaker.failed(exc.reason, definitive=True)
            raise QueryEmbeddingUnavailable(exc.reason) from None
        except RemoteRequestError as exc:
            self.breaker.succeeded()
            raise QueryEmbeddingUnavailable(str(exc)) from None
        except BaseException:
            self.breaker.release_trial()
            raise
        self.breaker.succeeded()
        first: Vectors = vectors[0]
        return first

    # -- internals ---------------------------------------------------------------------
    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.config.max_concurrency, thread_name_prefix="codesearch-embed-request"
                )
            return self._pool

    def _embed_sequentially(self, chunks: list[list[str]]) -> Vectors:
        done: dict[int, Vectors] = {}
        position = 0
        parts: list[Vectors] = []
        for chunk in chunks:
            try:
                part = self._request_with_retries(chunk)
            except EncoderUnavailable as exc:
                raise EncoderUnavailable(exc.reason, done) from None
            parts.append(part)
            for row in part:
                done[position] = row
                position += 1
        return np.vstack(parts)

    def _gather(self, futures: list[Future[Vectors]], size: int) -> Vectors:
        parts: list[Vectors | None] = []
        unavailable: EncoderUnavailable | None = None
        rejected: RemoteRequestError | None = None
        for future in futures:  # wait for all: none keeps running after we return
            try:
                parts.append(future.result())
            except EncoderUnavailable as exc:
                unavailable = unavailable or exc
                parts.append(None)
            except RemoteRequestError as exc:
                rejected = rejected or exc
                parts.append(None)
        if unavailable is not None:
            done = {
                start * size + row: vector
                for start, part in enumerate(parts)
                if part is not None
                for row, vector in enumerate(part)
            }
            raise EncoderUnavailable(unavailable.reason, done)
        if rejected is not None:
            raise rejected
        return np.vstack([p for p in parts if p is not None])

    def _request_with_retries(self, texts: list[str]) -> Vectors:
        policy = self.config.retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            self.breaker.check()
            # the last attempt gets only what is left of the budget: the total is a bound
            left = max(policy.total_s - (time.monotonic() - started), 0.1)
            timeout = None
            if left < self.config.request_timeout_s:
                timeout = httpx.Timeout(left, connect=min(left, self.config.connect_timeout_s))
            try:
                vectors = self._attempt(texts, timeout)
            except _Retryable as exc:
                if exc.alive:
                    self.breaker.succeeded()  # it answered: busy, not down
                else:
                    self.breaker.failed(exc.reason)
                elapsed = time.monotonic() - started
                pause = policy.backoff(attempt, self._rng)
                if exc.retry_after is not None:
                    pause = max(pause, exc.retry_after)
                if attempt >= policy.max_attempts or elapsed + pause > policy.total_s:
                    wait = ""
                    if exc.retry_after is not None and elapsed + exc.retry_after > policy.total_s:
                        wait = f", and it asks to wait {exc.retry_after:.0f} s more"
                    raise EncoderUnavailable(
                        f"embedding endpoint {self.config.shown_url} failed: {exc.reason} "
                        f"({attempt} attempts in {elapsed:.1f} s{wait})"
                    ) from None
                log.debug("embedding request failed (%s); retrying in %.2f s", exc.reason, pause)
                self._sleep(pause)
                continue
            except EncoderUnavailable as exc:
                self.breaker.failed(exc.reason, definitive=True)
                raise
            except RemoteRequestError:
                self.breaker.succeeded()  # it answered: the texts are at fault
                raise
            except BaseException:
                self.breaker.release_trial()
                raise
            self.breaker.succeeded()
            return vectors

    def _attempt(self, texts: list[str], timeout: httpx.Timeout | None) -> Vectors:
        """One POST; raises _Retryable, EncoderUnavailable or RemoteRequestError."""
        body = {"model": self.config.model, "input": texts}
        try:
            if timeout is None:
                response = self._client.post(self._url, json=body)
            else:
                response = self._client.post(self._url, json=body, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({_describe(exc)})", timed_out=True) from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({self._scrub(_describe(exc))})") from None
        status = response.status_code
        if status == 200:
            return self._vectors(response, len(texts))
        detail = self._scrub(_snippet(response))
        reason = f"HTTP {status}{detail}"
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise _Retryable(f"rate limited ({reason})", retry_after, alive=True)
        if status >= 500 or status == 408:
            raise _Retryable(reason, parse_retry_after(response.headers.get("Retry-After")))
        if status in (401, 403):
            who = (
                f"the key in ${self.config.api_key_env}"
                if self._secret
                else f"no key (set ${self.config.api_key_env})"
            )
            raise EncoderUnavailable(
                f"embedding endpoint {self.config.shown_url} refused {who}: {reason}"
            )
        if status == 404:
            raise EncoderUnavailable(
                f"embedding endpoint {self._url_shown()} not found ({reason}): the URL should "
                f"be the API base (for example http://host:8080/v1) and the model "
                f"{self.config.model!r} must be served there"
            )
        raise RemoteRequestError(f"embedding endpoint rejected the request: {reason}")

    def _vectors(self, response: httpx.Response, count: int) -> Vectors:
        try:
            payload = response.json()
            data = payload["data"]
            if not isinstance(data, list) or len(data) != count:
                raise ValueError(f"{len(data) if isinstance(data, list) else 'no'} vectors")
            rows: list[Any] = [None] * count
            for position, item in enumerate(data):
                index = item.get("index", position)
                if not isinstance(index, int) or not 0 <= index < count or rows[index]:
                    raise ValueError(f"bad index {index!r}")
                rows[index] = item["embedding"]
            matrix = np.asarray(rows, dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise _Retryable(
                f"the answer is not an embeddings response ({type(exc).__name__}: {exc})"
            ) from None
        if matrix.ndim != 2 or matrix.shape[0] != count:
            raise _Retryable(f"the answer has vectors of uneven sizes (shape {matrix.shape})")
        width = int(matrix.shape[1])
        if self.dimensions is None:
            self.dimensions = width
        elif width != self.dimensions:
            raise EncoderUnavailable(
                f"embedding endpoint {self.config.shown_url} returned {width}-dimensional "
                f"vectors, expected {self.dimensions}: the model behind it changed"
            )
        return matrix

    def _url_shown(self) -> str:
        return redact_url(self._url)

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _snippet(response: httpx.Response) -> str:
    try:
        text = response.text.strip().replace("\n", " ")
    except Exception:
        return ""
    if not text:
        return f" {response.reason_phrase}".rstrip()
    if len(text) > _BODY_SNIPPET:
        text = text[:_BODY_SNIPPET] + "..."
    return f": {text}"
