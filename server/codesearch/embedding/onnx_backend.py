"""The "onnx-int8" backend: the same model, exported locally to ONNX and quantised to int8.

The first load exports (in a child process, so the server never holds torch's export-time
memory) the model's transformer from the weights already on disk (the packaged
all-MiniLM-L6-v2 by default), fuses it with ONNX Runtime's transformer optimiser, quantises
its weights dynamically (int8, per channel) and caches the file under
`<cache base>/models/<name>-<hash>/`. Later loads only open that file. The export is written
to a temporary folder and renamed into place, so a crash never leaves a half-written model,
and a cached file that does not load is deleted and exported again.

Vectors come out as the torch backend's do (same tokenizer, window, pooling, L2 norm), within
quantisation error, and carry their own model id so they never mix with fp32 ones in a store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from codesearch.config import CACHE_DIR_ENV, MODELS_DIR_ENV
from codesearch.embedding.model import ModelLoadError, ModelSpec, Vectors

log = logging.getLogger(__name__)

BACKEND = "onnx-int8"
MODEL_ID_SUFFIX = "+onnx-int8"
# Everything that shapes the exported file. Changing the recipe changes the cache folder, so
# an old export is never reused for a new recipe.
RECIPE = "torchscript-opset17;eager-attention;ort-bert-fusion;dynamic-int8-per-channel;v1"
MODEL_FILE = "model-int8.onnx"
_INSTALL_HINT = 'run `pip install onnxruntime onnx` or set the backend to "torch"'
_SUPPORTED_POOLING = ("mean", "cls")
_STALE_EXPORT_S = 3600.0
_EXPORT_TIMEOUT_S = 1800.0
_EXPORT_ERROR_PREFIX = "codesearch-export-error: "  # + the child's ModelLoadError as JSON
# Texts run through every fresh export and compared with the torch model's own vectors.
_PROBES = (
    "def add(a, b):\n    return a + b",
    "class LRUCache:\n    def get(self, key):\n        return self._data.get(key)",
    "function debounce(fn, ms) {\n  let t;\n"
    "  return () => { clearTimeout(t); t = setTimeout(fn, ms); };\n}",
    "parse the configuration file and report invalid settings",
)
_PROBE_MIN_COSINE = 0.95

IntArray = npt.NDArray[np.int64]


class _UnusableExport(Exception):
    """A cached export that does not open or does not match what it should be."""


def backend_model_id(spec: ModelSpec, backend: str) -> str:
    """The model id a backend's vectors carry, known without loading anything."""
    return spec.model_id + MODEL_ID_SUFFIX if backend == BACKEND else spec.model_id


def models_cache_dir() -> Path:
    """`$CODESEARCH_MODELS_DIR`, else `$CODESEARCH_CACHE_DIR/models`, else the user cache's.

    The models folder has its own variable so that many stores (one per test, say) can share
    one export instead of each paying for it.
    """
    models = os.environ.get(MODELS_DIR_ENV, "").strip()
    if models:
        return Path(models).expanduser()
    base = os.environ.get(CACHE_DIR_ENV, "").strip()
    if base:
        return Path(base).expanduser() / "models"
    import platformdirs

    return Path(platformdirs.user_cache_dir("codesearch", appauthor=False)) / "models"


def export_path(spec: ModelSpec) -> Path:
    """Where the int8 export of `spec` lives: one folder per (model identity, recipe)."""
    digest = hashlib.blake2b(f"{spec.model_id}\n{RECIPE}".encode(), digest_size=8).hexdigest()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", spec.name)[:40] or "model"
    return models_cache_dir() / f"{name}-{digest}" / MODEL_FILE


