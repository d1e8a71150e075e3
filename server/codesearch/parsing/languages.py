"""Which language a file is in, decided by its extension alone (cheap, predictable)."""

from __future__ import annotations

from pathlib import PurePath

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
}

SUPPORTED_LANGUAGES: tuple[str, ...] = tuple(sorted(set(EXTENSIONS.values())))


def language_for_path(path: str | PurePath) -> str | None:
    """The language for a path by its extension, or None when we do not index it."""
    return EXTENSIONS.get(PurePath(path).suffix.lower())
