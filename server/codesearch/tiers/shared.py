"""The shared vector tier: content-keyed vectors in Redis or Valkey, for a whole team.

A function's content key (a hash of model identity + prepared text) is the same on every
machine, so a vector one machine (or CI) computed serves every other, as a shared compiler
cache serves builds. What goes there is only what cannot leak code: keys are
`[prefix:]codesearch:v1:<model namespace>:<content key>` (two hashes) and values are the
float32 bytes of the vector. Never source text, names or paths.

URLs: `redis://host:port/db`, `rediss://` (TLS), `unix:///path/to/socket`, with a user and
password in the URL if the server wants them (never logged). A cluster (Redis Cluster or
Valkey cluster) is found by asking the node named in the URL (`INFO cluster`); add
`?cluster=yes` or `?cluster=no` to skip the question. In a cluster, lookups are split by
slot (`mget_nonatomic`).

The tier is an optimisation, never a dependency: every call has a connect and a read
timeout, and any failure marks it down with ONE warning; while down it is skipped (lookups
find nothing, writes are left to the caller to repeat) until a pause has passed (30 s,
doubling to 5 min while it stays down), then tried again.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np

from codesearch.embedding.remote.identity import (
    PROBE_TEXTS,
    RegistryUnavailable,
    best_match,
    normalised,
    probe_fingerprint,
)
from codesearch.embedding.types import Vectors

log = logging.getLogger(__name__)

KEY_VERSION = "codesearch:v1"
_PREFIX = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_UNIT_TOLERANCE = 1e-2  # stored vectors are unit length; random bytes almost never are


@dataclass(frozen=True)
class SharedTierConfig:
    url: str
    prefix: str = ""  # a team's namespace inside a shared server (letters, digits, . _ -)
    connect_timeout_s: float = 1.0
    call_timeout_s: float = 2.0
    first_pause_s: float = 30.0
    max_pause_s: float = 300.0
    keys_per_call: int = 1000  # MGET / MSET size: ~1.5 MB of 384-d vectors

    def __post_init__(self) -> None:
        scheme = urlsplit(self.url).scheme
        if scheme not in ("redis", "rediss", "unix"):
            raise ValueError(
                f"shared cache URL must start with redis://, rediss:// or unix://, "
                f"got {redact(self.url)!r}"
            )
        _split_cluster_flag(self.url)  # a bad cluster= value is a settings error, said now
        if self.prefix and not _PREFIX.match(self.prefix):
            raise ValueError(
                f"shared cache prefix {self.prefix!r} may hold only letters, digits, '.', "
                "'_' and '-' (at most 64)"
            )


def redact(url: str) -> str:
    """The URL without its password (and without a user name, which may be a token)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