class OnnxInt8Model:
    """An int8 ONNX Runtime model with the same members as EmbeddingModel (the Encoder)."""

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
        if pooling not in _SUPPORTED_POOLING:
            raise ModelLoadError(f"unsupported pooling {pooling!r} for the {BACKEND} backend")
        self.spec = spec
        self.dimensions = dimensions
        self.max_tokens = max_tokens
        self.tokenizer: Any = tokenizer
        self.path = path
        self.exported = exported  # True when this load made the export (not the cache)
        self._session = session
        self._threads = threads  # the setting: 0 = ONNX Runtime's default (physical cores)
        self._narrow: Any = None  # the same model on one core fewer (see encode_ids)
        self._narrow_lock = threading.Lock()
        self._pooling = pooling
        self._inputs = {node.name for node in session.get_inputs()}
        self._output = session.get_outputs()[0].name
        pad = getattr(tokenizer, "pad_token_id", None)
        self._pad_id = int(pad) if pad is not None else 0
        self._tokenizer_lock = threading.Lock()  # fast tokenizers are not re-entrant

    @property
    def model_id(self) -> str:
        return backend_model_id(self.spec, BACKEND)

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

        The indexing pipeline tokenises while it fits text to the window; handing those
        ids over spares tokenising every text twice (0.6 s of a 28 s cold index of
        networkx, on the thread that feeds the model).

        `spare_core`: run on one core fewer, because the caller has other work running
        (parsing ahead). Sharing every core with it slowed the model by more than what
        the narrower run costs: on 2 cores the model runs 1.9x faster on two threads
        than on one, but lost ~0.8 s per CPU-second of parsing that ran beside it.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        for row in ids:
            if not 0 < len(row) <= self.max_tokens:
                raise ValueError(f"token ids must number 1 to {self.max_tokens}, not {len(row)}")
        session = self._narrow_session() if spare_core else self._session
        result = np.zeros((len(ids), self.dimensions), dtype=np.float32)
        # Length-sorted batches pad little; results go back in the caller's order.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            input_ids, mask = self._pad([ids[i] for i in chunk])
            result[chunk] = self._run(session, input_ids, mask)
        return result

    def _narrow_session(self) -> Any:
        """A second session of the same file on one core fewer; the model's own session
        when there is only one core (made on first use, then kept)."""
        with self._narrow_lock:
            if self._narrow is None:
                cores = self._threads if self._threads > 0 else physical_cores()
                if cores < 2:
                    self._narrow = self._session
                else:
                    ort = _require_onnxruntime()
                    self._narrow = ort.InferenceSession(
                        str(self.path),
                        _session_options(ort, cores - 1),
                        providers=["CPUExecutionProvider"],
                    )
            return self._narrow

    def _pad(self, rows: list[Sequence[int]]) -> tuple[IntArray, IntArray]:
        width = max(1, max(len(row) for row in rows))
        input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for r, row in enumerate(rows):
            input_ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        return input_ids, mask

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


# -- loading ----------------------------------------------------------------------------------


def _require_onnxruntime() -> Any:
    try:
        import onnxruntime  # type: ignore[import-untyped]
    except ImportError as exc:
        raise ModelLoadError(
            f"the {BACKEND} backend needs the onnxruntime package: {_INSTALL_HINT}"
        ) from exc
    return onnxruntime


def load_onnx_int8(spec: ModelSpec, threads: int = 0) -> OnnxInt8Model:
    """Open the cached int8 export of `spec`, exporting it first if needed (one time)."""
    ort = _require_onnxruntime()
    path = export_path(spec)
    if path.is_file():
        try:
            session, meta = _open_checked(ort, path, spec, threads)
        except _UnusableExport as exc:
            log.warning("cached ONNX export %s is unusable (%s); exporting it again", path, exc)
            path.unlink(missing_ok=True)
        else:
            return _loaded(_build(spec, session, meta, path, exported=False, threads=threads))

    export_int8(spec, path)
    try:
        session, meta = _open_checked(ort, path, spec, threads)
    except _UnusableExport as exc:
        raise ModelLoadError(f"the fresh ONNX export at {path} does not load: {exc}") from exc
    return _loaded(_build(spec, session, meta, path, exported=True, threads=threads))


def _loaded(model: OnnxInt8Model) -> OnnxInt8Model:
    # the same "loaded model" line as the torch backend's: tools and tests wait for it
    log.info(
        "loaded model %s (%d dimensions, %d-token window) from %s",
        model.name,
        model.dimensions,
        model.max_tokens,
        model.path,
    )
    return model


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


def _open_checked(
    ort: Any, path: Path, spec: ModelSpec, threads: int
) -> tuple[Any, dict[str, str]]:
    """Open the export and check it is the right one and runs; _UnusableExport if not."""
    try:
        session = ort.InferenceSession(
            str(path), _session_options(ort, threads), providers=["CPUExecutionProvider"]
        )
        meta: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)
    except Exception as exc:
        raise _UnusableExport(f"{type(exc).__name__}: {exc}") from exc
    for key, expected in (("codesearch.model_id", spec.model_id), ("codesearch.recipe", RECIPE)):
        if meta.get(key) != expected:
            raise _UnusableExport(f"{key} is {meta.get(key)!r}, expected {expected!r}")
    try:
        dims = int(meta["codesearch.dimensions"])
        int(meta["codesearch.max_tokens"])
        inputs = {node.name for node in session.get_inputs()}
        feed = {"input_ids": np.array([[101, 102]], dtype=np.int64)}
        feed["attention_mask"] = np.ones_like(feed["input_ids"])
        feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        out = session.run(None, {k: v for k, v in feed.items() if k in inputs})[0]
    except Exception as exc:
        raise _UnusableExport(f"probe run failed: {type(exc).__name__}: {exc}") from exc
    if out.shape[-1] != dims or not np.all(np.isfinite(out)):
        raise _UnusableExport(f"probe run gave shape {out.shape} or non-finite values")
    return session, meta


