"""Hits as every face shows them: snippets read from disk, answers cut to a budget."""

from __future__ import annotations

import json
from pathlib import Path

from codesearch.results import SNIPPET_LINES, ShownHit, fit, show_hits
from codesearch.search import Hit


def hit(path: str, start: int, end: int, name: str = "f", score: float = 0.9) -> Hit:
    return Hit(path, name, "function", "python", start, end, 0, 0, "", score, score, 0.0, ())


def test_snippets_are_the_entity_lines_on_disk_now(tmp_path: Path) -> None:
    body = [f"    line {i}" for i in range(1, 31)]
    (tmp_path / "a.py").write_text("import os\ndef big():\n" + "\n".join(body) + "\n")
    (tmp_path / "b.py").write_text("def small():\n    return 1\n")
    shown = show_hits(
        [(tmp_path, hit("a.py", 2, 32, "big")), (tmp_path, hit("b.py", 1, 2, "small")),
         (tmp_path, hit("gone.py", 1, 3))]
    )  # fmt: skip
    big, small, gone = shown
    assert big.snippet.splitlines()[0] == "def big():"
    assert len(big.snippet.splitlines()) == SNIPPET_LINES + 1
    assert big.snippet.endswith(f"... {31 - SNIPPET_LINES} more lines")
    assert small.snippet == "def small():\n    return 1"
    assert gone.snippet == ""  # deleted since it was indexed: no error
    assert big.showing(1).snippet == "def big():\n... 30 more lines"
    assert big.to_json()["snippet"] == big.snippet and big.to_json()["root"] == str(tmp_path)


def test_very_long_lines_are_clipped(tmp_path: Path) -> None:
    (tmp_path / "m.js").write_text("function m(){" + "x+" * 500 + "}\n")
    (shown,) = show_hits([(tmp_path, hit("m.js", 1, 1))])
    assert len(shown.snippet) == 160 and shown.snippet.endswith("...")


def sized(hits: list[ShownHit], dropped: int) -> int:
    return len(json.dumps([h.to_json() for h in hits])) + 10 * dropped


def test_fit_shortens_snippets_before_dropping_hits(tmp_path: Path) -> None:
    lines = "\n".join(f"    step_{i} = compute({i})" for i in range(40))
    (tmp_path / "a.py").write_text("def f():\n" + lines + "\n")
    shown = show_hits([(tmp_path, hit("a.py", 1, 41, f"f{i}")) for i in range(10)])
    whole = sized(shown, 0)
    assert fit(shown, whole, sized).snippet_lines == SNIPPET_LINES  # fits as it is
    shorter = fit(shown, whole // 2, sized)
    assert shorter.dropped == 0 and shorter.snippet_lines < SNIPPET_LINES and shorter.shortened
    assert sized(shorter.hits, 0) <= whole // 2
    few = fit(shown, sized(shown[:3], 0) // 3, sized)
    assert few.snippet_lines == 0 and 0 < len(few.hits) < 10
    assert [h.hit.name for h in few.hits] == [f"f{i}" for i in range(len(few.hits))]
    assert few.dropped == 10 - len(few.hits)
    assert fit(shown, 5, sized).hits == []
    assert fit([], 100, sized).hits == []
