"""The model of one workspace: known by identity before it is loaded (the store is checked
against it), loaded once on first need or ahead of need on a thread of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from codesearch.embedding.types import Encoder


def _ready() -> float | None:
    return None


@dataclass(frozen=True)
class ModelLoader:
    """A model not loaded yet: the identity it will have (known without loading it, to
    check the store), how to load it, and whether the load first prepares the model for
    this machine (None: no; else about how many seconds that takes, asked without loading)."""

    model_id: str
    name: str
    load: Callable[[], Encoder]
    preparation: Callable[[], float | None] = _ready


class ModelHandle:
    """The workspace's model, loaded once on first need (a warm, unchanged index never
    needs it to index) or ahead of need on a background thread (searches need it)."""

    def __init__(self, *, encoder: Encoder | None = None, loader: ModelLoader | None = None):
        if encoder is None and loader is None:
            raise ValueError("a model needs an encoder or a loader")
        self._encoder = encoder
        self._loader = loader
        self._lock = threading.Lock()
        self.error: BaseException | None = None  # why the last load failed, if it did

    @property
    def loaded(self) -> bool:
        return self._encoder is not None

    def preparation(self) -> float | None:
        """About how long the one-time preparation the next load runs takes; None when
        the model is loaded or needs none."""
        if self._encoder is not None or self._loader is None:
            return None
        try:
            return self._loader.preparation()
        except Exception:  # a question for a message: never worth failing the load over
            return None

    def get(self) -> Encoder:
        with self._lock:
            if self._encoder is None:
                assert self._loader is not None
                try:
                    self._encoder = self._loader.load()
                except BaseException as exc:
                    self.error = exc
                    raise
                self.error = None
            return self._encoder

    def load_in_background(self, on_error: Callable[[BaseException], None]) -> threading.Thread:
        """Start loading on a thread of its own; `on_error` hears of a failure."""

        def load() -> None:
            try:
                self.get()
            except BaseException as exc:
                on_error(exc)

        thread = threading.Thread(target=load, name="codesearch-model-load", daemon=True)
        thread.start()
        return thread
