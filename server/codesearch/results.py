"""What an answer shows, the same for every face: each hit with its root and a snippet of its
source as it is on disk now, and an answer cut to a size budget.

Faces (the MCP tools, the CLI, the editor) differ in how they print a hit, not in what a hit
is: the fields, the snippet and the weak flag come from here. An agent's context window is
the scarce thing, so `fit` shortens snippets before it drops hits, and says what it did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from codesearch.index.reading import UnreadableFileError, read_source
from codesearch.search import Hit

SNIPPET_LINES = 12  # source lines shown per hit before any budget cut
SNIPPET_STEPS = (12, 6, 3, 1, 0)  # what `fit` tries, longest first
LINE_CHARS = 160  # a longer source line is clipped (minified code, data tables)
SNIPPET_READ_LIMIT = 4 * 1024 * 1024  # a file larger than this gives no snippet


@dataclass(frozen=True)
class ShownHit:
    """A hit as faces show it: where it is (root and root-relative path) and its source."""

    root: Path
    hit: Hit
    source: tuple[str, ...]  # the entity's first lines as on disk now (may be empty)
    shown_lines: int = SNIPPET_LINES

    @property
    def snippet(self) -> str:
        """The first `shown_lines` lines, clipped, and how many more the entity has."""
        lines = [_clip(line) for line in self.source[: self.shown_lines]]
        hidden = self.hit.end_line - self.hit.start_line + 1 - len(lines)
        if lines and hidden > 0:
            lines.append(f"... {hidden} more line{'s' if hidden != 1 else ''}")
        return "\n".join(lines)

    def showing(self, lines: int) -> ShownHit:
        return replace(self, shown_lines=lines)

    def to_json(self) -> dict[str, Any]:
        hit = self.hit
        return {
            "path": hit.path,
            "root": str(self.root),
            "start_line": hit.start_line,
            "end_line": hit.end_line,
            "name": hit.name,
            "kind": hit.kind,
            "language": hit.language,
            "score": round(hit.score, 4),
            "weak": hit.weak,
            "matched": list(hit.matched),
            "snippet": self.snippet,
        }


def _clip(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 3] + "..."


def show_hits(
    rooted: Sequence[tuple[Path, Hit]], *, max_lines: int = SNIPPET_LINES
) -> list[ShownHit]:
    """Each (root, hit) with its source lines, each file read once. A file that cannot be
    read now (deleted since it was indexed) gives an empty snippet, not an error."""
    files: dict[Path, list[str] | None] = {}
    shown: list[ShownHit] = []
    for root, hit in rooted:
        path = root / hit.path
        if path not in files:
            files[path] = _lines_of(path)
        lines = files[path]
        source: tuple[str, ...] = ()
        if lines is not None:
            first = max(0, hit.start_line - 1)
            last = min(len(lines), hit.end_line, first + max_lines)
            source = tuple(lines[first:last])
        shown.append(ShownHit(root, hit, source, max_lines))
    return shown


def _lines_of(path: Path) -> list[str] | None:
    try:
        return read_source(path, max_file_size=SNIPPET_READ_LIMIT).text.splitlines()
    except (UnreadableFileError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class FittedAnswer:
    """Hits cut to a budget: how many snippet lines survived and how many hits were dropped."""

    hits: list[ShownHit]
    snippet_lines: int
    dropped: int
    shortened: bool  # snippets have fewer lines than asked for


def fit(
    hits: Sequence[ShownHit],
    max_chars: int,
    size_of: Callable[[list[ShownHit], int], int],
) -> FittedAnswer:
    """The most of `hits` whose rendering (`size_of(hits, dropped)`) fits in `max_chars`:
    every snippet is shortened first (12, 6, 3, 1, 0 lines), then hits are dropped from the
    end, the best hits kept. The caller renders; this only decides what to render."""
    start = hits[0].shown_lines if hits else SNIPPET_LINES
    steps = [n for n in SNIPPET_STEPS if n <= start] or [0]
    if steps[0] != start:
        steps.insert(0, start)
    for lines in steps:
        candidate = [h.showing(lines) for h in hits]
        if size_of(candidate, 0) <= max_chars:
            return FittedAnswer(candidate, lines, 0, lines < start)
    kept = [h.showing(0) for h in hits]
    while kept and size_of(kept, len(hits) - len(kept)) > max_chars:
        kept.pop()
    return FittedAnswer(kept, 0, len(hits) - len(kept), start > 0)
