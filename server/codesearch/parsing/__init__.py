"""Parsing: source text -> functions, methods and classes (tree-sitter, pure, no I/O).

This package never reads files, loads models or imports the LSP layer, so the CLI,
the language server and the benchmarks share it unchanged.
"""

from codesearch.parsing.extract import extract_entities
from codesearch.parsing.languages import SUPPORTED_LANGUAGES, language_for_path
from codesearch.parsing.specs import UnsupportedLanguageError
from codesearch.parsing.strip import strip_docs

__all__ = [
    "SUPPORTED_LANGUAGES",
    "UnsupportedLanguageError",
    "extract_entities",
    "language_for_path",
    "strip_docs",
]
