"""What an index run and a workspace report: progress, run summaries, per-file problems,
and the status of one root (its JSON shapes are declared in `codesearch.contract`)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codesearch.store import EntityFailure


@dataclass
class IndexProgress:
    # "scanning" | "parsing" | "loading model" | "preparing model" | "embedding" | "done"
    phase: str
    done: int  # entities finished (cached or embedded)
    total: int  # entities found so far in changed files: grows while parsing runs ahead
    files_done: int = 0  # changed files committed
    files_total: int = 0  # changed files in this run
    files_parsed: int = 0  # changed files parsed so far
    embedded: int = 0  # entities the model finished in this run (cached ones not counted)
    expected_s: float = 0.0  # about how long this phase takes, when known (preparing model)

    @property
    def total_known(self) -> bool:
        """Whether `total` is final: every changed file is parsed."""
        return not self.files_total or self.files_parsed >= self.files_total

    def estimated_total(self) -> int:
        """The run's entity total: exact once every file is parsed, until then the entities
        found so far extrapolated over the files not parsed yet (done/total alone reached
        100% and started again each time parsing got ahead)."""
        if self.total_known or self.files_parsed <= 0:
            return self.total
        return max(self.total, round(self.total * self.files_total / self.files_parsed))

    def fraction(self) -> float:
        """The share of the run done, 0 to 1 (see estimated_total)."""
        total = self.estimated_total()
        return min(1.0, self.done / total) if total > 0 else 0.0


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
class MissingFile:
    """A file that is not in the index: it failed, or was left out on purpose."""

    path: str
    reason: str  # failed: the error; skipped: a reason of `skipped` (too_large, binary, ...)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class MissingEntity:
    """A function or class of an indexed file that got no vector."""

    path: str
    name: str
    kind: str
    line: int  # 1-based first line
    reason: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ProblemReport:
    """Every file and entity missing from the index, and why: built from what the catalog
    keeps of problems and skips, so it costs O(problems), never O(files)."""

    failed_files: tuple[MissingFile, ...] = ()
    failed_entities: tuple[MissingEntity, ...] = ()
    skipped_files: tuple[MissingFile, ...] = ()
    warnings: tuple[MissingFile, ...] = ()  # indexed, with a caveat (a guessed encoding)

    @staticmethod
    def of(problems: list[FileProblem], skipped: list[tuple[str, str]]) -> ProblemReport:
        """From the catalog's file problems and (path, reason) skips."""
        ordered = sorted(problems, key=lambda p: p.path)
        return ProblemReport(
            tuple(MissingFile(p.path, p.error) for p in ordered if p.error),
            tuple(
                MissingEntity(p.path, f.name, f.kind, f.start_line, f.reason)
                for p in ordered
                for f in p.failures
            ),
            tuple(MissingFile(path, reason) for path, reason in skipped),
            tuple(MissingFile(p.path, p.warning) for p in ordered if p.warning),
        )

    def __bool__(self) -> bool:
        return bool(
            self.failed_files or self.failed_entities or self.skipped_files or self.warnings
        )


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


@dataclass(frozen=True)
class WorkspaceStatus:
    """What is indexed for one root, and what is missing from it and why.

    `contents_json` is the part `codesearch index --json` shares with `codesearch status
    --json`; the fields of both are declared in `codesearch.contract` (INDEX_REPORT_FIELDS,
    STATUS_REPORT_FIELDS).
    """

    root: str
    store: str
    model: str
    indexed: bool  # a full index pass finished once (False: never, or cleared since)
    counts: CatalogCounts
    problems: ProblemReport
    store_bytes: int
    last_indexed: float | None  # seconds since the epoch
    # where vectors come from, when not only from here: a remote model's problem, the
    # shared cache ({url without credentials, problem}); set by the workspace
    embedding_problem: str | None = None
    shared_cache: dict[str, str | None] | None = None

    @staticmethod
    def empty(root: str, store: str, model: str) -> WorkspaceStatus:
        """The status of a root with no index (its store never created, or not opened)."""
        return WorkspaceStatus(
            root, store, model, False, CatalogCounts(0, 0, 0, 0, {}), ProblemReport(), 0, None
        )

    def contents_json(self) -> dict[str, Any]:
        counts, problems = self.counts, self.problems
        return {
            "root": self.root,
            "model": self.model,
            "store": self.store,
            "files": counts.files,
            "entities": counts.entities,
            "failed": counts.failed,
            "skipped": dict(sorted(counts.skipped.items())),
            "failed_files": [f.to_json() for f in problems.failed_files],
            "failed_entities": [e.to_json() for e in problems.failed_entities],
            "skipped_files": [f.to_json() for f in problems.skipped_files],
            "warnings": [f.to_json() for f in problems.warnings],
        }

    def to_json(self) -> dict[str, Any]:
        """The payload of `codesearch status --json`."""
        return {
            **self.contents_json(),
            "indexed": self.indexed,
            "last_indexed": iso_time(self.last_indexed),
            "store_bytes": self.store_bytes,
            "embedding_problem": self.embedding_problem,
            "shared_cache": self.shared_cache,
        }


def index_report_json(summary: IndexSummary, status: WorkspaceStatus) -> dict[str, Any]:
    """The payload of `codesearch index --json`: what the run did, then what is indexed."""
    run = summary.to_json()
    return {
        **status.contents_json(),
        **{key: run[key] for key in INDEX_RUN_KEYS},
    }


# What `index --json` adds to the contents: this run's own numbers.
INDEX_RUN_KEYS = (
    "scanned",
    "parsed",
    "unchanged",
    "removed",
    "embedded",
    "cached",
    "shared",
    "seconds",
    "cancelled",
)


def iso_time(when: float | None) -> str | None:
    """Local time with its UTC offset, to the second (ISO 8601), or None."""
    if when is None:
        return None
    return datetime.datetime.fromtimestamp(when).astimezone().isoformat(timespec="seconds")
