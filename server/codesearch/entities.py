"""The unit of search: one function, method or class extracted from a source file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EntityKind = Literal["function", "method", "class"]
ENTITY_KINDS: tuple[EntityKind, ...] = ("function", "method", "class")


@dataclass(frozen=True, slots=True)
class Entity:
    """A function, method or class as the parser found it.

    `path` is relative to the workspace root with forward slashes, so the same code
    gets the same identity on every machine. Lines are 1-based and inclusive; columns
    are 0-based character offsets (what LSP ranges need).
    """

    path: str
    name: str  # qualified, e.g. "Cache.get"; unique per (path, kind)
    kind: EntityKind
    language: str
    start_line: int
    end_line: int
    source: str
    signature: str = ""
    docstring: str = ""
    start_col: int = 0
    end_col: int = 0

    @property
    def id(self) -> str:
        """Stable identity across edits: location-free, so moving code keeps it."""
        return entity_id(self.path, self.kind, self.name)


def entity_id(path: str, kind: str, name: str) -> str:
    return f"{path}::{kind}::{name}"
