"""The whole state of a service for a reader who must act on it: the status counts, and per
root what failed (each file named, with its reason) and what was left out on purpose.

`ServiceStatus` is the cheap payload sent after every save; this report walks each root's
problems and skip lists, so it is built only when asked (`IndexService.report`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from codesearch.service.status import ServiceStatus
from codesearch.workspace import Workspace


@dataclass(frozen=True)
class NamedFile:
    path: str  # relative to its root
    reason: str


@dataclass(frozen=True)
class RootReport:
    root: Path
    files: int
    entities: int
    failed: list[NamedFile]  # files, or entities in them, that could not be indexed
    skipped: list[NamedFile]  # files left out on purpose (too large, links leaving the root)
    last_indexed: float | None  # seconds since the epoch of the last finished pass


@dataclass(frozen=True)
class ServiceReport:
    status: ServiceStatus
    roots: list[RootReport]


def root_report(root: Path, workspace: Workspace) -> RootReport:
    """One root's report, from its status (O(problems): the catalog keeps them named)."""
    status = workspace.status()
    problems = status.problems
    failed = [NamedFile(f.path, f.reason) for f in problems.failed_files]
    failed += [
        NamedFile(e.path, f"could not embed {e.kind} {e.name} (line {e.line}): {e.reason}")
        for e in problems.failed_entities
    ]
    skipped = [NamedFile(f.path, f.reason.replace("_", " ")) for f in problems.skipped_files]
    return RootReport(
        root,
        status.counts.files,
        status.counts.entities,
        sorted(failed, key=lambda n: n.path),
        skipped,
        status.last_indexed,
    )


def build_report(
    status: ServiceStatus, workspaces: Iterable[tuple[Path, Workspace]]
) -> ServiceReport:
    return ServiceReport(status, [root_report(root, ws) for root, ws in workspaces])
