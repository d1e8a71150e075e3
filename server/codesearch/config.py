"""Typed settings with defaults; invalid values become clear messages, never crashes.

`SETTINGS` declares every `codesearch.*` setting once (key, type, default, description,
scope, limits). The parsing table below is derived from it, and so are the VS Code
manifest's `contributes.configuration`, the extension's defaults and PROTOCOL.md's table
(`make contract` writes them; tests/unit/test_contract.py fails when one is stale).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from codesearch.embedding.registry import BACKEND_NAMES
from codesearch.embedding.remote import (
    API_KEY_ENV,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_REQUEST_BATCH_SIZE,
)
from codesearch.locations import CACHE_DIR_ENV

DEFAULT_MAX_FILE_SIZE = 1_048_576
DEFAULT_BATCH_SIZE = 32
MODEL_ENV = "CODESEARCH_MODEL"
EMBED_URL_ENV = "CODESEARCH_EMBED_URL"
EMBED_MODEL_ENV = "CODESEARCH_EMBED_MODEL"
SHARED_CACHE_ENV = "CODESEARCH_SHARED_CACHE"
SHARED_CACHE_PREFIX_ENV = "CODESEARCH_SHARED_CACHE_PREFIX"
# int8 is the default: about twice the fp32 throughput on CPU for the same search quality
# (pooled MRR@10 0.613 against 0.614 on benchmarks/quality).
DEFAULT_BACKEND = "onnx-int8"
LOG_LEVELS = ("error", "warning", "info", "debug")  # `codesearch serve --log-level`

SettingType = Literal["boolean", "string", "integer", "array"]
SettingScope = Literal["application", "machine", "machine-overridable", "window", "resource"]


@dataclass(frozen=True)
class SettingSpec:
    """One `codesearch.<key>` setting, as the editor shows it and the server reads it.

    `field` names the `Settings` attribute the server fills from it; a spec without one is
    read by the editor extension only (its interpreter, its log level, its agent tools).
    `restarts_server`: changing such a client-only setting restarts the server, because the
    server's command line comes from it; the others take effect in the extension alone.
    """

    key: str  # camelCase, dotted below "codesearch."
    type: SettingType
    default: Any
    description: str  # Markdown, one paragraph
    scope: SettingScope
    field: str | None = None
    enum: tuple[str, ...] = ()
    enum_descriptions: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    env: str | None = None  # the environment variable that fills it when it is empty
    restarts_server: bool = False

    @property
    def read_by_server(self) -> bool:
        return self.field is not None


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "enable",
        "boolean",
        True,
        "Index the workspace and answer searches. When off, the server stays idle and "
        "searches return nothing.",
        "window",
        field="enable",
    ),
    SettingSpec(
        "model",
        "string",
        "",
        "Embedding model: a sentence-transformers model name or a local path. Empty uses the "
        "packaged all-MiniLM-L6-v2 (offline). A hub name is downloaded once by the server.",
        "window",
        field="model",
    ),
    SettingSpec(
        "exclude",
        "array",
        [],
        "Extra gitignore-style globs of files and folders to leave out of the index, for "
        "example `generated/**` or `*.min.js`. `.gitignore` rules already apply.",
        "resource",
        field="exclude",
    ),
    SettingSpec(
        "maxFileSize",
        "integer",
        DEFAULT_MAX_FILE_SIZE,
        "Files larger than this many bytes are skipped (counted in the status, not reported "
        "as problems).",
        "resource",
        field="max_file_size",
        minimum=1024,
        maximum=1 << 31,
    ),
    SettingSpec(
        "batchSize",
        "integer",
        DEFAULT_BATCH_SIZE,
        "Number of functions and classes embedded per model call. Smaller values use less "
        "memory; larger ones can be faster.",
        "window",
        field="batch_size",
        minimum=1,
        maximum=4096,
    ),
    SettingSpec(
        "storeDir",
        "string",
        "",
        "Base folder for the index stores (one per workspace folder). Empty uses the user "
        "cache folder, so nothing is written into your repository.",
        "machine-overridable",
        field="store_dir",
    ),
    SettingSpec(
        "threads",
        "integer",
        0,
        "CPU threads used for embedding. 0 uses all cores.",
        "machine-overridable",
        field="threads",
        minimum=0,
        maximum=1024,
    ),
    SettingSpec(
        "backend",
        "string",
        DEFAULT_BACKEND,
        "Inference backend for embedding. `onnx-int8` uses an int8-quantised model that the "
        "server exports once, locally, from the packaged weights (about 10 s the first time, "
        "then cached in the user cache folder; no network): roughly twice the embedding speed "
        "at the same search quality. `torch` runs the fp32 model unchanged. Changing it "
        "re-embeds the workspace (vectors of different backends are not mixed).",
        "window",
        field="backend",
        enum=BACKEND_NAMES,
        enum_descriptions=(
            "ONNX Runtime with the int8-quantised model: roughly twice the embedding speed on "
            "the CPU at the same search quality.",
            "PyTorch with the fp32 model, unchanged.",
        ),
    ),
    SettingSpec(
        "embedUrl",
        "string",
        "",
        "An OpenAI-compatible embedding endpoint to embed with instead of the local model: "
        "the API base, for example `http://gpu-box:8080/v1` (Text Embeddings Inference, vLLM, "
        "Infinity, Ollama and LM Studio all serve `/v1/embeddings`). Empty embeds on this "
        "machine, offline. Source text is sent to this server. Also "
        f"`{EMBED_URL_ENV}`. User settings only: a workspace cannot set it.",
        "machine",
        field="embed_url",
        env=EMBED_URL_ENV,
    ),
    SettingSpec(
        "embedModel",
        "string",
        "",
        "The model name the embedding endpoint serves (its `model` field), for example "
        "`BAAI/bge-small-en-v1.5` or `nomic-embed-text`. Needed with `embedUrl`. Also "
        f"`{EMBED_MODEL_ENV}`.",
        "window",
        field="embed_model",
        env=EMBED_MODEL_ENV,
    ),
    SettingSpec(
        "embedApiKeyEnv",
        "string",
        "",
        "The name of the environment variable that holds the embedding endpoint's API key; "
        f"empty uses `{API_KEY_ENV}`. The key itself is never a setting: it is read from "
        "the server's environment and sent only in the request header.",
        "machine",
        field="embed_api_key_env",
    ),
    SettingSpec(
        "embedBatchSize",
        "integer",
        DEFAULT_REQUEST_BATCH_SIZE,
        "Texts per request to the embedding endpoint. Lower it if the server refuses large "
        "requests (HTTP 413; Text Embeddings Inference accepts 32 unless started with a "
        "larger `--max-client-batch-size`).",
        "window",
        field="embed_batch_size",
        minimum=1,
        maximum=2048,
    ),
    SettingSpec(
        "embedConcurrency",
        "integer",
        DEFAULT_MAX_CONCURRENCY,
        "Requests in flight at once to the embedding endpoint: enough to keep a GPU server "
        "busy while answers travel.",
        "window",
        field="embed_concurrency",
        minimum=1,
        maximum=64,
    ),
    SettingSpec(
        "sharedCache",
        "string",
        "",
        "A shared vector cache for a team (Redis or Valkey, single node or cluster): "
        "`redis://host:6379/0`, `rediss://` (TLS) or `unix:///path/to/socket`. Vectors another "
        "machine (or CI) computed are taken from it instead of embedding again, and new ones "
        "are written back. Only content hashes and vectors go there, never source text or "
        f"paths. Also `{SHARED_CACHE_ENV}`. User settings only: a workspace cannot set it.",
        "machine",
        field="shared_cache",
        env=SHARED_CACHE_ENV,
    ),
    SettingSpec(
        "sharedCachePrefix",
        "string",
        "",
        "A team's namespace in the shared vector cache (letters, digits, `.`, `_`, `-`), so "
        "several teams can share one server. Also "
        f"`{SHARED_CACHE_PREFIX_ENV}`.",
        "window",
        field="shared_cache_prefix",
        env=SHARED_CACHE_PREFIX_ENV,
    ),
    SettingSpec(
        "server.pythonPath",
        "string",
        "",
        "Python interpreter (3.10 or newer) that runs the Codesearch language server. Empty "
        "uses the active environment of the Python extension when it is installed, else "
        "`python3` on the PATH. Changing it restarts the server.",
        "machine-overridable",
        restarts_server=True,
    ),
    SettingSpec(
        "logLevel",
        "string",
        "info",
        "Log level of the language server (its `--log-level`); the logs appear in the "
        "**Codesearch** output channel. Changing it restarts the server.",
        "window",
        enum=LOG_LEVELS,
        restarts_server=True,
    ),
    SettingSpec(
        "agentTools.enable",
        "boolean",
        True,
        "Offer the index to AI agents in VS Code: the `#codesearch` language model tool (chat "
        "and agent mode, answered by the running server) and the Codesearch MCP server "
        "definition (`codesearch mcp` on the same interpreter). Off: neither is offered.",
        "window",
    ),
)
SERVER_SETTINGS: tuple[SettingSpec, ...] = tuple(s for s in SETTINGS if s.read_by_server)
CLIENT_SETTINGS: tuple[SettingSpec, ...] = tuple(s for s in SETTINGS if not s.read_by_server)


@dataclass(frozen=True)
class Settings:
    """Everything a user may tune. Empty strings mean "use the default".

    The defaults equal those of `SETTINGS` (tests/unit/test_contract.py checks it).
    """

    enable: bool = True
    model: str = ""
    exclude: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    batch_size: int = DEFAULT_BATCH_SIZE
    store_dir: str = ""
    threads: int = 0
    backend: str = DEFAULT_BACKEND  # "onnx-int8" (quantised) or "torch" (fp32, as packaged)
    # URLs may hold credentials (user:password@): kept out of the repr, so no log shows them
    embed_url: str = field(default="", repr=False)
    embed_model: str = ""
    embed_api_key_env: str = ""  # "" = API_KEY_ENV; the key itself is never a setting
    embed_batch_size: int = DEFAULT_REQUEST_BATCH_SIZE
    embed_concurrency: int = DEFAULT_MAX_CONCURRENCY
    shared_cache: str = field(default="", repr=False)
    shared_cache_prefix: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def with_env_defaults(self) -> Settings:
        """Fill empty settings from the environment variables they name (CLI and server
        alike): the model, the store folder, the embedding endpoint, the shared cache."""
        filled: dict[str, Any] = {
            "model": self.model or os.environ.get(MODEL_ENV, ""),
            "store_dir": self.store_dir or os.environ.get(CACHE_DIR_ENV, ""),
        }
        for spec in SERVER_SETTINGS:
            if spec.env and spec.field and not getattr(self, spec.field):
                filled[spec.field] = os.environ.get(spec.env, "").strip()
        return dataclasses.replace(self, **filled)

    @property
    def remote(self) -> bool:
        """Whether vectors come from an embedding endpoint rather than the local model."""
        return bool(self.embed_url)


Validator = Callable[[Any], Any]


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


def _int_range(low: int, high: int) -> Validator:
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


def _one_of(choices: tuple[str, ...]) -> Validator:
    def check(value: Any) -> str:
        if isinstance(value, str) and value.strip() in choices:
            return value.strip()
        raise ValueError(f"must be one of {', '.join(choices)}")

    return check


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def _env_name(value: Any) -> str:
    """The name of an environment variable, never echoed back: a user who pastes the key
    itself here must not find it in a message."""
    text = _str(value)
    if text and not _ENV_NAME.match(text):
        raise ValueError(
            "must be the name of an environment variable (letters, digits and _), not the "
            "key itself"
        )
    return text


def _url_of(schemes: tuple[str, ...], example: str) -> Validator:
    """A URL with one of these schemes; the message never repeats the value (a URL may
    hold a password)."""

    def check(value: Any) -> str:
        text = _str(value)
        if not text:
            return text
        parts = urlsplit(text)
        if parts.scheme not in schemes or not (parts.netloc or parts.path):
            names = ", ".join(f"{scheme}://" for scheme in schemes)
            raise ValueError(f"must be a {names} URL, for example {example}")
        return text

    return check


_PREFIX = re.compile(r"^[A-Za-z0-9._-]{0,64}$")


def _prefix(value: Any) -> str:
    text = _str(value)
    if not _PREFIX.match(text):
        raise ValueError("may hold only letters, digits, '.', '_' and '-' (at most 64)")
    return text


# settings whose check is more than their type's (the value is never echoed in errors)
_CHECKS: dict[str, Validator] = {
    "embed_api_key_env": _env_name,
    "embed_url": _url_of(("http", "https"), "http://gpu-box:8080/v1"),
    "shared_cache": _url_of(("redis", "rediss", "unix"), "redis://cache-host:6379/0"),
    "shared_cache_prefix": _prefix,
}


def validator_for(spec: SettingSpec) -> Validator:
    """The check that turns a client value of this setting into its `Settings` value."""
    if spec.field in _CHECKS:
        return _CHECKS[spec.field]
    if spec.type == "boolean":
        return _bool
    if spec.type == "array":
        return _globs
    if spec.type == "integer":
        low = spec.minimum if spec.minimum is not None else -(1 << 63)
        high = spec.maximum if spec.maximum is not None else 1 << 63
        return _int_range(low, high)
    return _one_of(spec.enum) if spec.enum else _str


# camelCase key (LSP / VS Code) -> (field name, validator), derived from SETTINGS
_FIELDS: dict[str, tuple[str, Validator]] = {
    spec.key: (spec.field, validator_for(spec)) for spec in SERVER_SETTINGS if spec.field
}
_SNAKE = {name: key for key, (name, _) in _FIELDS.items()}
# top-level keys of the `codesearch` section that the editor reads for itself; accepted
# silently ("server" holds server.pythonPath; "trace" is the language client's own)
_CLIENT_ONLY = {spec.key.split(".", 1)[0] for spec in CLIENT_SETTINGS} | {"trace"}


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
