"""The model of one workspace: known by identity before it is loaded (the store is checked
against it), loaded once on first need or ahead of need on a thread of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from codesearch.embedding.registry import model_id_label
from codesearch.embedding.types import Encoder, ModelLoadError
from codesearch.store import stored_model_id


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
    # True when the identity needs the model itself (a remote model: the fingerprint of its
    # vectors); `model_id` is then "" and the workspace settles it when it opens
    provisional: bool = False


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

    @property
    def provisional(self) -> bool:
        """Whether the identity is known only once the model is loaded (see ModelLoader)."""
        return self._loader is not None and self._loader.provisional

    def get(self, *, timeout: float | None = None) -> Encoder:
        """The encoder, loading it first if needed. With `timeout`, waiting for a load that
        another thread runs gives up after that long (TimeoutError): a search asks so."""
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError("the model is still loading")
        try:
            if self._encoder is None:
                assert self._loader is not None
                try:
                    self._encoder = self._loader.load()
                except BaseException as exc:
                    self.error = exc
                    raise
                self.error = None
            return self._encoder
        finally:
            self._lock.release()

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


def load_before_replacing(model: ModelHandle, model_id: str, name: str, store_dir: Path) -> None:
    """When the store at `store_dir` holds another model's vectors, load (and probe) this
    model before anything opens the store.

    Opening such a store moves it aside and starts an empty one; with a model that then
    failed to load, a user lost a working index for nothing. Raises ModelLoadError (one
    line, ending with the index that is kept), leaving the store as it is.
    """
    stored = stored_model_id(store_dir)
    if stored is None or stored == model_id:
        return
    try:
        model.get()
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, ModelLoadError):
            reason = f"could not load model {name!r}: {reason}"
        raise ModelLoadError(
            f"{reason}; the index built with {model_id_label(stored)} is kept"
        ) from exc
