"""Indexing jobs and how a new one joins those waiting: a pure plan, tested on its own.

Saves come in bursts and full passes make saves redundant, so a new job may be absorbed
by one already waiting, merged into it, or replace some; what the worker runs next is
always `plan(pending, new)`.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class JobKind(enum.Enum):
    INDEX = "index"  # a full (incremental) pass over one root; forced: re-embed everything
    PATHS = "paths"  # re-index these files (saves, watcher events)
    REMOVE = "remove"  # drop these files or folders
    CLEAR = "clear"  # forget the root's index, then index it again
    CLOSE = "close"  # close the root and clear its diagnostics
    # new settings: open the root anew, then a full pass; the open workspace serves until
    # the new one is ready, and stays if it cannot be (a model that does not load)
    REOPEN = "reopen"


@dataclass(frozen=True)
class Job:
    kind: JobKind
    root: Path
    force: bool = False
    paths: frozenset[str] = frozenset()
    future: Future[Any] | None = dataclasses.field(default=None, compare=False)


def plan(pending: Sequence[Job], new: Job) -> list[Job]:
    """The jobs waiting after `new` arrives (neither argument is changed).

    - a paths job is absorbed by an unforced full pass waiting for its root, else merged
      into a paths job waiting for its root;
    - a full pass drops the paths jobs waiting for its root (it reads those files too), and
      is absorbed by a full pass waiting for its root that is at least as forced, unless
      someone waits for its result (a future is never dropped);
    - a reopen replaces a reopen waiting for its root (the newest settings win);
    - every other job is queued as it comes.
    """
    jobs = list(pending)
    same_root = [j for j in jobs if j.root == new.root]
    if new.kind is JobKind.PATHS:
        for waiting in same_root:
            if waiting.kind is JobKind.INDEX and not waiting.force:
                return jobs  # a full pass is coming anyway
            if waiting.kind is JobKind.PATHS:
                merged = dataclasses.replace(waiting, paths=waiting.paths | new.paths)
                return [merged if j is waiting else j for j in jobs]
    if new.kind is JobKind.REOPEN:
        jobs = [
            j
            for j in jobs
            if not (j.root == new.root and j.kind is JobKind.REOPEN and j.future is None)
        ]
    if new.kind is JobKind.INDEX:
        jobs = [j for j in jobs if not (j.root == new.root and j.kind is JobKind.PATHS)]
        if new.future is None and any(
            j.root == new.root and j.kind is JobKind.INDEX and j.force >= new.force for j in jobs
        ):
            return jobs
    return [*jobs, new]


def pending_work(jobs: Sequence[Job]) -> int:
    """Work items waiting: one per job, one per file of a paths job."""
    return sum(len(j.paths) if j.kind is JobKind.PATHS else 1 for j in jobs)


def all_of(futures: Sequence[Future[Any]]) -> Future[list[Any]]:
    """One future for several (one per root): their results in order, or the first error."""
    combined: Future[list[Any]] = Future()
    if not futures:
        combined.set_result([])
        return combined

    def gather(_: Future[Any]) -> None:
        if all(f.done() for f in futures) and not combined.done():
            errors = [f.exception() for f in futures if f.exception() is not None]
            if errors:
                combined.set_exception(errors[0])
            else:
                combined.set_result([f.result() for f in futures])

    for future in futures:
        future.add_done_callback(gather)
    return combined
