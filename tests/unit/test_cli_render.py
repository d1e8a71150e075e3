"""What `codesearch status` prints for people (issue 14, items 6 and 7): each failed and
skipped file with its reason in words, when the folder was last indexed, the store's size."""

from __future__ import annotations

import time

from codesearch.cli.render import age_text, size_text, status_text
from codesearch.workspace import (
    CatalogCounts,
    MissingEntity,
    MissingFile,
    ProblemReport,
    WorkspaceStatus,
)

NOW = time.mktime((2026, 3, 4, 12, 0, 0, 0, 0, -1))


def _status(last: float | None, problems: ProblemReport) -> WorkspaceStatus:
    counts = CatalogCounts(12, 345, 1, 1, {"too_large": 1})
    return WorkspaceStatus(
        "/src/app", "/cache/app-1234", "all-MiniLM-L6-v2 (onnx-int8)", True, counts, problems,
        1_572_864, last,
    )  # fmt: skip


def test_status_names_each_problem_with_its_reason_in_words() -> None:
    problems = ProblemReport(
        (MissingFile("legacy/latin1.py", "not valid UTF-8 (invalid start byte at offset 9)"),),
        (MissingEntity("app/core.py", "Parser.parse", "method", 40, "the model failed"),),
        (MissingFile("vendor/huge.py", "too_large"),),
    )
    text = status_text(_status(NOW - 2 * 3600, problems), now=NOW)
    assert text.splitlines() == [
        "/src/app",
        "  12 files, 345 entities; last indexed 2026-03-04 10:00:00 (2 hours ago)",
        "  model all-MiniLM-L6-v2 (onnx-int8)",
        "  store /cache/app-1234 (1.5 MiB)",
        "  1 failed file:",
        "    legacy/latin1.py: not valid UTF-8 (invalid start byte at offset 9)",
        "  1 failed entity:",
        "    app/core.py:40 method Parser.parse: the model failed",
        "  1 skipped file:",
        "    vendor/huge.py: larger than --max-file-size",
    ]


def test_status_without_problems_or_a_finished_index_says_so() -> None:
    text = status_text(_status(None, ProblemReport()), now=NOW)
    assert "last indexed never: no full index has finished yet" in text
    assert text.endswith("  nothing failed, nothing skipped")


def test_sizes_and_ages_read_naturally() -> None:
    assert [size_text(n) for n in (0, 1023, 1024, 1_572_864, 5 << 30)] == [
        "0 bytes",
        "1023 bytes",
        "1.0 KiB",
        "1.5 MiB",
        "5.0 GiB",
    ]
    assert [age_text(s) for s in (-5, 30, 60 * 10, 3600 * 5, 86400 * 3)] == [
        "just now",
        "just now",
        "10 minutes ago",
        "5 hours ago",
        "3 days ago",
    ]
