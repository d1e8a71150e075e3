"""Weak hits ("no strong match") as each face shows them: CLI text, CLI JSON, LSP JSON."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from codesearch.cli.render import hits_text
from codesearch.lsp.convert import hit_to_json
from codesearch.search import Hit

STRONG = Hit("up.py", "retry_upload", "function", "python", 3, 9, 0, 0, "def retry_upload():",
             0.81, 0.7, 0.3, ("retry",), weak=False)  # fmt: skip
WEAK = replace(STRONG, path="b.py", name="parse_header", score=0.31, weak=True)


def test_the_cli_marks_weak_hits_and_says_when_nothing_is_strong() -> None:
    out = hits_text([STRONG, WEAK])
    assert "No strong match" not in out
    lines = out.splitlines()
    assert lines[0].endswith("(0.8100)") and "(weak)" not in lines[0]
    assert any("parse_header" in line and line.endswith("(weak)") for line in lines)

    out = hits_text([WEAK])
    assert out.splitlines()[0].startswith("No strong match")


def test_weak_is_in_every_json_shape(tmp_path: Path) -> None:
    assert STRONG.to_json()["weak"] is False and WEAK.to_json()["weak"] is True
    assert hit_to_json(tmp_path, WEAK)["weak"] is True
