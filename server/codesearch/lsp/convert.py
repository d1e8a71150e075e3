"""Engine values <-> LSP values: URIs, ranges, hits, symbols and diagnostics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls import uris

from codesearch.contract import symbol_kind_name
from codesearch.search import Hit
from codesearch.workspace import FileProblem

SOURCE = "codesearch"


def plain(value: Any) -> Any:
    """Client data as plain dicts and lists (pygls hands over namedtuple-like objects)."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def uri_to_path(uri: str) -> Path | None:
    """A local file path for a file:// URI; None for other schemes (untitled:, git:)."""
    if not isinstance(uri, str) or not uri.startswith("file:"):
        return None
    path = uris.to_fs_path(uri)
    return Path(path) if path else None


def path_to_uri(path: Path) -> str:
    uri: str | None = uris.from_fs_path(str(path))
    if uri is None:
        raise ValueError(f"cannot make a URI of {path}")
    return uri


def hit_range(hit: Hit) -> types.Range:
    return types.Range(
        start=types.Position(line=max(0, hit.start_line - 1), character=max(0, hit.start_col)),
        end=types.Position(line=max(0, hit.end_line - 1), character=max(0, hit.end_col)),
    )


def hit_to_json(root: Path, hit: Hit) -> dict[str, Any]:
    rng = hit_range(hit)
    return {
        "uri": path_to_uri(root / hit.path),
        "range": {
            "start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character},
        },
        "name": hit.name,
        "kind": hit.kind,
        "language": hit.language,
        "path": hit.path,
        "score": round(hit.score, 6),
        "snippet": hit.signature,
        "matched": list(hit.matched),
        "weak": hit.weak,
    }


def hit_to_symbol(root: Path, hit: Hit) -> types.SymbolInformation:
    return types.SymbolInformation(
        name=hit.name,
        kind=types.SymbolKind[symbol_kind_name(hit.kind)],
        location=types.Location(uri=path_to_uri(root / hit.path), range=hit_range(hit)),
        container_name=hit.path,
    )


def problem_diagnostics(problem: FileProblem | None) -> list[types.Diagnostic]:
    """Warnings for a file that failed to index, or for its entities that failed to embed;
    information for a file indexed with a caveat (its encoding was a guess).

    Neither is an error in the user's code, so neither is shown as an Error.
    """
    if problem is None:
        return []
    diagnostics: list[types.Diagnostic] = []
    if problem.warning:
        diagnostics.append(
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(line=0, character=0),
                    end=types.Position(line=0, character=0),
                ),
                message=f"Codesearch: {problem.warning}",
                severity=types.DiagnosticSeverity.Information,
                source=SOURCE,
            )
        )
    if problem.error:
        diagnostics.append(
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(line=0, character=0),
                    end=types.Position(line=0, character=0),
                ),
                message=f"Codesearch could not index this file: {problem.error}",
                severity=types.DiagnosticSeverity.Warning,
                source=SOURCE,
            )
        )
    for failure in problem.failures:
        diagnostics.append(
            types.Diagnostic(
                range=types.Range(
                    start=types.Position(line=max(0, failure.start_line - 1), character=0),
                    end=types.Position(line=max(0, failure.end_line - 1), character=0),
                ),
                message=(
                    f"Codesearch could not embed {failure.kind} {failure.name}: {failure.reason}"
                ),
                severity=types.DiagnosticSeverity.Warning,
                source=SOURCE,
            )
        )
    return diagnostics