def _build(
    spec: ModelSpec,
    session: Any,
    meta: dict[str, str],
    path: Path,
    *,
    exported: bool,
    threads: int = 0,
) -> OnnxInt8Model:
    max_tokens = int(meta["codesearch.max_tokens"])
    return OnnxInt8Model(
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


def _load_tokenizer(spec: ModelSpec, max_tokens: int) -> Any:
    """The model's own tokenizer, with the window sentence-transformers gives it."""
    _offline_env(spec)
    try:
        from transformers import AutoTokenizer

        from codesearch.embedding.model import _quiet_transformers

        _quiet_transformers()  # no "sequence longer than the maximum" chatter on stderr

        return AutoTokenizer.from_pretrained(
            spec.source, local_files_only=spec.local, model_max_length=max_tokens
        )
    except Exception as exc:
        raise ModelLoadError(
            f"could not load the tokenizer of {spec.name!r} from {spec.source}: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _offline_env(spec: ModelSpec) -> None:
    if spec.local:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


# -- export -----------------------------------------------------------------------------------


def export_int8(spec: ModelSpec, target: Path) -> None:
    """Make the export at `target` in a child process; raises ModelLoadError.

    The export loads torch and the fp32 model and traces it: about 900 MiB that a
    long-running language server would otherwise keep for its whole life (RSS 1.5 GiB
    against 0.6 GiB on a 100k-entity workspace). The caller then opens the file (and
    the model's tokenizer) as it opens a cached export.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("exporting %s to ONNX int8 (one time, cached at %s)", spec.name, target)
    command = [sys.executable, "-m", __name__, json.dumps(dataclasses.asdict(spec)), str(target)]
    try:
        done = subprocess.run(
            command,
            cwd=target.parent,  # never a workspace folder: `-m` puts the cwd on sys.path
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_EXPORT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelLoadError(
            f"could not run the export of {spec.name!r} for the {BACKEND} backend "
            f'({type(exc).__name__}: {exc}); set the backend to "torch" to use the model as is'
        ) from exc
    if done.returncode != 0 or not target.is_file():
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        for line in reversed(lines):
            if line.startswith(_EXPORT_ERROR_PREFIX):  # the child's own ModelLoadError
                raise ModelLoadError(json.loads(line[len(_EXPORT_ERROR_PREFIX) :]))
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise ModelLoadError(
            f"the export of {spec.name!r} for the {BACKEND} backend failed ({reason}); "
            'set the backend to "torch" to use the model as is'
        )


def _export_here(spec: ModelSpec, target: Path) -> None:
    """Export, fuse, quantise and check `spec`'s model, then move it to `target` atomically.

    Runs in the child process export_int8 starts. Raises ModelLoadError.
    """
    try:
        import onnx
        from onnxruntime.quantization import (  # type: ignore[import-untyped]
            QuantType,
            quantize_dynamic,
        )
    except ImportError as exc:
        raise ModelLoadError(
            f"exporting for the {BACKEND} backend needs onnx and onnxruntime: {_INSTALL_HINT}"
        ) from exc

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_exports(target.parent)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    started = time.perf_counter()
    log.info("exporting %s to ONNX int8 (one time, cached at %s)", spec.name, target)
    try:
        with _quiet_export():
            st = _load_torch_model(spec)
            transformer, pooling = _check_architecture(st)
            tokenizer = st.tokenizer
            max_tokens = int(st.max_seq_length or 256)
            dims = int(st.get_embedding_dimension())
            fp32 = work / "model-fp32.onnx"
            _torch_export(transformer.auto_model, tokenizer, max_tokens, fp32)
            fused = _fuse(transformer.auto_model.config, fp32, work / "model-fused.onnx")
            int8 = work / "model-int8-raw.onnx"
            quantize_dynamic(
                fused,
                int8,
                per_channel=True,
                weight_type=QuantType.QInt8,
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
            proto = onnx.load(str(int8))
            onnx.helper.set_model_props(
                proto,
                {
                    "codesearch.model_id": spec.model_id,
                    "codesearch.recipe": RECIPE,
                    "codesearch.dimensions": str(dims),
                    "codesearch.max_tokens": str(max_tokens),
                    "codesearch.pooling": pooling,
                },
            )
            final = work / MODEL_FILE
            onnx.save(proto, str(final))
            _check_against_torch(spec, st, final, tokenizer, dims, max_tokens, pooling)
        with final.open("rb") as handle:
            os.fsync(handle.fileno())
        try:
            os.replace(final, target)
        except OSError:
            if not target.is_file():  # else another process finished the same export first
                raise
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"could not export {spec.name!r} for the {BACKEND} backend "
            f'({type(exc).__name__}: {exc}); set the backend to "torch" to use the model as is'
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("exported %s in %.1f s", spec.name, time.perf_counter() - started)


def _remove_stale_exports(folder: Path) -> None:
    """Temporary folders left by an export that crashed (a live one is younger)."""
    now = time.time()
    for old in folder.glob(".export-*"):
        try:
            if now - old.stat().st_mtime > _STALE_EXPORT_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


@contextmanager
def _quiet_export() -> Iterator[None]:
    """Tracer and quantiser chatter stays off the user's terminal and the LSP log."""

    def drop_onnxruntime(record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname

    root = logging.getLogger()
    root.addFilter(drop_onnxruntime)  # the quantiser warns through the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.removeFilter(drop_onnxruntime)


def _load_torch_model(spec: ModelSpec) -> Any:
    _offline_env(spec)
    try:
        from codesearch.embedding.model import _quiet_transformers

        _quiet_transformers()
        from sentence_transformers import SentenceTransformer

        # Eager attention traces to the MatMul/Softmax pattern the fusion recognises.
        model = SentenceTransformer(
            spec.source,
            device="cpu",
            local_files_only=spec.local,
            model_kwargs={"attn_implementation": "eager"},
        )
        model.eval()
        return model
    except Exception as exc:
        raise ModelLoadError(
            f"could not load {spec.name!r} from {spec.source} to export it: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _check_architecture(st: Any) -> tuple[Any, str]:
    """(Transformer module, pooling mode) if the model is Transformer -> Pooling [-> Normalize]."""
    kinds = [type(module).__name__ for module in st]
    if kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:]):
        raise ModelLoadError(
            f"the {BACKEND} backend supports Transformer + Pooling models, not {kinds}; "
            'set the backend to "torch"'
        )
    mode = st[1].pooling_mode
    if mode not in _SUPPORTED_POOLING or not hasattr(st[0], "auto_model"):
        raise ModelLoadError(
            f"the {BACKEND} backend supports mean or cls pooling, not {mode!r}; "
            'set the backend to "torch"'
        )
    return st[0], str(mode)


def _torch_export(bert: Any, tokenizer: Any, max_tokens: int, out: Path) -> None:
    import torch

    class KeywordForward(torch.nn.Module):  # type: ignore[misc]
        """transformers 5 models take keyword arguments only."""

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = tokenizer(
        list(_PROBES[:2]),
        padding=True,
        truncation=True,
        max_length=max_tokens,
        return_tensors="pt",
    )
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad():
        torch.onnx.export(
            KeywordForward(bert).eval(),
            (sample["input_ids"], sample["attention_mask"]),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=17,
            do_constant_folding=True,
            dynamo=False,
        )


def _fuse(config: Any, fp32: Path, out: Path) -> Path:
    """Attention/LayerNorm/GELU fusion for BERT-style encoders; others are quantised as is."""
    if getattr(config, "model_type", "") != "bert":
        return fp32
    from onnxruntime.transformers import optimizer  # type: ignore[import-untyped]

    optimized = optimizer.optimize_model(
        str(fp32),
        model_type="bert",
        num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
        hidden_size=int(getattr(config, "hidden_size", 0) or 0),
        opt_level=0,  # fusions only: nothing tied to this machine's CPU goes into the file
    )
    optimized.save_model_to_file(str(out))
    return out


def _check_against_torch(
    spec: ModelSpec,
    st: Any,
    path: Path,
    tokenizer: Any,
    dims: int,
    max_tokens: int,
    pooling: str,
) -> None:
    """A fresh export must give (nearly) the torch model's vectors, or it is not kept."""
    ort = _require_onnxruntime()
    session = ort.InferenceSession(
        str(path), _session_options(ort, 0), providers=["CPUExecutionProvider"]
    )
    candidate = OnnxInt8Model(
        spec, session, tokenizer, dimensions=dims, max_tokens=max_tokens, pooling=pooling, path=path
    )
    expected = np.asarray(
        st.encode(list(_PROBES), normalize_embeddings=True, show_progress_bar=False),
        dtype=np.float32,
    )
    cosines = (candidate.encode(list(_PROBES)) * expected).sum(axis=1)
    if not np.all(np.isfinite(cosines)) or float(cosines.min()) < _PROBE_MIN_COSINE:
        raise ModelLoadError(
            f"the int8 export of {spec.name!r} drifts too far from the model "
            f'(cosine {float(np.nanmin(cosines)):.3f}); set the backend to "torch"'
        )


def _export_main(argv: list[str]) -> int:
    """`python -m codesearch.embedding.onnx_backend SPEC_JSON TARGET`: the export child."""
    spec = ModelSpec(**json.loads(argv[0]))
    try:
        _export_here(spec, Path(argv[1]))
    except ModelLoadError as exc:
        print(_EXPORT_ERROR_PREFIX + json.dumps(str(exc)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_export_main(sys.argv[1:]))