def model_namespace(model_id: str) -> str:
    """A short hash of the model identity: local model ids hold a folder's name."""
    return hashlib.blake2b(model_id.encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Lookup:
    found: dict[str, Vectors]
    rejected: list[str]  # keys whose stored value was unusable (to embed and overwrite)


class SharedVectorTier:
    """A Redis/Valkey vector tier. Thread-safe; no call raises for a tier that fails."""

    def __init__(
        self, config: SharedTierConfig, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.shown_url = redact(config.url)
        self._clock = clock
        self._lock = threading.Lock()
        self._client: Any = None
        self._cluster = False
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._pause = config.first_pause_s
        self._reason: str | None = None

    # -- health ----------------------------------------------------------------------------
    def available(self) -> bool:
        """False during the pause after a failure (calls then skip the network)."""
        with self._lock:
            return self._down_since is None or self._clock() >= self._retry_at

    @property
    def problem(self) -> str | None:
        with self._lock:
            if self._down_since is None:
                return None
            return (
                f"shared vector cache {self.shown_url} unavailable ({self._reason}); "
                "vectors are computed here meanwhile"
            )

    def _failed(self, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        reason = reason.replace(self.config.url, self.shown_url)
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = self._clock()
                self._pause = self.config.first_pause_s
            else:
                self._pause = min(self._pause * 2, self.config.max_pause_s)
            self._retry_at = self._clock() + self._pause
            self._reason = reason
            client, self._client = self._client, None  # reconnect from scratch next time
        _close_quietly(client)
        if first:
            log.warning(
                "shared vector cache %s unavailable (%s); computing vectors here and "
                "trying it again in %.3g s",
                self.shown_url,
                reason,
                self.config.first_pause_s,
            )
        else:
            log.debug("shared vector cache still unavailable (%s)", reason)

    def _succeeded(self) -> None:
        with self._lock:
            was_down = self._down_since is not None
            self._down_since = None
            self._reason = None
            self._pause = self.config.first_pause_s
        if was_down:
            log.info("shared vector cache %s is reachable again", self.shown_url)

    def _run(self, action: Callable[[Any], Any]) -> tuple[bool, Any]:
        """(True, result) or (False, None) after marking the tier down."""
        if not self.available():
            return False, None
        try:
            result = action(self._connected())
        except Exception as exc:
            # Every failure, not only RedisError: redis-py's cluster client raises plain
            # RedisClusterException (and worse) when its nodes go away, and the tier must
            # never fail an index.
            log.debug("shared vector cache call failed", exc_info=True)
            self._failed(exc)
            return False, None
        self._succeeded()
        return True, result

    def _connected(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client, self._cluster = _connect(self.config)
            return self._client

    # -- keys --------------------------------------------------------------------------------
    def _base(self) -> str:
        return f"{self.config.prefix}:{KEY_VERSION}" if self.config.prefix else KEY_VERSION

    def key(self, model_id: str, content_key: str) -> str:
        return f"{self._base()}:{model_namespace(model_id)}:{content_key}"

    def probes_key(self, dimensions: int) -> str:
        return f"{self._base()}:probes:{dimensions}"

    # -- vectors -----------------------------------------------------------------------------
    def get_vectors(self, model_id: str, keys: Sequence[str], dimensions: int) -> Lookup:
        """Stored vectors for content keys; values of the wrong size, with NaN or infinity,
        or not of unit length are left out and listed as rejected."""
        found: dict[str, Vectors] = {}
        rejected: list[str] = []
        step = self.config.keys_per_call
        for start in range(0, len(keys), step):
            chunk = list(keys[start : start + step])
            names = [self.key(model_id, k) for k in chunk]
            ok, values = self._run(functools.partial(self._mget, names=names))
            if not ok:
                break
            for key, raw in zip(chunk, values, strict=True):
                if raw is None:
                    continue
                vector = decode_vector(raw, dimensions)
                if vector is None:
                    rejected.append(key)
                else:
                    found[key] = vector
        if rejected:
            log.debug("ignored %d unusable values in the shared vector cache", len(rejected))
        return Lookup(found, rejected)

    def put_vectors(self, model_id: str, vectors: Mapping[str, Vectors]) -> bool:
        """Write vectors (replacing what is there); False if the tier did not take them."""
        items = list(vectors.items())
        step = self.config.keys_per_call
        for start in range(0, len(items), step):
            chunk = {
                self.key(model_id, k): encode_vector(v) for k, v in items[start : start + step]
            }
            ok, _ = self._run(functools.partial(self._mset, mapping=chunk))
            if not ok:
                return False
        return True

    def _mget(self, client: Any, names: list[str]) -> list[Any]:
        values = client.mget_nonatomic(names) if self._cluster else client.mget(names)
        return list(values)

    def _mset(self, client: Any, mapping: dict[str, bytes]) -> None:
        if self._cluster:
            client.mset_nonatomic(mapping)
        else:
            client.mset(mapping)

    # -- fingerprints of remote models ----------------------------------------------------------
    def probe_registry(self) -> SharedProbeRegistry:
        return SharedProbeRegistry(self)

    def read_probes(self, dimensions: int) -> dict[str, Vectors]:
        ok, raw = self._run(lambda client: client.hgetall(self.probes_key(dimensions)))
        if not ok:
            raise RegistryUnavailable(self.problem or "the shared vector cache is unavailable")
        records: dict[str, Vectors] = {}
        for name, value in (raw or {}).items():
            fingerprint = name.decode() if isinstance(name, bytes) else str(name)
            matrix = decode_probe(value, dimensions)
            if matrix is not None:
                records[fingerprint] = matrix
        return records

    def record_probe(self, fingerprint: str, probe: Vectors) -> None:
        """Record a fingerprint if absent (HSETNX: the first writer's vectors stay)."""
        dimensions = int(probe.shape[1])
        payload = np.asarray(normalised(probe), dtype="<f4").tobytes()
        ok, _ = self._run(
            lambda client: client.hsetnx(self.probes_key(dimensions), fingerprint, payload)
        )
        if not ok:
            raise RegistryUnavailable(self.problem or "the shared vector cache is unavailable")

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        _close_quietly(client)


class SharedProbeRegistry:
    """The team's registry of remote-model fingerprints, in the shared tier.

    Without a transaction (clusters make them awkward): look, record if absent, look again.
    Two machines recording the same model at once leave two records; both then choose the
    smaller fingerprint (see `best_match`), as does everyone after them.
    """

    def __init__(self, tier: SharedVectorTier) -> None:
        self.tier = tier

    def match_or_record(self, probe: Vectors) -> str:
        dimensions = int(probe.shape[1])
        found = best_match(self.tier.read_probes(dimensions), probe)
        if found is not None:
            return found
        self.tier.record_probe(probe_fingerprint(probe), probe)
        found = best_match(self.tier.read_probes(dimensions), probe)
        if found is None:  # an unreadable record under our own name: say so, do not guess
            raise RegistryUnavailable("the shared fingerprint record could not be read back")
        return found

    def adopt(self, fingerprint: str, probe: Vectors) -> None:
        self.tier.record_probe(fingerprint, probe)


def encode_vector(vector: Vectors) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def decode_vector(raw: Any, dimensions: int) -> Vectors | None:
    """A stored value as a unit vector, or None if it is not one (wrong size, NaN, inf,
    zero or not unit length: garbage, another model, or a torn write)."""
    if not isinstance(raw, bytes | bytearray) or len(raw) != dimensions * 4:
        return None
    vector = np.frombuffer(bytes(raw), dtype="<f4").astype(np.float32)
    if not np.all(np.isfinite(vector)):
        return None
    with np.errstate(over="ignore", invalid="ignore"):  # garbage may hold huge numbers
        norm = float(np.linalg.norm(vector.astype(np.float64)))
    if not abs(norm - 1.0) <= _UNIT_TOLERANCE:
        return None
    return vector


def decode_probe(raw: Any, dimensions: int) -> Vectors | None:
    rows = len(PROBE_TEXTS)
    if not isinstance(raw, bytes | bytearray) or len(raw) != rows * dimensions * 4:
        return None
    matrix = np.frombuffer(bytes(raw), dtype="<f4").reshape(rows, dimensions).astype(np.float32)
    return matrix if bool(np.all(np.isfinite(matrix))) else None


def _connect(config: SharedTierConfig) -> tuple[Any, bool]:
    """A client for the URL: a cluster client when asked or when the node says so."""
    import redis
    from redis.backoff import NoBackoff
    from redis.cluster import RedisCluster
    from redis.retry import Retry

    url, cluster = _split_cluster_flag(config.url)
    options: dict[str, Any] = {
        "socket_connect_timeout": config.connect_timeout_s,
        "socket_timeout": config.call_timeout_s,
        # one immediate retry: a pooled connection the server closed (a restart) reconnects
        "retry": Retry(NoBackoff(), 1),
    }
    if cluster is None and not url.startswith("unix:"):
        probe = redis.Redis.from_url(url, **options)
        try:
            cluster = bool(probe.info("cluster").get("cluster_enabled"))
        finally:
            probe.close()
    if cluster:
        return RedisCluster.from_url(url, **options), True
    return redis.Redis.from_url(url, **options), False


def _split_cluster_flag(url: str) -> tuple[str, bool | None]:
    """The URL without our `cluster=` query flag, and the flag (None: ask the server)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    flags = [v for k, v in query if k == "cluster"]
    if not flags:
        return url, None
    rest = urlencode([(k, v) for k, v in query if k != "cluster"])
    value = flags[-1].strip().lower()
    if value not in ("yes", "no", "true", "false", "1", "0"):
        raise ValueError(f"cluster= takes yes or no, got {flags[-1]!r}")
    return urlunsplit(parts._replace(query=rest)), value in ("yes", "true", "1")


def _close_quietly(client: Any) -> None:
    if client is None:
        return
    try:
        client.close()
    except Exception:
        log.debug("closing the shared cache client failed", exc_info=True)
