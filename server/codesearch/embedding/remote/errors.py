"""Errors a remote encoder raises, split by what the caller should do about them."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt


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


class RemoteRequestError(ValueError):
    """The endpoint rejected the request itself (400, 413, 422): one of its texts is to blame,
    so the pipeline retries item by item to find which."""


class QueryEmbeddingUnavailable(RuntimeError):
    """A search query could not be embedded in time: search falls back to keyword ranking.

    Its message is what a face shows: "query embedding unavailable: <reason>".
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"query embedding unavailable: {reason}")
        self.reason = reason
