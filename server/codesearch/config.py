"""Typed settings with defaults; invalid values become clear messages, never crashes."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codesearch.embedding.registry import BACKEND_NAMES
from codesearch.locations import CACHE_DIR_ENV

DEFAULT_MAX_FILE_SIZE = 1_048_576
DEFAULT_BATCH_SIZE = 32
MODEL_ENV = "CODESEARCH_MODEL"
# int8 is the default: about twice the fp32 throughput on CPU for the same search quality
# (pooled MRR@10 0.613 against 0.614 on benchmarks/quality).
DEFAULT_BACKEND = "onnx-int8"


@dataclass(frozen=True)
class Settings:
    """Everything a user may tune. Empty strings mean "use the default"."""

    enable: bool = True
    model: str = ""
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    batch_size: int = DEFAULT_BATCH_SIZE
    store_dir: str = ""
    threads: int = 0
    backend: str = DEFAULT_BACKEND  # "onnx-int8" (quantised) or "torch" (fp32, as packaged)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_env_defaults(self) -> Settings:
        """Fill empty model/store settings from the environment (CLI and server alike)."""
        return dataclasses.replace(
            self,
            model=self.model or os.environ.get(MODEL_ENV, ""),
            store_dir=self.store_dir or os.environ.get(CACHE_DIR_ENV, ""),
        )


# camelCase key (LSP / VS Code) -> (field name, validator)
def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false")


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    raise ValueError("must be a string")


def _globs(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(v for v in value if v.strip())
    if isinstance(value, Mapping):  # VS Code's files.exclude style: {"glob": true}
        return tuple(k for k, on in value.items() if on is True and isinstance(k, str))
    raise ValueError("must be a list of glob strings")


def _int_range(low: int, high: int) -> Any:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a whole number between {low} and {high}")
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"must be a whole number between {low} and {high}")
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high} (got {number})")
        return number

    return check


def _backend(value: Any) -> str:
    if isinstance(value, str) and value.strip() in BACKEND_NAMES:
        return value.strip()
    raise ValueError(f"must be one of {', '.join(BACKEND_NAMES)}")


_FIELDS: dict[str, tuple[str, Any]] = {
    "enable": ("enable", _bool),
    "model": ("model", _str),
    "exclude": ("exclude", _globs),
    "maxFileSize": ("max_file_size", _int_range(1024, 1 << 31)),
    "batchSize": ("batch_size", _int_range(1, 4096)),
    "storeDir": ("store_dir", _str),
    "threads": ("threads", _int_range(0, 1024)),
    "backend": ("backend", _backend),
}
_SNAKE = {name: key for key, (name, _) in _FIELDS.items()}
# keys the VS Code extension sends for itself; accepted silently
_CLIENT_ONLY = {"server", "logLevel", "trace"}


def parse_settings(raw: Any) -> tuple[Settings, list[str]]:
    """Settings from client data, plus one message per value that was rejected.

    Accepts camelCase (LSP) or snake_case keys; a bad value keeps its default so a typo
    in one setting never disables the rest.
    """
    if raw is None:
        return Settings(), []
    if not isinstance(raw, Mapping):
        return Settings(), [f"Codesearch settings must be an object, got {type(raw).__name__}"]
    if isinstance(raw.get("settings"), Mapping):
        raw = raw["settings"]
    values: dict[str, Any] = {}
    errors: list[str] = []
    for key, value in raw.items():
        spec = _FIELDS.get(key) or (_FIELDS.get(_SNAKE[key]) if key in _SNAKE else None)
        if spec is None:
            if key not in _CLIENT_ONLY:
                errors.append(f"codesearch.{key}: unknown setting, ignored")
            continue
        name, check = spec
        if value is None:
            continue
        try:
            values[name] = check(value)
        except ValueError as exc:
            errors.append(f"codesearch.{_SNAKE[name]}: {exc}; using the default")
    return Settings(**values), errors
