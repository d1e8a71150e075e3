"""The model registry: which backends exist, what identity their vectors carry, and the one
loaded encoder per (model identity, backend, threads) in this process.

Everything that changes the loaded model is in the key: a second workspace with the same
settings shares the first one's encoder, and a changed `threads` setting gets an encoder that
runs on that many threads instead of the one loaded before.

Adding a backend is one module that provides a loader and a model-id function (see
torch_backend, onnx_backend) and one entry in BACKENDS; a backend that prepares the model
for the machine on its first load (an export, a compile) also says whether that is done.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from codesearch.embedding.hub import locate_hub_model
from codesearch.embedding.onnx_backend import EXPORT_SECONDS, export_exists, load_onnx_int8
from codesearch.embedding.onnx_inference import onnx_int8_model_id
from codesearch.embedding.resolve import resolve_model
from codesearch.embedding.torch_backend import load_torch, torch_model_id
from codesearch.embedding.types import Encoder, ModelLoadError, ModelSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backend:
    """How one backend loads a model, and the identity of its vectors."""

    # (spec, threads; 0 = the runtime's default) -> the loaded encoder; raises ModelLoadError
    load: Callable[[ModelSpec, int], Encoder]
    # the model id its vectors carry, known without loading anything (checked against a store)
    model_id: Callable[[ModelSpec], str]
    # whether the one-time preparation for this machine is done (cached), asked without
    # loading: a first load that exports or compiles says so instead of seeming to hang
    is_prepared: Callable[[ModelSpec], bool] = lambda spec: True
    preparation_seconds: float = 0.0  # about how long that preparation takes here


BACKENDS: dict[str, Backend] = {
    "onnx-int8": Backend(
        load_onnx_int8,
        onnx_int8_model_id,
        is_prepared=export_exists,
        preparation_seconds=EXPORT_SECONDS,
    ),
    "torch": Backend(load_torch, torch_model_id),
}
BACKEND_NAMES = tuple(BACKENDS)


def _backend(name: str) -> Backend:
    found = BACKENDS.get(name)
    if found is None:
        raise ModelLoadError(f"unknown model backend {name!r} (one of {', '.join(BACKENDS)})")
    return found


def vector_model_id(spec: ModelSpec, backend: str) -> str:
    """The model id that `backend`'s vectors of `spec` carry, known without loading."""
    return _backend(backend).model_id(spec)


def needs_preparation(spec: ModelSpec, backend: str) -> bool:
    """Whether loading `spec` on `backend` first prepares it for this machine (one time)."""
    return not _backend(backend).is_prepared(spec)


def preparation_seconds(spec: ModelSpec, backend: str) -> float | None:
    """None when loading `spec` needs no preparation; else about how long it takes."""
    return _backend(backend).preparation_seconds if needs_preparation(spec, backend) else None


_loaded: dict[tuple[str, str, int], Encoder] = {}
_loaded_lock = threading.Lock()


def load_encoder(spec: str | ModelSpec = "", *, backend: str, threads: int = 0) -> Encoder:
    """The encoder a setting names, loaded once per (model identity, backend, threads) and
    probed before it is handed out.

    `spec` is a ModelSpec or a model setting ("" = the packaged default). A hub name loads
    from its cached snapshot when there is one (locate_hub_model). Raises ModelLoadError
    with what was tried and what to fix.
    """
    resolved = spec if isinstance(spec, ModelSpec) else resolve_model(spec)
    entry = _backend(backend)
    key = (resolved.model_id, backend, threads)
    with _loaded_lock:
        if key not in _loaded:
            encoder = entry.load(locate_hub_model(resolved), threads)
            probe(encoder)
            # tools and tests wait for this line: every backend writes it the same way
            log.info(
                "loaded model %s (%d dimensions, %d-token window, %s)",
                encoder.name,
                encoder.dimensions,
                encoder.max_tokens,
                f"{threads} threads" if threads > 0 else "default threads",
            )
            _loaded[key] = encoder
        return _loaded[key]


PROBE_TEXT = "def add(a, b):\n    return a + b"


def probe(encoder: Encoder) -> None:
    """Encode one text and check the vector: a model that loads but gives no usable vectors
    (wrong shape, NaN, zero) must fail here, before a store is switched over to it."""
    try:
        vectors = np.asarray(encoder.encode([PROBE_TEXT], batch_size=1), dtype=np.float32)
    except Exception as exc:
        raise ModelLoadError(
            f"model {encoder.name!r} loads but cannot embed a probe text "
            f"({type(exc).__name__}: {exc})"
        ) from exc
    dims = encoder.dimensions
    problem = None
    if dims < 1 or vectors.shape != (1, dims):
        problem = f"shape {vectors.shape}, expected (1, {dims})"
    elif not np.all(np.isfinite(vectors)):
        problem = "NaN or infinite values"
    elif abs(float(np.linalg.norm(vectors[0])) - 1.0) > 1e-3:
        problem = f"norm {float(np.linalg.norm(vectors[0])):.3g}, expected 1"
    if problem is not None:
        raise ModelLoadError(f"model {encoder.name!r} gives unusable vectors ({problem})")


def model_id_label(model_id: str) -> str:
    """A stored model identity as users know the model: "all-MiniLM-L6-v2 (onnx-int8)"
    for "all-MiniLM-L6-v2:<fingerprint>+onnx-int8", "org/name" for "hub:org/name"."""
    weights, _, backend = model_id.partition("+")
    if weights.startswith("hub:"):
        name = weights[len("hub:") :]
    else:
        name = weights.rsplit(":", 1)[0] if ":" in weights else weights
    return f"{name} ({backend})" if backend else name
