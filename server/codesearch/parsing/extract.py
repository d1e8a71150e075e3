"""Source text -> functions, methods and classes, for every supported language.

One generic walker serves all languages: a per-language query (see `specs.py`) finds
the candidate nodes in C, then the candidates are sorted by position and nested with
an explicit stack of open containers. Nothing here recurses or walks parents
(`Node.parent` costs O(depth) in tree-sitter), so 10,000-level nesting is fine and a
5,000-line file stays in the tens of milliseconds.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass

from tree_sitter import Node

from codesearch.entities import Entity, EntityKind
from codesearch.parsing import treesitter
from codesearch.parsing.comments import (
    clean_comments,
    is_inner_doc,
    python_docstring,
    python_docstring_node,
)
from codesearch.parsing.positions import SourceText, decode, encode
from codesearch.parsing.specs import LanguageSpec, spec_for

log = logging.getLogger(__name__)
_LONE_CR = re.compile(r"\r(?!\n)")

SIGNATURE_MAX_CHARS = 300
MAX_NESTING = 100  # entities nested deeper than this are not emitted (memory bound)
_NAME_MAX_CHARS = 200
_QUALIFIED_MAX_CHARS = 1000  # bounds memory on 10,000-level nesting (names would be O(n^2))
_SIGNATURE_SCAN_BYTES = 4000  # raw header bytes looked at before collapsing whitespace
_DECLARATOR_DEPTH = 64  # C/C++ declarator chains are short; cap pathological ones
_ROLES = ("class", "function", "method", "scope")
_HEADER_FIELDS = ("parameters", "return_type", "result", "type_parameters", "name")
_COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment", "html_comment"})
_C_NAME_TYPES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "destructor_name",
        "operator_name",
        "operator_cast",
        "template_function",
        "template_method",
    }
)
_IDENTIFIER = re.compile(r"[^\W\d]\w*")
_GENERIC_START = re.compile(r"[<\[]")


def extract_entities(source: str, language: str, path: str) -> list[Entity]:
    """Every function, method and class in `source`, in source order.

    Raises UnsupportedLanguageError for an unknown language and nothing else: broken,
    binary or absurd input yields whatever tree-sitter could recover.
    """
    spec = spec_for(language)
    entities: list[Entity] = []
    if not source or source.isspace():
        return entities
    if "\r" in source:
        # A lone CR (classic Mac) ends a line for editors and LSP but not for tree-sitter,
        # which would read the next line as part of this one. Same length: columns stay.
        source = _LONE_CR.sub("\n", source)
    treesitter.query(spec)  # a broken table is our bug: let it raise, outside the guard
    try:
        _Extractor(spec, source, path, entities).run()
    except Exception:  # bad input must never crash indexing; keep what we have
        log.debug("extraction stopped early for %s (%s)", path, language, exc_info=True)
    return entities


@dataclass(slots=True)
class _Candidate:
    """A node the query matched, with the captures needed to name it."""

    node: Node
    role: str
    name: Node | None
    receiver: Node | None
    declarator: Node | None


@dataclass(slots=True)
class _Open:
    """A container (entity or scope) on the nesting stack."""

    end: int
    qualified: str
    class_like: bool


class _Extractor:
    """Single-use state for one `extract_entities` call."""

    def __init__(self, spec: LanguageSpec, source: str, path: str, out: list[Entity]) -> None:
        self.spec = spec
        self.source = source
        self.path = path
        self.out = out
        # ASCII (the common case): bytes are characters, no column conversion needed.
        self.text = None if source.isascii() else SourceText(source)
        self.data = encode(source)
        self.candidates: dict[int, _Candidate] = {}
        self.ranges: dict[int, Node] = {}
        self.anchors: dict[int, int] = {}
        # Comments (True) and decorators/attributes (False) as (end, start, is_comment).
        self.notes: list[tuple[int, int, bool]] = []
        self.note_ends: list[int] = []
        self.used: dict[str, set[str]] = {}
        self.counters: dict[tuple[str, str], int] = {}

    # -- driving -------------------------------------------------------------------

    def run(self) -> None:
        tree = treesitter.parse(self.spec, self.data)
        self._collect(treesitter.matches(self.spec, tree.root_node))
        self.notes.sort()
        self.note_ends = [note[0] for note in self.notes]

        ordered = []
        for cand in self.candidates.values():
            span = self.ranges.get(cand.node.id, cand.node)
            ordered.append((span.start_byte, -span.end_byte, cand, span))
        ordered.sort(key=lambda item: (item[0], item[1]))

        stack: list[_Open] = []
        for start, _neg_end, cand, span in ordered:
            while stack and stack[-1].end <= start:
                stack.pop()
            try:
                self._visit(cand, span, stack)
            except Exception:  # one bad entity must not cost the rest of the file
                log.debug("skipped a %s in %s", cand.node.type, self.path, exc_info=True)

    def _collect(self, found: list[tuple[int, dict[str, list[Node]]]]) -> None:
        """Sort query matches into candidates, wrappers and comment/decorator notes."""
        for _pattern, captures in found:
            nodes = captures.get("comment")
            if nodes:
                self.notes.extend((node.end_byte, node.start_byte, True) for node in nodes)
                continue
            nodes = captures.get("skip")
            if nodes:
                self.notes.extend((node.end_byte, node.start_byte, False) for node in nodes)
                continue
            role, role_node = "", None
            for role in _ROLES:
                nodes = captures.get(role)
                if nodes:
                    role_node = nodes[0]
                    break
            inner = captures.get("inner")
            target = inner[0] if inner else role_node
            if target is None:
                continue
            key = target.id
            wrappers = captures.get("range")
            if wrappers:
                known = self.ranges.get(key)
                if known is None or wrappers[0].start_byte < known.start_byte:
                    self.ranges[key] = wrappers[0]
            wrappers = captures.get("anchor")
            if wrappers:
                earliest = min(wrapper.start_byte for wrapper in wrappers)
                self.anchors[key] = min(self.anchors.get(key, earliest), earliest)
            if role_node is not None and role_node.id not in self.candidates:
                self.candidates[role_node.id] = _Candidate(
                    node=role_node,
                    role=role,
                    name=_first(captures.get("name")),
                    receiver=_first(captures.get("receiver")),
                    declarator=_first(captures.get("declarator")),
                )

    def _visit(self, cand: _Candidate, span: Node, stack: list[_Open]) -> None:
        """Name one candidate against the open containers and emit it."""
        owner, name = self._name(cand)
        if not name and cand.role != "scope":
            if cand.name is not None or cand.declarator is not None:
                return  # a name node that recovered empty: nothing to call it
            if self.spec.anonymous_name is None:
                return
            name = self.spec.anonymous_name
        parent = stack[-1] if stack else None
        if parent is not None and len(stack) >= MAX_NESTING:
            # Each entity carries its whole source, so n nested levels cost O(n^2)
            # memory; past this depth (never reached by real code) emit nothing.
            stack.append(_Open(span.end_byte, parent.qualified, parent.class_like))
            return
        prefix = parent.qualified if parent is not None else ""
        qualified = ".".join(part for part in (prefix, owner, name) if part)
        if len(qualified) > _QUALIFIED_MAX_CHARS:  # absurd nesting: keep the informative tail
            qualified = "…" + qualified[1 - _QUALIFIED_MAX_CHARS :]
        end = span.end_byte
        if cand.role == "scope":
            stack.append(_Open(end, qualified, True))
            return
        kind: EntityKind
        if cand.role == "class":
            kind = "class"
        elif cand.role == "method" or owner or (parent is not None and parent.class_like):
            kind = "method"
        else:
            kind = "function"
        unique = self._unique(kind, qualified)
        stack.append(_Open(end, unique, kind == "class"))
        self.out.append(self._entity(cand, span, kind, unique))

    # -- naming --------------------------------------------------------------------

    def _name(self, cand: _Candidate) -> tuple[str | None, str]:
        """(owner, name): the owner qualifies methods defined outside their type."""
        if cand.declarator is not None:
            return self._declarator_name(cand.declarator)
        owner = None
        if cand.receiver is not None:
            owner = _type_base(self._text(cand.receiver)) or None
        if cand.name is None:
            return owner, ""
        raw = self._text(cand.name)
        if cand.role == "scope":
            return owner, _type_base(raw)
        name = _clean_name(raw)
        prefix = self.spec.name_prefixes.get(cand.node.type, "")
        return owner, prefix + name if name else ""

    def _declarator_name(self, node: Node) -> tuple[str | None, str]:
        """Follow a C/C++ declarator chain (pointers, references, parens) to its name."""
        current: Node | None = node
        for _ in range(_DECLARATOR_DEPTH):
            if current is None:
                break
            if current.type == "qualified_identifier":
                return self._qualified_name(current)
            if current.type in _C_NAME_TYPES:
                return None, self._plain_name(current)
            following = current.child_by_field_name("declarator")
            if following is None and current.named_child_count:
                following = current.named_child(0)
            current = following
        return None, ""

    def _qualified_name(self, node: Node) -> tuple[str | None, str]:
        """`ns::Foo::bar` -> ("Foo", "bar"): out-of-line members are named by their type."""
        scopes: list[str] = []
        current: Node | None = node
        for _ in range(_DECLARATOR_DEPTH):
            if current is None or current.type != "qualified_identifier":
                break
            scope = current.child_by_field_name("scope")
            if scope is not None:
                scopes.append(_type_base(self._text(scope)))
            current = current.child_by_field_name("name")
        if current is None or current.type == "qualified_identifier":
            return None, ""
        owner = scopes[-1] if scopes and scopes[-1] else None
        return owner, self._plain_name(current)

    def _plain_name(self, node: Node) -> str:
        text = self._text(node)
        if node.type in ("template_function", "template_method"):
            text = text.split("<", 1)[0]
        return _clean_name(text)

    def _unique(self, kind: str, name: str) -> str:
        """`name`, or `name#2`, `name#3`... so (path, kind, name) identifies one entity."""
        used = self.used.setdefault(kind, set())
        if name not in used:
            used.add(name)
            return name
        count = self.counters.get((kind, name), 1)
        candidate = name
        while candidate in used:
            count += 1
            candidate = f"{name}#{count}"
        self.counters[(kind, name)] = count
        used.add(candidate)
        return candidate

    # -- building ------------------------------------------------------------------

    def _entity(self, cand: _Candidate, span: Node, kind: EntityKind, name: str) -> Entity:
        start, end = span.start_point, span.end_point
        text = self.text
        if text is None:
            start_col, end_col = start.column, end.column
            source = self.source[span.start_byte : span.end_byte]
        else:
            start_col = text.char_col(start.row, start.column)
            end_col = text.char_col(end.row, end.column)
            source = self.source[text.offset(start.row, start_col) : text.offset(end.row, end_col)]
        return Entity(
            path=self.path,
            name=name,
            kind=kind,
            language=self.spec.name,
            start_line=start.row + 1,
            end_line=end.row + 1,
            source=source,
            signature=self._signature(cand.node, span.start_byte),
            docstring=self._docstring(cand.node, span.start_byte),
            start_col=start_col,
            end_col=end_col,
        )

    def _signature(self, node: Node, start: int) -> str:
        """The header: from the entity's start to its body, whitespace collapsed."""
        end = _header_end(node)
        if end is None or end <= start:
            end = node.end_byte
        raw = decode(self.data[start : min(end, start + _SIGNATURE_SCAN_BYTES)])
        return " ".join(raw.split())[:SIGNATURE_MAX_CHARS]

    def _docstring(self, node: Node, start: int) -> str:
        if self.spec.docs == "python":
            statement = python_docstring_node(node.child_by_field_name("body"))
            return python_docstring(statement, self.data) if statement is not None else ""
        anchor = min(start, self.anchors.get(node.id, start))
        comments = self._leading_comments(anchor)
        return clean_comments(comments, xml=self.spec.xml_docs) if comments else ""

    def _leading_comments(self, position: int) -> list[str]:
        """The contiguous comment block right above `position`, top to bottom.

        Decorators/attributes in between are stepped over; a blank line, code, a
        trailing comment of a code line, or a Rust inner doc (`//!`) ends the block.
        Positions are compared on bytes, so this needs no parent or sibling walks.
        """
        data = self.data
        found: list[str] = []
        while True:
            index = bisect_right(self.note_ends, position) - 1
            if index < 0:
                break
            end, start, is_comment = self.notes[index]
            if start >= position:
                break
            gap = data[end:position]
            if gap.strip():
                break
            newlines = gap.count(b"\n") + (1 if is_comment and data[end - 1 : end] == b"\n" else 0)
            if newlines > 1:
                break
            if is_comment:
                line_start = data.rfind(b"\n", 0, start) + 1
                if data[line_start:start].strip():
                    break
                text = decode(data[start:end])
                if self.spec.inner_docs and is_inner_doc(text):
                    break
                found.append(text)
            position = start
        found.reverse()
        return found

    def _text(self, node: Node) -> str:
        return decode(self.data[node.start_byte : node.end_byte])


