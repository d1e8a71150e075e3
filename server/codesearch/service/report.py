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
from codesearch.workspace import FileProblem, Workspace


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


def problem_reasons(problem: FileProblem) -> list[NamedFile]:
    """One line per failure: the file's own error, or each entity that failed to embed."""
    named = [NamedFile(problem.path, problem.error)] if problem.error else []
    for failure in problem.failures:
        where = f"{failure.kind} {failure.name} (line {failure.start_line})"
        named.append(NamedFile(problem.path, f"could not embed {where}: {failure.reason}"))
    return named


def root_report(root: Path, workspace: Workspace) -> RootReport:
    counts = workspace.counts()
    failed = [named for p in workspace.problems() for named in problem_reasons(p)]
    skipped = [
        NamedFile(path, reason.replace("_", " "))
        for reason, paths in workspace.skipped_paths().items()
        for path in paths
    ]
    catalog = workspace.catalog
    if catalog is not None:  # files found binary or too large only when read
        for path in catalog.paths():
            manifest = catalog.manifest(path)
            if manifest is not None and manifest.skipped:
                skipped.append(NamedFile(path, manifest.skipped))
    return RootReport(
        root,
        counts.files,
        counts.entities,
        sorted(failed, key=lambda n: n.path),
        sorted(skipped, key=lambda n: n.path),
        workspace.last_indexed,
    )


def build_report(
    status: ServiceStatus, workspaces: Iterable[tuple[Path, Workspace]]
) -> ServiceReport:
    return ServiceReport(status, [root_report(root, ws) for root, ws in workspaces])
