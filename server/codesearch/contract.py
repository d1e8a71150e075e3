"""The contract between the language server and its clients, declared once.

Command ids and the shapes of their arguments and results, the `codesearch/status`
payload and its states, the files the server indexes and the entity kinds. Settings are
declared beside their parser (`config.SETTINGS`). The server's own code reads these
declarations; the VS Code extension reads a TypeScript copy generated from them
(`make contract`, see `contract_files`), and tests/unit/test_contract.py fails when that copy,
the extension's manifest or PROTOCOL.md is stale. No pygls here: the engine may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from codesearch.entities import ENTITY_KINDS
from codesearch.index.scan import IGNORE_FILE_NAMES
from codesearch.parsing.languages import EXTENSIONS, SUPPORTED_LANGUAGES

CONFIG_SECTION = "codesearch"
STATUS_NOTIFICATION = "codesearch/status"

ServerState = Literal["starting", "indexing", "idle", "error", "disabled"]
SERVER_STATES: tuple[ServerState, ...] = get_args(ServerState)

DEFAULT_LIMIT = 20  # hits per search or find-similar when the client gives no limit
MAX_LIMIT = 500


@dataclass(frozen=True)
class Field:
    """One field of a JSON object that crosses the wire; `type` is written in TypeScript."""

    name: str
    type: str
    description: str
    optional: bool = False


STATUS_FIELDS: tuple[Field, ...] = (
    Field("state", "ServerState", "what the server is doing"),
    Field("entities", "number", "entities in the search index, all folders"),
    Field("files", "number", "files indexed"),
    Field("pending", "number", "files waiting to be (re)indexed"),
    Field("failed", "number", "files or entities that failed (see diagnostics)"),
    Field("skipped", "number", "files skipped: too large, binary"),
    Field("model", "string", "the model, as shown to the user"),
    Field("lastError", "string | null", "the last error, while in the error state"),
    Field(
        "progress",
        "{ done: number; total: number } | null",
        "entities embedded of those planned, while indexing",
    ),
    Field("embeddedTotal", "number", "entities sent to the model since the server started"),
    Field("paused", "boolean", "indexing waits for codesearch.resume; saves queue up"),
    Field(
        "sharedCache",
        "{ url: string; problem: string | null } | null",
        "the team's shared vector cache (its URL without credentials, and why it does not "
        "answer, if it does not); null when none is set",
    ),
    Field(
        "notice",
        "string | null",
        "why searches rank by keywords alone right now (the embedding endpoint does not "
        "answer in time); null when they do not",
    ),
)

POSITION_FIELDS: tuple[Field, ...] = (
    Field("line", "number", "0-based"),
    Field("character", "number", "0-based"),
)

HIT_FIELDS: tuple[Field, ...] = (
    Field("uri", "string", "file URI of the entity"),
    Field("range", "Range", "the entity's range, 0-based"),
    Field("name", "string", "qualified name, e.g. Cache.get"),
    Field("kind", "string", "an entity kind (see ENTITY_KINDS)"),
    Field("language", "string", "the file's language"),
    Field("path", "string", "relative to its workspace folder"),
    Field("score", "number", "higher is better; comparable within one answer"),
    Field("snippet", "string", "the entity's first line (its signature)"),
    Field("matched", "string[]", "the query's words found in the entity's identifiers"),
    Field("weak", "boolean", "scored below the calibrated threshold: no strong match"),
)

REINDEX_RESULT_FIELDS: tuple[Field, ...] = (
    Field("files", "number", "files in the index afterwards"),
    Field("entities", "number", "entities in the index afterwards"),
    Field("embedded", "number", "entities sent to the model"),
    Field("cached", "number", "entities whose vectors were already stored"),
    Field("shared", "number", "entities whose vectors came from the shared vector cache"),
    Field("failed", "number", "entities and files that failed"),
    Field("removed", "number", "files dropped from the index"),
    Field("seconds", "number", "time taken"),
)


# -- the command line's JSON: `codesearch index --json` and `codesearch status --json` --------
# Both print what is indexed for the folder and each file or entity missing from it, in one
# shape (CONTENTS_FIELDS); index adds the run's numbers, status when and how big. Built by
# codesearch.workspace.reports; tests/unit/test_contract.py checks the keys against these.
MISSING_FILE_FIELDS: tuple[Field, ...] = (
    Field("path", "string", "relative to the folder"),
    Field("reason", "string", "failed: the error; skipped: a key of `skipped`"),
)
MISSING_ENTITY_FIELDS: tuple[Field, ...] = (
    Field("path", "string", "relative to the folder"),
    Field("name", "string", "qualified name, e.g. Cache.get"),
    Field("kind", "string", "an entity kind (see ENTITY_KINDS)"),
    Field("line", "number", "its first line, 1-based"),
    Field("reason", "string", "why it got no vector"),
)
CONTENTS_FIELDS: tuple[Field, ...] = (
    Field("root", "string", "the folder"),
    Field("model", "string", "the model, as shown to the user"),
    Field("store", "string", "the folder of the index store"),
    Field("files", "number", "files in the index"),
    Field("entities", "number", "entities in the index"),
    Field("failed", "number", "failed files + failed entities"),
    Field(
        "skipped",
        "Record<string, number>",
        "files left out on purpose, by reason: too_large, binary, symlink_outside, unreadable",
    ),
    Field("failed_files", "MissingFile[]", "each file that could not be indexed, and why"),
    Field("failed_entities", "MissingEntity[]", "each entity that got no vector, and why"),
    Field("skipped_files", "MissingFile[]", "each file left out on purpose, and why"),
    Field("warnings", "MissingFile[]", "each file indexed with a caveat (a guessed encoding)"),
)
STATUS_REPORT_FIELDS: tuple[Field, ...] = (
    *CONTENTS_FIELDS,
    Field("indexed", "boolean", "a full index finished (false: never, or cleared since)"),
    Field("last_indexed", "string | null", "when the last full index finished, ISO 8601"),
    Field("store_bytes", "number", "the store's size on disk"),
    Field("embedding_problem", "string | null", "why the embedding endpoint cannot embed"),
    Field("shared_cache", "{url, problem} | null", "the team's shared vector cache, if one is set"),
)
INDEX_REPORT_FIELDS: tuple[Field, ...] = (
    *CONTENTS_FIELDS,
    Field("scanned", "number", "indexable files found"),
    Field("parsed", "number", "files read and parsed in this run"),
    Field("unchanged", "number", "files skipped as unchanged"),
    Field("removed", "number", "files dropped from the index"),
    Field("embedded", "number", "entities sent to the model"),
    Field("cached", "number", "entities of parsed files whose vectors were already stored"),
    Field("shared", "number", "entities whose vectors came from the shared cache"),
    Field("seconds", "number", "time taken"),
    Field("cancelled", "boolean", "the run was stopped before the end"),
)


@dataclass(frozen=True)
class PaletteCommand:
    """A command of the VS Code extension that runs a server command."""

    id: str
    title: str


@dataclass(frozen=True)
class Command:
    """A `workspace/executeCommand` command: its one argument object and its result."""

    id: str
    summary: str
    arguments: tuple[Field, ...]  # fields of `arguments[0]`; empty: takes no argument
    result: str  # TypeScript type of the result
    palette: tuple[PaletteCommand, ...] = ()
    arguments_type: str = ""  # TypeScript name of the argument object, when it has fields

    @property
    def argument_required(self) -> bool:
        return any(not f.optional for f in self.arguments)


SEARCH = Command(
    "codesearch.search",
    "search every workspace folder by meaning and by name, best first",
    (
        Field("query", "string", "what to look for: words, a question, or an identifier"),
        Field("limit", "number", f"hits to return, 1 to {MAX_LIMIT} (default 20)", True),
        Field("language", "string", "only this language", True),
        Field("kind", "EntityKind", "only this kind of entity", True),
        Field("path", "string", "only paths matching this glob", True),
    ),
    "Hit[]",
    (PaletteCommand("codesearch.client.search", "Search"),),
    arguments_type="SearchArgs",
)
FIND_SIMILAR = Command(
    "codesearch.findSimilar",
    "code like the entity at a position (that entity itself excluded)",
    (
        Field("uri", "string", "a file:// URI inside a workspace folder"),
        Field("position", "Position", "a position inside the entity"),
        Field("limit", "number", f"hits to return, 1 to {MAX_LIMIT} (default 20)", True),
    ),
    "Hit[]",
    (PaletteCommand("codesearch.client.findSimilar", "Find Similar"),),
    arguments_type="FindSimilarArgs",
)
REINDEX = Command(
    "codesearch.reindex",
    "bring every folder up to date (force: re-embed everything)",
    (Field("force", "boolean", "re-read and re-embed every file", True),),
    "ReindexResult",
    (
        PaletteCommand("codesearch.client.reindex", "Reindex Workspace"),
        PaletteCommand("codesearch.client.forceReindex", "Force Full Reindex"),
    ),
    arguments_type="ReindexArgs",
)
STATUS = Command("codesearch.status", "the status payload, now", (), "StatusPayload")
CLEAR_INDEX = Command(
    "codesearch.clearIndex",
    "delete the index and build it again from scratch",
    (),
    "{ cleared: true }",
    (PaletteCommand("codesearch.client.clearIndex", "Clear Index"),),
)
PAUSE = Command(
    "codesearch.pause",
    "stop embedding after the batch in flight; saves queue up (what was embedded is kept)",
    (),
    "{ paused: true }",
    (PaletteCommand("codesearch.client.pauseIndexing", "Pause Indexing"),),
)
RESUME = Command(
    "codesearch.resume",
    "go on where a pause stopped: an incremental pass over every folder",
    (),
    "{ paused: false }",
    (PaletteCommand("codesearch.client.resumeIndexing", "Resume Indexing"),),
)
COMMANDS: tuple[Command, ...] = (SEARCH, FIND_SIMILAR, REINDEX, STATUS, CLEAR_INDEX, PAUSE, RESUME)

# How each entity kind is shown: an LSP SymbolKind name (the extension derives its icon from
# it). A kind missing here shows as a Function, so adding a kind to ENTITY_KINDS is one edit.
SYMBOL_KINDS: dict[str, str] = {
    "function": "Function",
    "method": "Method",
    "class": "Class",
    "type": "Struct",
    "macro": "Function",
    "module": "Module",
}
DEFAULT_SYMBOL_KIND = "Function"


def symbol_kind_name(kind: str) -> str:
    return SYMBOL_KINDS.get(kind, DEFAULT_SYMBOL_KIND)


# What the server reads from disk: source files by extension, and the ignore files whose
# change re-applies the ignore rules. Editors watch and activate on these.
INDEXED_EXTENSIONS: tuple[str, ...] = tuple(sorted(ext.lstrip(".") for ext in EXTENSIONS))
LANGUAGES: tuple[str, ...] = SUPPORTED_LANGUAGES  # the values a search's `language` filter takes
SOURCE_GLOB = "**/*.{" + ",".join(INDEXED_EXTENSIONS) + "}"
IGNORE_FILES_GLOB = "**/{" + ",".join(IGNORE_FILE_NAMES) + "}"

__all__ = [
    "COMMANDS",
    "ENTITY_KINDS",
    "IGNORE_FILE_NAMES",
    "INDEXED_EXTENSIONS",
    "LANGUAGES",
    "SERVER_STATES",
    "STATUS_FIELDS",
    "Command",
    "Field",
    "ServerState",
]
