"""Turn raw comments and Python docstrings into clean documentation text.

Docstrings feed the embedding text and the quality benchmark (queries are docstrings),
so markers (`/** * */`, `//`, `///`, `#`, quotes) are removed and indentation is
normalised the way `inspect.cleandoc` does for Python.
"""

from __future__ import annotations

import inspect
import re

from tree_sitter import Node

from codesearch.parsing.positions import decode

_BLOCK_LINE_MARK = re.compile(r"^\s*\*+(?!/) ?")
_LINE_MARK = re.compile(r"^(?://[/!]?|#+)")
_XML_TAG = re.compile(r"</?(?:summary|remarks|returns|value)>")
_PY_STRING = re.compile(r"^[rRuUbBfF]{0,2}(\"\"\"|'''|\"|')(.*?)\1?$", re.DOTALL)

PY_STRING_TYPES = frozenset({"string", "concatenated_string"})


def is_inner_doc(text: str) -> bool:
    """`//!` and `/*!`: in Rust they document the enclosing module, not the next item."""
    return text.startswith(("//!", "/*!"))


def comment_lines(text: str) -> list[str]:
    """The lines of one comment with its markers removed (indentation kept for cleandoc)."""
    text = text.strip()
    if text.startswith("/*"):
        body = text[2:].lstrip("*!")
        if body.endswith("*/"):
            body = body[:-2].rstrip("*")
        lines = body.split("\n")
        return [lines[0], *(_BLOCK_LINE_MARK.sub("", line, count=1) for line in lines[1:])]
    if text.startswith("=begin"):  # Ruby block comment
        lines = text.split("\n")[1:]
        if lines and lines[-1].startswith("=end"):
            lines.pop()
        return lines
    if text.startswith("<!--"):
        return [text[4:].removesuffix("-->")]
    return [_LINE_MARK.sub("", line, count=1) for line in text.split("\n")]


def clean_comments(texts: list[str], *, xml: bool = False) -> str:
    """One docstring from a block of consecutive comments (top to bottom)."""
    lines: list[str] = []
    for text in texts:
        lines.extend(line.rstrip() for line in comment_lines(text))
    doc = "\n".join(lines)
    if xml:
        doc = _XML_TAG.sub("", doc)
    return inspect.cleandoc(doc)


def python_string_value(text: str) -> str:
    """The text inside a Python string literal's quotes, prefix removed (escapes kept)."""
    match = _PY_STRING.match(text.strip())
    return match.group(2) if match else text


def python_docstring_node(body: Node | None) -> Node | None:
    """The statement holding the docstring of a module/class/function body, if any.

    Python's rule: the first statement (comments are not statements) when it is a
    bare string expression.
    """
    if body is None:
        return None
    for index in range(body.named_child_count):
        child = body.named_child(index)
        if child.type == "comment":
            continue
        return child if _is_string_statement(child) else None
    return None


def python_leading_strings(body: Node | None) -> list[Node]:
    """All bare string statements at the top of a body.

    Removing only the first would promote the next one to docstring, so stripping
    takes them all.
    """
    found: list[Node] = []
    if body is None:
        return found
    for index in range(body.named_child_count):
        child = body.named_child(index)
        if child.type == "comment":
            continue
        if not _is_string_statement(child):
            break
        found.append(child)
    return found


def _is_string_statement(node: Node) -> bool:
    if node.type != "expression_statement" or node.named_child_count != 1:
        return False
    return node.named_child(0).type in PY_STRING_TYPES


def python_docstring(statement: Node, data: bytes) -> str:
    """Clean docstring text of the statement `python_docstring_node` found.

    Implicit concatenation ("a" "b") is joined, as Python does.
    """
    value = statement.named_child(0)
    if value is None:
        return ""
    if value.type == "concatenated_string":
        parts = []
        for index in range(value.named_child_count):
            part = value.named_child(index)
            if part is not None and part.type == "string":
                parts.append(python_string_value(decode(data[part.start_byte : part.end_byte])))
        return inspect.cleandoc("".join(parts))
    return inspect.cleandoc(python_string_value(decode(data[value.start_byte : value.end_byte])))
