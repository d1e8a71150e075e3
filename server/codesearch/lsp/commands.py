"""`workspace/executeCommand` handlers (ids and shapes in `codesearch.contract`), and the
cancel of an indexing run's progress, which also steers the indexer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from codesearch import contract
from codesearch.embedding.types import ModelLoadError
from codesearch.lsp import command_args
from codesearch.lsp.convert import hit_to_json
from codesearch.lsp.language_server import CodesearchServer
from codesearch.workspace import IndexSummary


async def search(ls: CodesearchServer, *args: Any) -> list[dict[str, Any]]:
    parsed = command_args.search_args(args)
    service = ls.require_service()
    try:
        hits = await ls.in_query_thread(
            lambda: service.search(parsed.query, limit=parsed.limit, filters=parsed.filters)
        )
    except ModelLoadError as exc:
        raise command_args.invalid(f"search is unavailable: {exc}") from exc
    return [hit_to_json(rooted.root, rooted.hit) for rooted in hits]


async def find_similar(ls: CodesearchServer, *args: Any) -> list[dict[str, Any]]:
    parsed = command_args.similar_args(args)
    service = ls.require_service()
    if service.root_for(parsed.path) is None:
        raise command_args.invalid(f"{parsed.path} is not inside a workspace folder")
    hits = await ls.in_query_thread(
        lambda: service.similar(parsed.path, parsed.line, limit=parsed.limit)
    )
    return [hit_to_json(rooted.root, rooted.hit) for rooted in hits]


async def reindex(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    force = command_args.reindex_force(args)
    service = ls.require_service()
    summaries = await asyncio.wrap_future(service.reindex(force=force))
    return reindex_result(summaries)


def status(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    return ls.status().to_json()


async def clear_index(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    service = ls.require_service()
    await asyncio.wrap_future(service.clear())
    return {"cleared": True}


def pause(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    """Stop embedding after the batch in flight (what was embedded is kept)."""
    ls.require_service().pause()
    return {"paused": True}


def resume(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    """Go on where a pause stopped: an incremental pass over every folder."""
    ls.require_service().resume()
    return {"paused": False}


def cancel_progress(ls: CodesearchServer, params: types.WorkDoneProgressCancelParams) -> None:
    """The user cancelled the indexing progress: stop the run (what was embedded is kept)."""
    bridge = ls.progress_bridge
    if ls.service is not None and bridge is not None and params.token == bridge.current_token:
        ls.service.cancel_current()


def reindex_result(summaries: Sequence[IndexSummary | None]) -> dict[str, Any]:
    """The folders' summaries added up, in the shape of `contract.REINDEX_RESULT_FIELDS`."""
    total: dict[str, Any] = {field.name: 0 for field in contract.REINDEX_RESULT_FIELDS}
    for summary in summaries:
        if summary is None:
            continue
        for key in total:
            total[key] += getattr(summary, key)
    total["seconds"] = round(float(total["seconds"]), 3)
    return total


_HANDLERS = {
    contract.SEARCH: search,
    contract.FIND_SIMILAR: find_similar,
    contract.REINDEX: reindex,
    contract.STATUS: status,
    contract.CLEAR_INDEX: clear_index,
    contract.PAUSE: pause,
    contract.RESUME: resume,
}


def register(server: CodesearchServer) -> None:
    for command in contract.COMMANDS:
        server.command(command.id)(_HANDLERS[command])
    server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)(cancel_progress)
