"""Map tree-sitter positions (rows and UTF-8 byte columns) to character positions.

tree-sitter counts rows by "\\n" only and columns in bytes; LSP and `Entity` want
character columns. Lines are split on "\\n" exactly like tree-sitter, and a line is
only encoded when it is not ASCII, so the common case costs nothing.
"""

from __future__ import annotations

from itertools import accumulate


def encode(source: str) -> bytes:
    """UTF-8 bytes for tree-sitter; lone surrogates survive (surrogatepass) instead of raising."""
    return source.encode("utf-8", "surrogatepass")


def decode(data: bytes) -> str:
    """Best-effort text for names, signatures and comments: never raises."""
    try:
        return data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace")


class SourceText:
    """The source split into lines, with byte-to-character column conversion."""

    __slots__ = ("_encoded", "line_starts", "lines", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.split("\n")
        # Character offset at which each line starts.
        self.line_starts = [0, *accumulate(len(line) + 1 for line in self.lines)]
        self._encoded: dict[int, bytes | None] = {}

    def char_col(self, row: int, byte_col: int) -> int:
        """The character column for a byte column on `row` (snapped back to a char start)."""
        if row < 0 or byte_col <= 0:
            return 0
        if row >= len(self.lines):
            row = len(self.lines) - 1
        if row in self._encoded:
            encoded = self._encoded[row]
        else:
            line = self.lines[row]
            encoded = None if line.isascii() else encode(line)
            self._encoded[row] = encoded
        if encoded is None:
            return min(byte_col, len(self.lines[row]))
        prefix = encoded[:byte_col]
        # A column inside a multi-byte character is snapped back to its first byte.
        for cut in range(4):
            try:
                return len(prefix[: len(prefix) - cut].decode("utf-8", "surrogatepass"))
            except UnicodeDecodeError:
                continue
        return len(prefix.decode("utf-8", "ignore"))

    def offset(self, row: int, char_col: int) -> int:
        """Character offset into the source of (row, character column)."""
        row = min(max(row, 0), len(self.lines) - 1)
        return self.line_starts[row] + min(char_col, len(self.lines[row]))
