"""What the command line prints: hits, run summaries and status, as text for people or as
JSON for scripts (the JSON shapes are declared in `codesearch.contract`)."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Sequence
from typing import Any

from codesearch.index.scan import SKIP_SYMLINK_OUTSIDE, SKIP_TOO_LARGE, SKIP_UNREADABLE
from codesearch.search import Hit
from codesearch.workspace import IndexSummary, ProblemReport, WorkspaceStatus

# How each reason a file was left out reads in a sentence (JSON keeps the short names).
SKIP_TEXT = {
    SKIP_TOO_LARGE: "larger than --max-file-size",
    SKIP_SYMLINK_OUTSIDE: "a link to a place outside the folder",
    SKIP_UNREADABLE: "could not be listed",
    "binary": "binary (contains NUL bytes)",
}


def json_text(data: Any) -> str:
    return json.dumps(data, indent=2)


def command_line(*words: str) -> str:
    """A command as the user would type it, quoted for the shell where needed."""
    return " ".join(shlex.quote(word) for word in words)


def plural(count: int, word: str, words: str = "") -> str:
    return f"{count} {word}" if count == 1 else f"{count} {words or word + 's'}"


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    value, unit = size / 1024, "KiB"
    for bigger in ("MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def age_text(seconds: float) -> str:
    minutes = seconds / 60
    if minutes < 1.5:
        return "just now"
    if minutes < 90:
        return f"{plural(round(minutes), 'minute')} ago"
    hours = minutes / 60
    if hours < 36:
        return f"{plural(round(hours), 'hour')} ago"
    return f"{plural(round(hours / 24), 'day')} ago"


# -- index ---------------------------------------------------------------------------------------
def summary_line(summary: IndexSummary) -> str:
    shared = f"{summary.shared} from the shared cache, " if summary.shared else ""
    line = (
        f"Indexed {summary.files} files, {summary.entities} entities "
        f"({summary.embedded} embedded, {shared}{summary.cached} cached, "
        f"{summary.unchanged} files unchanged, {summary.removed} removed"
    )
    if summary.failed:
        line += f", {summary.failed} failed"
    if summary.skipped:
        line += f", {summary.skipped} skipped"
    return line + f") in {summary.seconds:.1f}s"


def problems_hint(problems: ProblemReport, root: str) -> str | None:
    """One line saying where the failed and skipped files are named (None: there are none)."""
    if not problems:
        return None
    status = command_line("codesearch", "status", "--path", root)
    return f"Each failed and skipped file is named by `{status}` (or `codesearch index -v`)."


# -- status and problems --------------------------------------------------------------------------
def problem_lines(problems: ProblemReport, indent: str = "  ") -> list[str]:
    """Each failed file, failed entity and skipped file with its reason, grouped."""
    lines: list[str] = []
    if problems.failed_files:
        lines.append(f"{indent}{plural(len(problems.failed_files), 'failed file')}:")
        lines += [f"{indent}  {f.path}: {f.reason}" for f in problems.failed_files]
    if problems.failed_entities:
        count = plural(len(problems.failed_entities), "failed entity", "failed entities")
        lines.append(f"{indent}{count}:")
        lines += [
            f"{indent}  {e.path}:{e.line} {e.kind} {e.name}: {e.reason}"
            for e in problems.failed_entities
        ]
    if problems.skipped_files:
        lines.append(f"{indent}{plural(len(problems.skipped_files), 'skipped file')}:")
        lines += [
            f"{indent}  {f.path}: {SKIP_TEXT.get(f.reason, f.reason)}"
            for f in problems.skipped_files
        ]
    if problems.warnings:
        lines.append(f"{indent}{plural(len(problems.warnings), 'file')} indexed with a warning:")
        lines += [f"{indent}  {f.path}: {f.reason}" for f in problems.warnings]
    return lines


def not_indexed_text(root: str) -> str:
    return f"{root} is not indexed yet: `{command_line('codesearch', 'index', root)}` indexes it."


def status_text(status: WorkspaceStatus, now: float | None = None) -> str:
    if not status.indexed:
        return not_indexed_text(status.root)
    counts = status.counts
    when = "never: no full index has finished yet"
    if status.last_indexed is not None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(status.last_indexed))
        age = age_text((time.time() if now is None else now) - status.last_indexed)
        when = f"{stamp} ({age})"
    lines = [
        status.root,
        f"  {plural(counts.files, 'file')}, {plural(counts.entities, 'entity', 'entities')}; "
        f"last indexed {when}",
        f"  model {status.model}",
        *([f"  embedding problem: {status.embedding_problem}"] if status.embedding_problem else []),
        *(_shared_cache_lines(status.shared_cache)),
        f"  store {status.store} ({size_text(status.store_bytes)})",
    ]
    problems = problem_lines(status.problems)
    lines += problems or ["  nothing failed, nothing skipped"]
    return "\n".join(lines)


def _shared_cache_lines(shared: dict[str, str | None] | None) -> list[str]:
    if shared is None:
        return []
    problem = f" ({shared['problem']})" if shared.get("problem") else ""
    return [f"  shared cache {shared['url']}{problem}"]


# -- hits ----------------------------------------------------------------------------------------
def hits_text(hits: Sequence[Hit]) -> str:
    if not hits:
        return "No results."
    lines: list[str] = []
    if all(hit.weak for hit in hits):
        lines.append("No strong match: these are the closest, but may not be what you asked for.")
    for number, hit in enumerate(hits, 1):
        weak = " (weak)" if hit.weak else ""
        lines.append(
            f"{number:2}. {hit.path}:{hit.start_line}  {hit.kind} {hit.name}  ({hit.score:.4f})"
            + weak
        )
        if hit.signature:
            lines.append(f"      {hit.signature[:120]}")
        if hit.matched:
            lines.append(f"      matched: {', '.join(hit.matched)}")
    return "\n".join(lines)


def hits_json(hits: Sequence[Hit]) -> str:
    return json_text([hit.to_json() for hit in hits])
