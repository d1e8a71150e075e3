"""The one-time export behind the "onnx-int8" backend (run in a child process).

The first load exports the model's transformer from the weights already on disk (the
packaged all-MiniLM-L6-v2 by default), fuses it with ONNX Runtime's transformer optimiser,
quantises its weights dynamically (int8, per channel), checks its vectors against the torch
model's, and writes the file where onnx_backend.export_path says. The export goes to a
temporary folder and is renamed into place, so a crash never leaves a half-written model.
It runs in a child process so the server never holds torch's export-time memory.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from codesearch.embedding.huggingface import prepare_to_load
from codesearch.embedding.onnx_inference import (
    BACKEND,
    INSTALL_HINT,
    MODEL_FILE,
    SUPPORTED_POOLING,
    OnnxInt8Encoder,
    export_metadata,
    new_session,
)
from codesearch.embedding.types import ModelLoadError, ModelSpec

log = logging.getLogger(__name__)

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
            f"exporting for the {BACKEND} backend needs onnx and onnxruntime: {INSTALL_HINT}"
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
            onnx.helper.set_model_props(proto, export_metadata(spec, dims, max_tokens, pooling))
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
    prepare_to_load(spec)
    try:
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
    if mode not in SUPPORTED_POOLING or not hasattr(st[0], "auto_model"):
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
    session = new_session(path, 0)
    candidate = OnnxInt8Encoder(
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
    """`python -m codesearch.embedding.onnx_export SPEC_JSON TARGET`: the export child."""
    spec = ModelSpec(**json.loads(argv[0]))
    try:
        _export_here(spec, Path(argv[1]))
    except ModelLoadError as exc:
        print(_EXPORT_ERROR_PREFIX + json.dumps(str(exc)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(_export_main(sys.argv[1:]))
