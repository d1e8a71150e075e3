"""What a face asks of the index, as one small interface.

Today `codesearch mcp` runs an `IndexService` in its own process; later a process that
finds a root already held by another will attach to the holder over a local socket instead.
Faces are written against `IndexApi` so that an attach client with these same methods can
stand in for the service without the face changing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from codesearch.search import Hit, SearchFilters
from codesearch.service import RootHit, ServiceReport, ServiceStatus


class IndexApi(Protocol):
    """The index's side of a face: roots, queries and state (an IndexService has them)."""

    @property
    def roots(self) -> list[Path]: ...

    def add_folder(self, root: Path | str) -> None: ...

    def remove_folder(self, root: Path | str) -> None: ...

    def search(
        self, query: str, *, limit: int = 20, filters: SearchFilters | None = None
    ) -> list[RootHit]: ...

    def similar(self, path: Path, line: int, *, limit: int = 20) -> list[RootHit]: ...

    def entity_at(self, path: Path, line: int) -> tuple[Path, Hit] | None: ...

    def status(self) -> ServiceStatus: ...

    def report(self) -> ServiceReport: ...

    def wait_idle(self, timeout: float = 60.0) -> bool: ...

    def shutdown(self, timeout: float = 10.0) -> None: ...
