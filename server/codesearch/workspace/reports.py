"""What an index run and a workspace report: progress, run summaries, per-file problems."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from codesearch.store import EntityFailure


@dataclass
class IndexProgress:
    phase: str  # "scanning" | "parsing" | "loading model" | "embedding" | "done"
    done: int  # entities finished (cached or embedded)
    total: int  # entities in changed files
    files_done: int = 0
    files_total: int = 0


@dataclass
class IndexSummary:
    files: int = 0  # files in the index afterwards
    entities: int = 0  # entities in the index afterwards
    scanned: int = 0
    parsed: int = 0  # files read and parsed in this run
    unchanged: int = 0
    removed: int = 0  # files dropped from the index
    embedded: int = 0  # entities sent to the model
    cached: int = 0  # entities of parsed files whose vectors were already stored here
    shared: int = 0  # entities whose vectors came from the shared tier (not embedded here)
    failed: int = 0  # failed entities + failed files
    failed_files: int = 0
    skipped: int = 0  # too large, binary, symlinks leaving the workspace, unlistable
    seconds: float = 0.0
    cancelled: bool = False
    changed_paths: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        data = dict(self.__dict__)
        data.pop("changed_paths")
        data["seconds"] = round(self.seconds, 3)
        return data


@dataclass(frozen=True)
class FileProblem:
    """What a user should know about one file (for diagnostics): why it, or some of its
    entities, is missing from the index (`error`, `failures`: tried again on every run),
    or a caveat about a file that is indexed (`warning`: its encoding was a guess)."""

    path: str
    error: str | None
    failures: tuple[EntityFailure, ...]
    warning: str | None = None


@dataclass(frozen=True)
class CatalogCounts:
    """What is indexed for one root, kept as it changes (status never walks the files)."""

    files: int
    entities: int
    failed_files: int
    failed_entities: int
    skipped: dict[str, int]  # reason -> files left out on purpose

    @property
    def failed(self) -> int:
        return self.failed_files + self.failed_entities


ProgressFn = Callable[[IndexProgress], None]
StopFn = Callable[[], bool]
