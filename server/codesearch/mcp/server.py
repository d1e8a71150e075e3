"""`codesearch mcp`: the index as MCP tools for coding agents, on stdio.

A thin face, like the language server: the tools parse arguments, call the index
(`IndexApi`: an in-process IndexService today) and shape answers; ranking, snippets, the
size budget and path confinement are the engine's. The input schemas are strict (one JSON
type per argument, defaults instead of null) because some clients reject union types.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import (
    CallToolResult,
    TextContent,
    ToolAnnotations,
)
from pydantic import Field

from codesearch import __version__
from codesearch.confine import OutsideRootsError, confine
from codesearch.embedding.types import ModelLoadError
from codesearch.entities import ENTITY_KINDS
from codesearch.mcp.roots import RootSet, uri_to_folder
from codesearch.mcp.shapes import (
    HitsAnswer,
    StatusAnswer,
    answer_size,
    hits_answer,
    render_hits,
    render_status,
    status_answer,
)
from codesearch.parsing.languages import SUPPORTED_LANGUAGES
from codesearch.results import SNIPPET_LINES, ShownHit, fit, show_hits
from codesearch.search import SearchFilters
from codesearch.service import RootHit, State
from codesearch.service.api import IndexApi

log = logging.getLogger(__name__)

MAX_HITS = 50
DEFAULT_MAX_CHARS = 8000  # about 2,000 tokens: room for ten hits with short snippets
FIRST_INDEX_WAIT_S = 10.0  # a search right after start waits this long for the first pass
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def _prose(text: str) -> str:
    """A paragraph as one line: clients show descriptions as they are, wrapped or not."""
    return " ".join(text.split())


INSTRUCTIONS = _prose("""\
Semantic code search over the workspace folders this server holds, kept up to date as files
change on disk. search_code finds functions, methods and classes by what they do (a question
or a description) or by name; find_similar finds code like the entity at a file and line;
index_status says what is indexed and what failed. Hits marked weak are below the calibrated
score threshold: the code asked about is probably not there.""")

SEARCH_DESCRIPTION = _prose("""\
Find functions, methods and classes in the workspace by meaning or by name, best first.
Use it before reading files to locate where something is done: ask in words ("where are
failed uploads retried", "parse an ISO date"), or give an identifier ("retry_failed_upload",
"Cache.get"). Each hit gives its file (relative to its root), line range, qualified name,
kind, language, score and the first lines of its source. Hits with weak=true scored below
the calibrated threshold: when every hit is weak, the code asked about probably does not
exist in the workspace; say so rather than guess. Narrow with path_glob, language or kind.""")

SIMILAR_DESCRIPTION = _prose("""\
Find code similar in meaning to the function, method or class at a file and line: other
implementations of the same idea, duplicates to reuse or keep in step, call sites written
alike. The path is relative to a workspace folder (or absolute inside one); the line is
1-based and may be any line inside the entity. The entity itself is not returned.""")

STATUS_DESCRIPTION = _prose("""\
Report the state of the code index: starting, indexing (with progress), idle, or error;
counts of files and entities per workspace folder; every file that failed to index or was
skipped, with the reason; and the embedding model in use. Call it when search results look
incomplete or a file you expect is never found.""")

Query = Annotated[
    str,
    Field(
        min_length=1,
        max_length=2000,
        description="What to look for: a question, a description of the behaviour, or a name.",
    ),
]
Limit = Annotated[
    int, Field(ge=1, le=MAX_HITS, description=f"Most hits to return, 1 to {MAX_HITS}.")
]
MaxChars = Annotated[
    int,
    Field(
        ge=500,
        le=100_000,
        description="Size budget of the answer in characters: snippets are shortened first, "
        "then the lowest hits dropped, and the answer says so.",
    ),
]
PathGlob = Annotated[
    str,
    Field(
        max_length=500,
        description="Only files whose path (relative to its root) matches this glob, e.g. "
        "'src/*' or '*.py' ('*' crosses folders). Empty: all files.",
    ),
]
Language = Annotated[
    str,
    Field(
        description="Only this language. Empty: all.",
        json_schema_extra={"enum": ["", *SUPPORTED_LANGUAGES]},
    ),
]
Kind = Annotated[
    str,
    Field(
        description="Only this kind of entity. Empty: all.",
        json_schema_extra={"enum": ["", *ENTITY_KINDS]},
    ),
]
FilePath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=4096,
        description="A file inside a workspace folder: relative to the folder, or absolute.",
    ),
]
Line = Annotated[int, Field(ge=1, description="A 1-based line inside the entity.")]


class CodesearchTools:
    """The three tools over one index and the roots it holds."""

    def __init__(self, index: IndexApi, roots: RootSet) -> None:
        self.index = index
        self.roots = roots

    def search_code(
        self,
        query: Query,
        limit: Limit = 10,
        path_glob: PathGlob = "",
        language: Language = "",
        kind: Kind = "",
        max_chars: MaxChars = DEFAULT_MAX_CHARS,
    ) -> Annotated[CallToolResult, HitsAnswer]:
        if not query.strip():
            raise ToolError("query is empty: say what to look for")
        filters = SearchFilters(
            language=_choice("language", language, SUPPORTED_LANGUAGES) or None,
            kind=_choice("kind", kind, ENTITY_KINDS) or None,
            path_glob=path_glob.strip() or None,
        )
        self._require_roots()
        self._wait_for_first_pass()
        try:
            found = self.index.search(query, limit=limit, filters=filters)
        except ModelLoadError as exc:
            raise ToolError(f"search is unavailable: {exc}") from exc
        state = self.index.status().state
        notes = [self._state_note(state)]
        if found and all(rooted.hit.weak for rooted in found):
            notes.append(
                "No strong match: every hit scored below the threshold; the code asked about "
                "may not exist here."
            )
        return self._answer(found, max_chars, state, notes)

    def find_similar(
        self, path: FilePath, line: Line, limit: Limit = 10, max_chars: MaxChars = DEFAULT_MAX_CHARS
    ) -> Annotated[CallToolResult, HitsAnswer]:
        self._require_roots()
        try:
            _, target = confine(path, self.roots.folders)
        except OutsideRootsError as exc:
            raise ToolError(str(exc)) from exc
        self._wait_for_first_pass()
        subject = self.index.entity_at(target, line)
        if subject is None:
            raise ToolError(
                f"no indexed function, method or class at {path}:{line} "
                "(not a source file, outside any entity, or not indexed yet)"
            )
        try:
            found = self.index.similar(target, line, limit=limit)
        except ModelLoadError as exc:
            raise ToolError(f"find_similar is unavailable: {exc}") from exc
        hit, state = subject[1], self.index.status().state
        notes = [f"Code like {hit.kind} {hit.name} ({hit.path}:{hit.start_line}).",
                 self._state_note(state)]  # fmt: skip
        return self._answer(found, max_chars, state, notes)

    def index_status(self) -> Annotated[CallToolResult, StatusAnswer]:
        answer = status_answer(self.index.report())
        return CallToolResult(
            content=[TextContent(type="text", text=render_status(answer))],
            structured_content=answer.model_dump(),
        )

    # -- helpers ----------------------------------------------------------------------
    def _require_roots(self) -> None:
        if not self.roots.folders:
            raise ToolError(
                "no workspace folder to search: start the server with --path FOLDER, or use "
                "a client that shares its roots"
            )

    def _wait_for_first_pass(self) -> None:
        """Right after start nothing is indexed yet: wait a little for the first pass rather
        than answer "no results" (a long first pass answers with what it has, and says so)."""
        status = self.index.status()
        if status.state in (State.STARTING, State.INDEXING) and not status.entities:
            self.index.wait_idle(FIRST_INDEX_WAIT_S)

    def _state_note(self, state: State) -> str:
        if state in (State.STARTING, State.INDEXING):
            status = self.index.status()
            return (
                f"The index is still being built ({status.entities} entities so far): "
                "results may be incomplete."
            )
        if state is State.ERROR:
            return f"The indexer reported an error: {self.index.status().last_error}"
        return ""

    def _answer(
        self, found: Sequence[RootHit], max_chars: int, state: State, notes: list[str]
    ) -> CallToolResult:
        """The hits with snippets, cut to `max_chars`, as text and structured content."""
        shown = show_hits([(rooted.root, rooted.hit) for rooted in found])

        def build(hits: list[ShownHit], dropped: int) -> HitsAnswer:
            lines = hits[0].shown_lines if hits else 0
            said = [*notes]
            if hits and lines < SNIPPET_LINES:
                said.append(f"Snippets cut to {lines} lines to fit max_chars.")
            if dropped:
                said.append(f"{dropped} lower hit{'s' if dropped != 1 else ''} left out to fit "
                            "max_chars (raise it, or narrow the search).")  # fmt: skip
            note = " ".join(n for n in said if n)
            return hits_answer(hits, len(found), dropped, lines, state.value, note)

        fitted = fit(shown, max_chars, lambda hits, dropped: answer_size(build(hits, dropped)))
        answer = build(fitted.hits, fitted.dropped)
        return CallToolResult(
            content=[TextContent(type="text", text=render_hits(answer))],
            structured_content=answer.model_dump(),
        )


def _choice(name: str, value: str, choices: Sequence[str]) -> str:
    """An enum-like argument, case-insensitive; a clear error listing the choices."""
    wanted = value.strip().lower()
    if wanted and wanted not in choices:
        raise ToolError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}")
    return wanted


class ClientRoots:
    """Asks the client for its roots after the handshake and whenever it says they changed
    (a middleware: the SDK's documented hook for inbound notifications)."""

    def __init__(self, roots: RootSet) -> None:
        self._roots = roots
        self._tasks: set[asyncio.Task[None]] = set()
        self._one_at_a_time = asyncio.Lock()  # answers applied in the order they were asked

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        result = await call_next(ctx)
        if ctx.method in ("notifications/initialized", "notifications/roots/list_changed"):
            # never await the client here: the dispatcher may be waiting for this to return
            task = asyncio.get_running_loop().create_task(self._refresh(ctx))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return result

    async def _refresh(self, ctx: ServerRequestContext[Any, Any]) -> None:
        session = ctx.session
        capabilities = session.client_capabilities
        if capabilities is None or capabilities.roots is None:
            return
        async with self._one_at_a_time:
            try:
                with warnings.catch_warnings():  # deprecated in the 2026-07-28 protocol only
                    warnings.simplefilter("ignore")
                    answer = await session.list_roots()
            except Exception as exc:
                log.warning("could not get the client's roots: %s", exc)
                return
            folders = [f for f in (uri_to_folder(str(root.uri)) for root in answer.roots) if f]
            await anyio.to_thread.run_sync(self._roots.set_client_roots, folders)


def create_server(index: IndexApi, roots: RootSet) -> MCPServer[Any]:
    """An MCP server whose tools answer from `index` over the roots held in `roots`."""
    tools = CodesearchTools(index, roots)
    server: MCPServer[Any] = MCPServer(
        "codesearch",
        title="Codesearch",
        version=__version__,
        instructions=INSTRUCTIONS,
        middleware=[ClientRoots(roots)],
    )
    server.add_tool(tools.search_code, name="search_code", description=SEARCH_DESCRIPTION,
                    annotations=READ_ONLY)  # fmt: skip
    server.add_tool(tools.find_similar, name="find_similar", description=SIMILAR_DESCRIPTION,
                    annotations=READ_ONLY)  # fmt: skip
    server.add_tool(tools.index_status, name="index_status", description=STATUS_DESCRIPTION,
                    annotations=READ_ONLY)  # fmt: skip
    return server


def folders_from_args(paths: Sequence[Path]) -> list[Path]:
    """The `--path` folders, each checked: one clear error for a missing one."""
    folders: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise FileNotFoundError(f"--path {path}: not a folder")
        folders.append(path.resolve())
    return folders
