"""Remove docstrings and comments, keeping the code valid.

The search-quality benchmark uses docstrings as queries, so the corpus it searches
must not contain them (or any comment that could paraphrase them): otherwise the
benchmark would measure string matching, not code understanding.
"""

from __future__ import annotations

import logging

from tree_sitter import Node

from codesearch.parsing import treesitter
from codesearch.parsing.comments import python_leading_strings
from codesearch.parsing.positions import decode, encode
from codesearch.parsing.specs import LanguageSpec, spec_for

log = logging.getLogger(__name__)

_PY_DEFINITIONS = frozenset({"function_definition", "class_definition"})

# (start byte, end byte, replacement bytes)
_Edit = tuple[int, int, bytes]


def strip_docs(source: str, language: str) -> str:
    """`source` without comments, doc comments and (Python) docstrings.

    Python bodies that would become empty get `pass`. Line numbers may change: whole
    lines that held only a comment or docstring are removed.
    Raises UnsupportedLanguageError for an unknown language.
    """
    spec = spec_for(language)
    if not source or source.isspace():
        return source
    try:
        return _strip(spec, source)
    except Exception:  # never crash the benchmark on odd input; say so in the log
        log.warning("could not strip docs from %s source; left unchanged", language, exc_info=True)
        return source


def _strip(spec: LanguageSpec, source: str) -> str:
    data = encode(source)
    tree = treesitter.parse(spec, data)
    root = tree.root_node
    python = spec.docs == "python"
    edits: list[_Edit] = []
    definitions: list[Node] = []
    for _pattern, captures in treesitter.matches(spec, root):
        for node in captures.get("comment", ()):
            end = node.end_byte
            while end > node.start_byte and data[end - 1 : end] in (b"\n", b"\r"):
                end -= 1  # Rust line comments own their newline; the code needs it
            edits.append(_removal(data, node.start_byte, end, python=python))
        if python:
            for role in ("function", "class"):
                definitions.extend(
                    node for node in captures.get(role, ()) if node.type in _PY_DEFINITIONS
                )
    if python:
        bodies = [root, *(node.child_by_field_name("body") for node in definitions)]
        for body in bodies:
            edits.extend(_docstring_edits(data, body, module=body is root))
    return decode(_apply(data, edits))


def _docstring_edits(data: bytes, body: Node | None, *, module: bool) -> list[_Edit]:
    """Remove a Python docstring, or turn it into `pass` when it is the whole body."""
    strings = python_leading_strings(body)
    if body is None or not strings:
        return []
    edits = [
        _removal(data, s.start_byte, s.end_byte, python=True, fallback=b"pass") for s in strings
    ]
    if not module and not _has_other_statement(body, {s.id for s in strings}):
        first = strings[0]
        edits[0] = (first.start_byte, first.end_byte, b"pass")
    return edits


def _has_other_statement(body: Node, strings: set[int]) -> bool:
    for index in range(body.named_child_count):
        child = body.named_child(index)
        if child.type != "comment" and child.id not in strings:
            return True
    return False


def _removal(
    data: bytes, start: int, end: int, *, python: bool, fallback: bytes | None = None
) -> _Edit:
    """Delete [start, end): whole lines when nothing else is on them, else inline.

    `fallback` replaces the span when it shares its line with code (a Python docstring
    followed by `; x = 1` must become `pass; x = 1`, not `; x = 1`).
    """
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", end)
    if line_end < 0:
        line_end = len(data)
    before, after = data[line_start:start], data[end:line_end].strip()
    if not before.strip() and (not after or (python and after.startswith(b"#"))):
        # Only this (and maybe a trailing comment) on its lines: drop the lines.
        return (line_start, min(line_end + 1, len(data)), b"")
    if fallback is not None:
        return (start, end, fallback)
    if not after:  # trailing comment: take the spaces before it too
        while start > line_start and data[start - 1 : start] in (b" ", b"\t"):
            start -= 1
        return (start, end, b"")
    # Inline comment between two tokens: keep them apart.
    glued = (
        start > 0 and not data[start - 1 : start].isspace() and not data[end : end + 1].isspace()
    )
    return (start, end, b" " if glued else b"")


def _apply(data: bytes, edits: list[_Edit]) -> bytes:
    """Apply non-overlapping edits in order (an edit inside an earlier one is dropped)."""
    pieces: list[bytes] = []
    position = 0
    for start, end, replacement in sorted(edits):
        if start < position:
            continue
        pieces.append(data[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(data[position:])
    return b"".join(pieces)
