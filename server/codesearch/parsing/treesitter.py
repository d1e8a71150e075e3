"""Grammar loading, compiled queries and per-thread parsers.

Languages and compiled queries are immutable, so one of each is shared by every
thread. A `Parser` holds mutable state, so each worker thread gets its own (one per
language), created on first use.
"""

from __future__ import annotations

import functools
import importlib
import threading

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from codesearch.parsing.specs import LanguageSpec

_local = threading.local()


@functools.cache
def language(spec: LanguageSpec) -> Language:
    """The grammar for `spec`, loaded from its wheel (no download, no network)."""
    module = importlib.import_module(spec.module)
    return Language(getattr(module, spec.loader)())


@functools.cache
def query(spec: LanguageSpec) -> Query:
    """The compiled capture query for `spec` (compiled once per process)."""
    return Query(language(spec), spec.query)


def parser(spec: LanguageSpec) -> Parser:
    """This thread's parser for `spec`: parsers are not safe to share across threads."""
    parsers: dict[str, Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = {}
        _local.parsers = parsers
    found = parsers.get(spec.name)
    if found is None:
        found = Parser(language(spec))
        parsers[spec.name] = found
    return found


def parse(spec: LanguageSpec, data: bytes) -> Tree:
    """Parse UTF-8 bytes with this thread's parser."""
    return parser(spec).parse(data)


def matches(spec: LanguageSpec, root: Node) -> list[tuple[int, dict[str, list[Node]]]]:
    """All query matches under `root`, in C: no Python-level tree walk, no recursion."""
    return QueryCursor(query(spec)).matches(root)
