"""Running the int8 ONNX export: sessions, their options, and the OnnxInt8Encoder.

Vectors come out as the torch backend's do (same tokenizer, window, pooling, L2 norm), within
quantisation error, and carry their own model id so they never mix with fp32 ones in a store.
This module also says what a valid export is (the metadata the export writes into the file
and an open checks), so the writer (onnx_export) and the reader agree by construction.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.embedding.huggingface import prepare_environment, prepare_to_load
from codesearch.embedding.token_batches import IntArray, check_rows, length_sorted_chunks, pad
from codesearch.embedding.tokenizer_json import JsonTokenizer
from codesearch.embedding.types import ModelLoadError, ModelSpec, Vectors

log = logging.getLogger(__name__)

BACKEND = "onnx-int8"
# Everything that shapes the exported file. Changing the recipe changes the cache folder, so
# an old export is never reused for a new recipe.
RECIPE = "torchscript-opset17;eager-attention;ort-bert-fusion;dynamic-int8-per-channel;v1"
MODEL_FILE = "model-int8.onnx"
INSTALL_HINT = 'run `pip install onnxruntime onnx` or set the backend to "torch"'
SUPPORTED_POOLING = ("mean", "cls")


def onnx_int8_model_id(spec: ModelSpec) -> str:
    """Int8 vectors differ from the model's fp32 ones: they never share a store."""
    return f"{spec.model_id}+{BACKEND}"


def export_metadata(
    spec: ModelSpec, dimensions: int, max_tokens: int, pooling: str
) -> dict[str, str]:
    """What the export writes into the file, and what `open_export` checks and reads back."""
    return {
        "codesearch.model_id": spec.model_id,
        "codesearch.recipe": RECIPE,
        "codesearch.dimensions": str(dimensions),
        "codesearch.max_tokens": str(max_tokens),
        "codesearch.pooling": pooling,
    }


class UnusableExport(Exception):
    """A cached export that does not open or does not match what it should be."""


def require_onnxruntime() -> Any:
    try:
        import onnxruntime  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ModelLoadError(
            f"the {BACKEND} backend needs the onnxruntime package: {INSTALL_HINT}"
        ) from exc
    return onnxruntime


class OnnxInt8Encoder:
    """An int8 ONNX Runtime model (the Encoder), on `threads` cores (0: all physical ones)."""

    takes_token_ids = True  # the pipeline's prepared ids are this model's tokens

    def __init__(
        self,
        spec: ModelSpec,
        session: Any,
        tokenizer: Any,
        *,
        dimensions: int,
        max_tokens: int,
        pooling: str,
        path: Path,
        exported: bool = False,
        threads: int = 0,
    ) -> None:
        if pooling not in SUPPORTED_POOLING:
            raise ModelLoadError(f"unsupported pooling {pooling!r} for the {BACKEND} backend")
        self.spec = spec
        self.dimensions = dimensions
        self.max_tokens = max_tokens
        self.tokenizer: Any = tokenizer
        self.path = path
        self.exported = exported  # True when this load made the export (not the cache)
        self.threads = threads  # the setting: 0 = ONNX Runtime's default (physical cores)
        self._session = session
        self._narrow: Any = None  # the same model on one core fewer (see encode_ids)
        self._narrow_lock = threading.Lock()
        self._pooling = pooling
        self._inputs = {node.name for node in session.get_inputs()}
        self._output = session.get_outputs()[0].name
        pad_id = getattr(tokenizer, "pad_token_id", None)
        self._pad_id = int(pad_id) if pad_id is not None else 0
        # a transformers tokenizer (the fallback) is not re-entrant; JsonTokenizer is
        self._tokenizer_lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return onnx_int8_model_id(self.spec)

    @property
    def name(self) -> str:
        return f"{self.spec.name} ({BACKEND})"

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._tokenizer_lock:
            encoded = self.tokenizer(
                list(texts),
                truncation=True,
                max_length=self.max_tokens,
                padding=False,
                return_attention_mask=False,
                return_token_type_ids=False,
            )
        return self.encode_ids(encoded["input_ids"], batch_size=batch_size)

    def encode_ids(
        self, ids: Sequence[Sequence[int]], batch_size: int = 32, *, spare_core: bool = False
    ) -> Vectors:
        """Vectors for texts already tokenised (special tokens included), as `encode` gives.

        Handing over the ids the pipeline built spares tokenising every text twice (0.6 s
        of a 28 s cold index of networkx, on the thread that feeds the model).

        `spare_core`: run on one core fewer, because the caller has other work running
        (parsing ahead). Sharing every core with it slowed the model by more than what
        the narrower run costs: on 2 cores the model runs 1.9x faster on two threads
        than on one, but lost ~0.8 s per CPU-second of parsing that ran beside it.
        """
        check_rows(ids, self.max_tokens, batch_size)
        session = self._narrow_session() if spare_core else self._session
        result = np.zeros((len(ids), self.dimensions), dtype=np.float32)
        for chunk in length_sorted_chunks(ids, batch_size):
            input_ids, mask = pad([ids[i] for i in chunk], self._pad_id)
            result[chunk] = self._run(session, input_ids, mask)
        return result

    def _narrow_session(self) -> Any:
        """A second session of the same file on one core fewer; the model's own session
        when there is only one core (made on first use, then kept)."""
        with self._narrow_lock:
            if self._narrow is None:
                cores = self.threads if self.threads > 0 else physical_cores()
                if cores < 2:
                    self._narrow = self._session
                else:
                    self._narrow = new_session(self.path, cores - 1)
            return self._narrow

    def _run(self, session: Any, input_ids: IntArray, mask: IntArray) -> Vectors:
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        feed = {k: v for k, v in feed.items() if k in self._inputs}
        hidden = np.asarray(session.run([self._output], feed)[0], dtype=np.float32)
        if self._pooling == "cls":
            pooled = hidden[:, 0, :]
        else:
            weights = mask[:, :, None].astype(np.float32)
            counts = np.maximum(weights.sum(axis=1), 1e-9)
            pooled = (hidden * weights).sum(axis=1) / counts
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(pooled / norms, dtype=np.float32)