def _first(nodes: list[Node] | None) -> Node | None:
    return nodes[0] if nodes else None


def _clean_name(text: str) -> str:
    """One-line name with `::` paths written as dots, like the rest of our names."""
    return " ".join(text.split()).replace("::", ".")[:_NAME_MAX_CHARS]


def _type_base(text: str) -> str:
    """The bare type name in a receiver/impl/scope: `(c *Cache)`, `Box<T>`, `a::B` -> last."""
    head = _GENERIC_START.split(text, maxsplit=1)[0]
    names = _IDENTIFIER.findall(head)
    return names[-1][:_NAME_MAX_CHARS] if names else ""


def _header_end(node: Node) -> int | None:
    """Byte where the entity's body starts (or its header ends when it has no body)."""
    body = node.child_by_field_name("body")
    if body is None:
        inner = node.child_by_field_name("value")
        if inner is None and node.type == "type_spec":
            inner = node.child_by_field_name("type")
        if inner is not None:
            body = inner.child_by_field_name("body") or _child_of_type(
                inner, ("field_declaration_list", "{")
            )
    if body is not None:
        end = body.start_byte
        for child in node.children:  # a comment between header and body is not header
            if child.start_byte >= end:
                break
            if child.type in _COMMENT_TYPES and child.start_byte > node.start_byte:
                return child.start_byte
        return end
    ends = [
        child.end_byte
        for child in (node.child_by_field_name(field) for field in _HEADER_FIELDS)
        if child is not None
    ]
    return max(ends) if ends else None


def _child_of_type(node: Node, types: tuple[str, ...]) -> Node | None:
    for child in node.children:
        if child.type in types:
            return child
    return None
