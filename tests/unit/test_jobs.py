"""Job coalescing on its own: what waits after a new job arrives (a pure function)."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from codesearch.service.jobs import Job, JobKind, pending_work, plan

A, B = Path("/ws/a"), Path("/ws/b")


def index(root: Path = A, force: bool = False, future: Future[Any] | None = None) -> Job:
    return Job(JobKind.INDEX, root, force=force, future=future)


def paths(*names: str, root: Path = A) -> Job:
    return Job(JobKind.PATHS, root, paths=frozenset(names))


def remove(*names: str, root: Path = A) -> Job:
    return Job(JobKind.REMOVE, root, paths=frozenset(names))


CASES: list[tuple[str, list[Job], Job, list[Job]]] = [
    ("queued when nothing waits", [], paths("x.py"), [paths("x.py")]),
    ("a save is absorbed by a full pass waiting", [index()], paths("x.py"), [index()]),
    (
        "a save is not absorbed by another root's pass",
        [index(B)],
        paths("x.py"),
        [index(B), paths("x.py")],
    ),
    (
        "a forced pass does not absorb a save",
        [index(force=True)],
        paths("x.py"),
        [index(force=True), paths("x.py")],
    ),
    ("saves of one root merge", [paths("x.py")], paths("y.py"), [paths("x.py", "y.py")]),
    (
        "saves merge in place, order kept",
        [paths("x.py"), index(B)],
        paths("y.py"),
        [paths("x.py", "y.py"), index(B)],
    ),
    (
        "saves of two roots stay apart",
        [paths("x.py", root=B)],
        paths("y.py"),
        [paths("x.py", root=B), paths("y.py")],
    ),
    (
        "a full pass drops the saves of its root",
        [paths("x.py"), paths("y.py", root=B)],
        index(),
        [paths("y.py", root=B), index()],
    ),
    ("a full pass is absorbed by an equal one", [index()], index(), [index()]),
    ("a full pass is absorbed by a forced one", [index(force=True)], index(), [index(force=True)]),
    (
        "a forced pass is not absorbed by an unforced one",
        [index()],
        index(force=True),
        [index(), index(force=True)],
    ),
    ("another root's pass does not absorb", [index(B)], index(), [index(B), index()]),
    (
        "removals are queued as they come",
        [index(), remove("x.py")],
        remove("y.py"),
        [index(), remove("x.py"), remove("y.py")],
    ),
    ("a close is queued", [index()], Job(JobKind.CLOSE, A), [index(), Job(JobKind.CLOSE, A)]),
    (
        "the newest settings' reopen replaces one waiting for its root",
        [Job(JobKind.REOPEN, A), paths("x.py"), Job(JobKind.REOPEN, B)],
        Job(JobKind.REOPEN, A),
        [paths("x.py"), Job(JobKind.REOPEN, B), Job(JobKind.REOPEN, A)],
    ),
]


@pytest.mark.parametrize(
    ("pending", "new", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(pending: list[Job], new: Job, expected: list[Job]) -> None:
    before = list(pending)
    assert plan(pending, new) == expected
    assert pending == before  # pure: the waiting list is not changed


def test_a_pass_someone_waits_for_is_never_dropped() -> None:
    waiter: Future[Any] = Future()
    new = index(future=waiter)
    planned = plan([index()], new)
    assert planned == [index(), index()] and planned[-1].future is waiter


def test_futures_of_waiting_jobs_survive_merges() -> None:
    waiter: Future[Any] = Future()
    planned = plan(plan([index(future=waiter)], paths("x.py")), index())
    assert [j.future for j in planned] == [waiter]


def test_pending_work_counts_each_saved_file() -> None:
    assert pending_work([]) == 0
    assert pending_work([paths("x.py", "y.py", "z.py"), index(), remove("a.py", "b.py")]) == 5