# -- sessions ---------------------------------------------------------------------------------


def new_session(path: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session of the file at `path` on `threads` cores (0: default)."""
    ort = require_onnxruntime()
    return ort.InferenceSession(
        str(path), _session_options(ort, threads), providers=["CPUExecutionProvider"]
    )


_allocator_lock = threading.Lock()
_allocator_shared: bool | None = None  # None: not tried yet in this process


def _share_allocator(ort: Any) -> bool:
    """One CPU memory arena for every session of the process, registered on first use.

    Each session otherwise grows its own arena to its largest batch (~130 MiB here); the
    second, one-core-fewer session (encode_ids) then cost 220 MiB of RSS instead of 35.
    """
    global _allocator_shared
    with _allocator_lock:
        if _allocator_shared is None:
            try:
                info = ort.OrtMemoryInfo(
                    "Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT
                )
                ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))
                _allocator_shared = True
            except Exception:  # an older or unusual onnxruntime: each session keeps its own
                log.debug("could not register a shared ONNX Runtime allocator", exc_info=True)
                _allocator_shared = False
        return _allocator_shared


def _session_options(ort: Any, threads: int) -> Any:
    options = ort.SessionOptions()
    if _share_allocator(ort):
        options.add_session_config_entry("session.use_env_allocators", "1")
    options.intra_op_num_threads = max(0, threads)  # 0 = ONNX Runtime's default (all cores)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads sleep instead of spinning: the editor keeps its cores, and on a
    # busy machine this measured faster, not slower.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def physical_cores() -> int:
    """Cores this process may run on, counting each physical core once (Linux reads the
    CPU topology; elsewhere, or if that fails, every logical CPU counts)."""
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)
    seen: set[tuple[str, str]] = set()
    for cpu in allowed:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return max(1, len(allowed))
        seen.add((package, core))
    return max(1, len(seen))


# -- opening an export ------------------------------------------------------------------------


def open_export(spec: ModelSpec, path: Path, threads: int, *, exported: bool) -> OnnxInt8Encoder:
    """The encoder of the export at `path`: UnusableExport if the file does not open, is
    another model's or recipe's, or does not run; ModelLoadError if the tokenizer fails."""
    session, meta = _open_checked(spec, path, threads)
    max_tokens = int(meta["codesearch.max_tokens"])
    return OnnxInt8Encoder(
        spec,
        session,
        _load_tokenizer(spec, max_tokens),
        dimensions=int(meta["codesearch.dimensions"]),
        max_tokens=max_tokens,
        pooling=meta.get("codesearch.pooling", "mean"),
        path=path,
        exported=exported,
        threads=threads,
    )


def _open_checked(spec: ModelSpec, path: Path, threads: int) -> tuple[Any, dict[str, str]]:
    """Open the export and check it is the right one and runs; UnusableExport if not."""
    try:
        session = new_session(path, threads)
        meta: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise UnusableExport(f"{type(exc).__name__}: {exc}") from exc
    for key, expected in (("codesearch.model_id", spec.model_id), ("codesearch.recipe", RECIPE)):
        if meta.get(key) != expected:
            raise UnusableExport(f"{key} is {meta.get(key)!r}, expected {expected!r}")
    try:
        dims = int(meta["codesearch.dimensions"])
        int(meta["codesearch.max_tokens"])
        inputs = {node.name for node in session.get_inputs()}
        feed = {"input_ids": np.array([[101, 102]], dtype=np.int64)}
        feed["attention_mask"] = np.ones_like(feed["input_ids"])
        feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        out = session.run(None, {k: v for k, v in feed.items() if k in inputs})[0]
    except Exception as exc:
        raise UnusableExport(f"probe run failed: {type(exc).__name__}: {exc}") from exc
    if out.shape[-1] != dims or not np.all(np.isfinite(out)):
        raise UnusableExport(f"probe run gave shape {out.shape} or non-finite values")
    return session, meta


def _load_tokenizer(spec: ModelSpec, max_tokens: int) -> Any:
    """The model's own tokenizer, with the window sentence-transformers gives it.

    A local model's tokenizer.json loads without transformers (JsonTokenizer: 0.1 s where
    importing transformers took seconds of every server start); a hub model, or a folder
    without that file, gets transformers' AutoTokenizer. ModelLoadError if neither loads.
    """
    prepare_environment(spec)
    if spec.local:
        found = JsonTokenizer.from_model_dir(Path(spec.source), max_tokens)
        if found is not None:
            return found
    return _load_transformers_tokenizer(spec, max_tokens)


def _load_transformers_tokenizer(spec: ModelSpec, max_tokens: int) -> Any:
    """Transformers' AutoTokenizer for the model (imports transformers: seconds)."""
    prepare_to_load(spec)  # also: no "sequence longer than the maximum" chatter on stderr
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(
            spec.source, local_files_only=spec.local, model_max_length=max_tokens
        )
    except Exception as exc:
        raise ModelLoadError(
            f"could not load the tokenizer of {spec.name!r} from {spec.source}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
