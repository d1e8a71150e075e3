"""`workspace/symbol`: the hybrid search, ordered as a symbol lookup (names first)."""

from __future__ import annotations

from lsprotocol import types

from codesearch.embedding.types import ModelLoadError
from codesearch.lsp.command_args import invalid
from codesearch.lsp.convert import hit_to_symbol
from codesearch.lsp.language_server import CodesearchServer
from codesearch.search import name_matches_first

SYMBOL_LIMIT = 100


async def workspace_symbol(
    ls: CodesearchServer, params: types.WorkspaceSymbolParams
) -> list[types.SymbolInformation]:
    query = params.query.strip()
    service = ls.service
    if not query or service is None:
        return []
    try:
        hits = await ls.in_query_thread(lambda: service.search(query, limit=SYMBOL_LIMIT))
    except ModelLoadError as exc:
        raise invalid(f"search is unavailable: {exc}") from exc
    ordered = name_matches_first(query, hits, lambda rooted: rooted.hit.name)
    return [hit_to_symbol(rooted.root, rooted.hit) for rooted in ordered]


def register(server: CodesearchServer) -> None:
    server.feature(types.WORKSPACE_SYMBOL)(workspace_symbol)
