"""Where a workspace's vectors come from, chosen from its settings: the embedding provider
(the local model, or an OpenAI-compatible endpoint) and the optional shared vector tier.

A local model's identity is known without loading it. A remote model's is not: it is the
fingerprint of the vectors the endpoint gives (see embedding/remote/identity), so it needs
the network. Its loader is therefore *provisional*: the workspace opens under the identity
its store recorded (offline, searching by keywords until the endpoint answers) or, with
nothing recorded, connects first (see `Workspace.open`).

Connecting is the remote model's "load". A start tries a few times; after a failure, calls
within RETRY_PAUSE_S fail at once with the same reason (a search must not wait on a dead
server each time), and the next try after it is a single attempt.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from codesearch.config import Settings
from codesearch.embedding.registry import load_encoder, preparation_seconds, vector_model_id
from codesearch.embedding.remote import API_KEY_ENV
from codesearch.embedding.resolve import resolve_model
from codesearch.embedding.types import Encoder, EncoderUnavailable, ModelLoadError
from codesearch.tiers.shared import SharedTierConfig, SharedVectorTier
from codesearch.workspace.model import ModelHandle, ModelLoader

if TYPE_CHECKING:
    from codesearch.embedding.remote.endpoint import EndpointConfig

log = logging.getLogger(__name__)

RETRY_PAUSE_S = 10.0  # after a failed connect, fail at once for this long
REMOTE_ID_PREFIX = "remote:"  # every remote model id starts so (identity.ModelIdentity)


def is_remote_model_id(model_id: str) -> bool:
    return model_id.startswith(REMOTE_ID_PREFIX)


def workspace_model(
    settings: Settings,
    shared: SharedVectorTier | None,
    encoder: Encoder | None = None,
    loader: ModelLoader | None = None,
) -> tuple[ModelHandle, str, str]:
    """The workspace's model, its identity (known before loading; "" for a remote model
    until the workspace opens) and its name as users see it. An `encoder` or a `loader`
    given by the caller (tests, tools) wins over the settings."""
    if encoder is not None:
        return ModelHandle(encoder=encoder), encoder.model_id, encoder.model_id
    if loader is None and settings.remote:
        loader = remote_model_loader(settings, shared)
    if loader is None:
        spec = resolve_model(settings.model)
        name = spec.name + ("" if settings.backend == "torch" else f" ({settings.backend})")
        loader = ModelLoader(
            vector_model_id(spec, settings.backend),
            name,
            functools.partial(
                load_encoder, spec, threads=settings.threads, backend=settings.backend
            ),
            preparation=functools.partial(preparation_seconds, spec, settings.backend),
        )
    return ModelHandle(loader=loader), loader.model_id, loader.name


def shared_tier(settings: Settings) -> SharedVectorTier | None:
    """The team's vector tier the settings name, or None; nothing connects here."""
    if not settings.shared_cache:
        return None
    try:
        config = SharedTierConfig(settings.shared_cache, prefix=settings.shared_cache_prefix)
    except ValueError as exc:  # the message hides the URL's credentials
        raise ModelLoadError(f"shared cache setting: {exc}") from None
    return SharedVectorTier(config)


def remote_model_loader(settings: Settings, tier: SharedVectorTier | None) -> ModelLoader:
    """A provisional loader for the endpoint the settings name (checked now, offline)."""
    from codesearch.embedding.remote.endpoint import EndpointConfig, redact_url

    if not settings.embed_model:
        raise ModelLoadError(
            f"an embedding endpoint needs the name of the model it serves: set "
            f"codesearch.embedModel, --embed-model or CODESEARCH_EMBED_MODEL "
            f"(the endpoint is {redact_url(settings.embed_url)})"
        )
    try:
        config = EndpointConfig(
            settings.embed_url,
            settings.embed_model,
            api_key_env=settings.embed_api_key_env or API_KEY_ENV,
            request_batch_size=settings.embed_batch_size,
            max_concurrency=settings.embed_concurrency,
        )
    except ValueError as exc:  # the message hides the URL's credentials
        raise ModelLoadError(f"embedding endpoint setting: {exc}") from None
    connector = RemoteConnector(config, tier)
    name = f"{config.model} @ {config.shown_url}"
    return ModelLoader("", name, connector.connect, provisional=True)


class RemoteConnector:
    """Connects a RemoteEncoder (probe, identity), remembering a failure for a while."""

    def __init__(
        self,
        config: EndpointConfig,
        tier: SharedVectorTier | None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.tier = tier
        self._clock = clock
        self._lock = threading.Lock()
        self._failed_at: float | None = None
        self._failure: str | None = None

    def connect(self) -> Encoder:
        """The connected encoder; raises ModelLoadError with one line saying why not."""
        from codesearch.embedding.remote.encoder import RemoteEncoder
        from codesearch.embedding.remote.endpoint import RetryPolicy
        from codesearch.embedding.remote.identity import ProbeFile, ProbeRegistry

        config = self.config
        with self._lock:
            failed_at, failure = self._failed_at, self._failure
        if failed_at is not None and self._clock() - failed_at < RETRY_PAUSE_S:
            raise ModelLoadError(failure or "the embedding endpoint is unavailable")
        registries: list[ProbeRegistry] = [ProbeFile()]
        if self.tier is not None:
            registries.insert(0, self.tier.probe_registry())
        retry = None
        if failed_at is not None:  # a retry: one attempt, a short wait
            retry = RetryPolicy(max_attempts=1, base_delay_s=0.0, max_delay_s=0.0, total_s=5.0)
        try:
            encoder = RemoteEncoder.connect(config, registries=registries, probe_retry=retry)
        except EncoderUnavailable as exc:
            with self._lock:
                self._failed_at, self._failure = self._clock(), exc.reason
            raise ModelLoadError(exc.reason) from None
        except (OSError, ValueError) as exc:  # the tokenizer, or probe vectors of no use
            raise ModelLoadError(f"cannot start the remote model: {exc}") from None
        with self._lock:
            self._failed_at = self._failure = None
        return encoder
