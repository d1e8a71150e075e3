"""The "onnx-int8" backend: the same model, exported locally to ONNX and quantised to int8.

A load opens the cached export under `<models dir>/<name>-<hash>/` (onnx_inference runs
it); the first load makes it (onnx_export, once). A cached file that does not load is
deleted and exported again.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from codesearch.embedding.onnx_export import export_int8
from codesearch.embedding.onnx_inference import (
    MODEL_FILE,
    RECIPE,
    OnnxInt8Encoder,
    UnusableExport,
    open_export,
    require_onnxruntime,
)
from codesearch.embedding.types import ModelLoadError, ModelSpec
from codesearch.locations import models_dir

log = logging.getLogger(__name__)

# About how long the first load's export takes (a child process imports torch, traces,
# quantises and checks the result against torch): ~15 CPU-seconds, 20-50 s of wall time on
# a busy 2-core machine. Only shown to users, as "one time, ~30 s".
EXPORT_SECONDS = 30.0


def export_path(spec: ModelSpec) -> Path:
    """Where the int8 export of `spec` lives: one folder per (model identity, recipe)."""
    digest = hashlib.blake2b(f"{spec.model_id}\n{RECIPE}".encode(), digest_size=8).hexdigest()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", spec.name)[:40] or "model"
    return models_dir() / f"{name}-{digest}" / MODEL_FILE


def export_exists(spec: ModelSpec) -> bool:
    """Whether the int8 export of `spec` is cached (else the next load makes it)."""
    return export_path(spec).is_file()


def load_onnx_int8(spec: ModelSpec, threads: int = 0) -> OnnxInt8Encoder:
    """Open the cached int8 export of `spec`, exporting it first if needed (one time)."""
    require_onnxruntime()
    path = export_path(spec)
    if path.is_file():
        try:
            encoder = open_export(spec, path, threads, exported=False)
        except UnusableExport as exc:
            log.warning("cached ONNX export %s is unusable (%s); exporting it again", path, exc)
            path.unlink(missing_ok=True)
        else:
            log.debug("opened the cached export %s", path)
            return encoder

    export_int8(spec, path)
    try:
        return open_export(spec, path, threads, exported=True)
    except UnusableExport as exc:
        raise ModelLoadError(f"the fresh ONNX export at {path} does not load: {exc}") from exc
