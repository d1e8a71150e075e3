"""`workspace/executeCommand` arguments: checked here so bad input is a clear JSON-RPC error.

The shapes are those of `codesearch.contract` (tests/unit/test_command_args.py checks each
declared field against these checks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from codesearch import contract
from codesearch.contract import DEFAULT_LIMIT, ENTITY_KINDS, MAX_LIMIT
from codesearch.lsp.convert import uri_to_path
from codesearch.search import SearchFilters

SEARCH = contract.SEARCH.id
FIND_SIMILAR = contract.FIND_SIMILAR.id
REINDEX = contract.REINDEX.id


def invalid(message: str) -> JsonRpcInvalidParams:
    return JsonRpcInvalidParams(message=message)


def _object(args: tuple[Any, ...], command: str, required: bool) -> Mapping[str, Any]:
    if not args or args[0] is None:
        if required:
            raise invalid(f"{command} needs an argument object")
        return {}
    first = args[0]
    if isinstance(first, Mapping):
        return first
    if hasattr(first, "_asdict"):  # pygls may hand over namedtuple-like objects
        return dict(first._asdict())
    raise invalid(f"{command}: the argument must be an object, got {type(first).__name__}")


def _limit(data: Mapping[str, Any], command: str) -> int:
    limit = data.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise invalid(f"{command}: limit must be a whole number from 1 to {MAX_LIMIT}")
    return limit


def _optional_str(data: Mapping[str, Any], key: str, command: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid(f"{command}: {key} must be a string")
    return value


@dataclass(frozen=True)
class SearchArgs:
    query: str
    limit: int
    filters: SearchFilters


def search_args(args: tuple[Any, ...]) -> SearchArgs:
    data = _object(args, SEARCH, required=True)
    query = data.get("query")
    if not isinstance(query, str):
        raise invalid(f"{SEARCH}: query must be a string")
    kind = _optional_str(data, "kind", SEARCH)
    if kind is not None and kind not in ENTITY_KINDS:
        raise invalid(f"{SEARCH}: kind must be one of {', '.join(ENTITY_KINDS)}")
    filters = SearchFilters(
        language=_optional_str(data, "language", SEARCH),
        kind=kind,
        path_glob=_optional_str(data, "path", SEARCH),
    )
    return SearchArgs(query, _limit(data, SEARCH), filters)


@dataclass(frozen=True)
class SimilarArgs:
    path: Path
    line: int  # 1-based
    limit: int


def similar_args(args: tuple[Any, ...]) -> SimilarArgs:
    data = _object(args, FIND_SIMILAR, required=True)
    uri = data.get("uri")
    path = uri_to_path(uri) if isinstance(uri, str) else None
    if path is None:
        raise invalid(f"{FIND_SIMILAR}: uri must be a file:// URI")
    position: Any = data.get("position")
    if position is not None and hasattr(position, "_asdict"):
        position = position._asdict()
    line = position.get("line") if isinstance(position, Mapping) else None
    if isinstance(line, bool) or not isinstance(line, int) or line < 0:
        raise invalid(f"{FIND_SIMILAR}: position.line must be a whole number from 0")
    return SimilarArgs(path, line + 1, _limit(data, FIND_SIMILAR))


def reindex_force(args: tuple[Any, ...]) -> bool:
    data = _object(args, REINDEX, required=False)
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise invalid(f"{REINDEX}: force must be true or false")
    return force
