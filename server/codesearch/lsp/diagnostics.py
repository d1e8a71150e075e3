"""Failure diagnostics, kept in one place per URI so fixed files are cleared."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codesearch.lsp.convert import path_to_uri, problem_diagnostics
from codesearch.workspace import FileProblem


class DiagnosticsPublisher:
    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self._published: dict[str, Path] = {}  # uri -> root

    def update(self, root: Path, problems: dict[str, FileProblem | None]) -> None:
        for rel, problem in problems.items():
            uri = path_to_uri(root / rel)
            diagnostics = problem_diagnostics(problem)
            if not diagnostics and uri not in self._published:
                continue
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
            )
            if diagnostics:
                self._published[uri] = root
            else:
                self._published.pop(uri, None)

    def clear_root(self, root: Path) -> None:
        for uri, owner in list(self._published.items()):
            if owner == root:
                self.server.text_document_publish_diagnostics(
                    types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
                )
                del self._published[uri]
