"""The diagnostics diff on its own: what to publish after a run, given before and after."""

from __future__ import annotations

from codesearch.service.problems import problems_update
from codesearch.store import EntityFailure
from codesearch.workspace import FileProblem


def problem(path: str, error: str = "not valid UTF-8") -> FileProblem:
    return FileProblem(path, error, ())


def test_a_new_problem_is_published() -> None:
    assert problems_update(set(), {"a.py": problem("a.py")}, ["a.py"]) == {"a.py": problem("a.py")}


def test_a_fixed_file_is_cleared() -> None:
    assert problems_update({"a.py"}, {}, ["a.py"]) == {"a.py": None}


def test_a_removed_file_with_a_problem_is_cleared() -> None:
    assert problems_update({"gone.py"}, {}, []) == {"gone.py": None}


def test_a_problem_of_a_file_the_run_wrote_again_is_sent_again() -> None:
    failure = EntityFailure("f", "function", 1, 2, "model failed")
    now = {"a.py": FileProblem("a.py", None, (failure,))}
    assert problems_update({"a.py"}, now, ["a.py"]) == now


def test_unchanged_problems_and_clean_files_send_nothing() -> None:
    now = {"a.py": problem("a.py")}
    assert problems_update({"a.py"}, now, ["b.py", "c.py"]) == {}


def test_many_files_at_once() -> None:
    before = {"fixed.py", "still.py"}
    now = {"still.py": problem("still.py"), "new.py": problem("new.py")}
    assert problems_update(before, now, ["fixed.py", "new.py", "ok.py"]) == {
        "fixed.py": None,
        "new.py": problem("new.py"),
    }
