"""The workspace's model as opening, search and status meet it: which identity a store opens
under when the model is known only once it answers (a remote one), the query's vector or
why there is none, and the provider's problem in one sentence."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from codesearch.embedding.types import (
    ModelLoadError,
    QueryEmbedder,
    QueryEmbeddingUnavailable,
    Vectors,
)
from codesearch.store import DATABASE_FILE, Store
from codesearch.tiers.shared import SharedVectorTier
from codesearch.workspace.model import ModelHandle
from codesearch.workspace.providers import is_remote_model_id

log = logging.getLogger(__name__)

# A search waits this long for a remote model that another thread is connecting, then
# ranks by keywords alone and says so.
QUERY_WAIT_S = 2.0


def settle_identity(model: ModelHandle, store_dir: Path) -> tuple[str, str | None]:
    """The identity to open a store with, for a model known only once it answers, and the
    sentence saying the store was recovered if looking at it found damage.

    Connected already: its identity. Else, when the store was built by a remote model:
    that identity, offline (the index opens and searches by keywords until the endpoint
    answers; `changed_identity` tells when it then answers as another model). Else connect
    now, before the store is touched: a model that cannot answer never costs the index that
    another model built (ModelLoadError, nothing moved).
    """
    if not model.loaded:
        recorded, recovered = recorded_model_id(store_dir)
        if recorded is not None and is_remote_model_id(recorded):
            log.info("opening %s under its recorded remote model %s", store_dir, recorded)
            return recorded, recovered
    return model.get().model_id, None


def changed_identity(model: ModelHandle, opened_as: str) -> str | None:
    """Connect a provisional model; its identity if it answers as another model than the
    store was opened with (the server now hosts another model), else None. An endpoint
    that does not answer changes nothing: an unchanged index needs no model."""
    if not model.provisional:
        return None
    try:
        encoder = model.get()
    except ModelLoadError:
        return None
    return encoder.model_id if encoder.model_id != opened_as else None


def query_embedding(
    model: ModelHandle, index_model_id: str, model_name: str, query: str
) -> tuple[Vectors | None, str | None]:
    """The query's vector, or None and a one-line notice saying why search ranks by
    keywords alone (the endpoint does not answer in time, is not connected, or answers as
    another model than the index's). A local model that cannot load raises ModelLoadError,
    as before: nothing else could answer."""
    text = query.strip()
    try:
        encoder = model.get(timeout=QUERY_WAIT_S if model.provisional else None)
    except (ModelLoadError, TimeoutError) as exc:
        if not model.provisional:
            raise
        reason = "still connecting" if isinstance(exc, TimeoutError) else str(exc)
        return None, f"query embedding unavailable: {reason}"
    if encoder.model_id != index_model_id:
        return None, (
            f"query embedding unavailable: {model_name} now answers as another model than "
            "the one this index was built with; the next index run re-embeds"
        )
    if isinstance(encoder, QueryEmbedder):
        try:
            return encoder.embed_query(text), None
        except QueryEmbeddingUnavailable as exc:
            return None, str(exc)
    vector: Vectors = encoder.encode([text], batch_size=1)[0]
    return vector, None


def embedding_problem(model: ModelHandle) -> str | None:
    """One sentence while the embedding provider cannot embed (a remote endpoint that is
    down or refuses us; a model that failed to load), else None."""
    if model.loaded:
        problem = getattr(model.get(), "problem", None)
        return problem if isinstance(problem, str) else None
    return str(model.error) if model.error is not None else None


def sources_status(model: ModelHandle, shared: SharedVectorTier | None) -> dict[str, Any]:
    """The status entries of where vectors come from (URLs without credentials)."""
    return {
        "embedding_problem": embedding_problem(model),
        "shared_cache": (
            {"url": shared.shown_url, "problem": shared.problem} if shared is not None else None
        ),
    }


def close_sources(model: ModelHandle, shared: SharedVectorTier | None) -> None:
    """Close the connections this workspace opened: the shared tier's, and a remote model's
    HTTP client (a local model is shared by the process and stays)."""
    if shared is not None:
        shared.close()
    if model.provisional and model.loaded:
        closer = getattr(model.get(), "close", None)
        if closer is not None:
            closer()


def recorded_model_id(store_dir: Path) -> tuple[str | None, str | None]:
    """The model id a store's metadata records (None for no store or none recorded), and
    the sentence saying the store was recovered if opening it found damage."""
    if not (store_dir / DATABASE_FILE).is_file():
        return None, None
    store = Store(store_dir)  # no model check: only looking
    try:
        meta = store.meta()
        return (meta.model_id if meta is not None else None), store.recovered
    finally:
        store.close()
