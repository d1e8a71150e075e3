"""The MCP tools' output shapes (their output schemas) and the compact text beside them.

Every field has one JSON type and no field is nullable: some MCP clients reject schemas
with union types, so "none" is an empty string, zero or an empty list. The hit fields are
those of `codesearch.results.ShownHit.to_json`, the shape every face shows.
"""

from __future__ import annotations

import json
import time

from pydantic import BaseModel, Field

from codesearch.results import ShownHit
from codesearch.service import ServiceReport

LISTED_FILES = 20  # failed or skipped files named per root in index_status


class HitOut(BaseModel):
    path: str = Field(description="file path relative to its root")
    root: str = Field(description="the workspace folder (absolute) that holds the file")
    start_line: int = Field(description="first line of the entity, 1-based")
    end_line: int = Field(description="last line of the entity, 1-based, inclusive")
    name: str = Field(description="qualified name, e.g. Cache.get")
    kind: str = Field(description="function, method, class, ...")
    language: str
    score: float = Field(description="higher is better; compare within one answer only")
    weak: bool = Field(description="below the calibrated threshold: probably not what was asked")
    matched: list[str] = Field(description="the query's words found in the entity's names")
    snippet: str = Field(description="the entity's first source lines, as on disk now")


class HitsAnswer(BaseModel):
    hits: list[HitOut]
    found: int = Field(description="hits found before the size budget was applied")
    dropped: int = Field(description="hits left out to stay within max_chars")
    snippet_lines: int = Field(description="source lines shown per hit after trimming")
    no_strong_match: bool = Field(description="every hit is weak: the code may not exist")
    index_state: str = Field(description="starting, indexing, idle, error or disabled")
    note: str = Field(description="what the reader should know about this answer, or empty")


class NamedFileOut(BaseModel):
    path: str
    reason: str


class RootOut(BaseModel):
    root: str
    files: int
    entities: int
    failed_count: int
    failed: list[NamedFileOut] = Field(description=f"the first {LISTED_FILES} failures")
    skipped_count: int
    skipped: list[NamedFileOut] = Field(description=f"the first {LISTED_FILES} skipped files")
    last_indexed: str = Field(description="ISO time of the last finished pass, or empty")


class StatusAnswer(BaseModel):
    state: str = Field(description="starting, indexing, idle, error or disabled")
    model: str = Field(description="the embedding model in use")
    files: int
    entities: int
    pending: int = Field(description="files waiting to be re-indexed")
    failed: int
    skipped: int
    progress_done: int = Field(description="entities embedded in the current pass (0: none)")
    progress_total: int = Field(description="entities planned in the current pass (0: none)")
    paused: bool
    last_error: str = Field(description="the last error while in the error state, or empty")
    roots: list[RootOut]


def hit_out(shown: ShownHit) -> HitOut:
    return HitOut.model_validate(shown.to_json())


def hits_answer(
    shown: list[ShownHit], found: int, dropped: int, snippet_lines: int, state: str, note: str
) -> HitsAnswer:
    hits = [hit_out(s) for s in shown]
    all_weak = bool(shown) and all(s.hit.weak for s in shown)
    return HitsAnswer(
        hits=hits,
        found=found,
        dropped=dropped,
        snippet_lines=snippet_lines,
        no_strong_match=all_weak,
        index_state=state,
        note=note,
    )


def render_hits(answer: HitsAnswer) -> str:
    """The compact text a model reads: one header line per hit, its snippet indented."""
    lines: list[str] = []
    if answer.note:
        lines.append(answer.note)
    if not answer.hits:
        lines.append("No results.")
    several_roots = len({hit.root for hit in answer.hits}) > 1
    for number, hit in enumerate(answer.hits, 1):
        weak = " (weak)" if hit.weak else ""
        where = f"{hit.root}/{hit.path}" if several_roots else hit.path
        lines.append(
            f"{number}. {where}:{hit.start_line}-{hit.end_line} {hit.kind} {hit.name} "
            f"[{hit.language}, score {hit.score:.3f}]{weak}"
        )
        lines.extend("   " + line for line in hit.snippet.splitlines())
    return "\n".join(lines)


def answer_size(answer: HitsAnswer) -> int:
    """What the answer costs a context window: the text and the structured JSON both."""
    return max(len(render_hits(answer)), len(json.dumps(answer.model_dump())))


def status_answer(report: ServiceReport) -> StatusAnswer:
    status = report.status
    done, total = status.progress or (0, 0)
    roots = [
        RootOut(
            root=str(r.root),
            files=r.files,
            entities=r.entities,
            failed_count=len(r.failed),
            failed=[NamedFileOut(path=f.path, reason=f.reason) for f in r.failed[:LISTED_FILES]],
            skipped_count=len(r.skipped),
            skipped=[NamedFileOut(path=f.path, reason=f.reason) for f in r.skipped[:LISTED_FILES]],
            last_indexed=_iso(r.last_indexed),
        )
        for r in report.roots
    ]
    return StatusAnswer(
        state=status.state.value,
        model=status.model,
        files=status.files,
        entities=status.entities,
        pending=status.pending,
        failed=status.failed,
        skipped=status.skipped,
        progress_done=done,
        progress_total=total,
        paused=status.paused,
        last_error=status.last_error or "",
        roots=roots,
    )


def _iso(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(stamp)) if stamp else ""


def render_status(answer: StatusAnswer) -> str:
    progress = (
        f", embedding {answer.progress_done}/{answer.progress_total}"
        if answer.progress_total
        else ""
    )
    lines = [
        f"Index {answer.state}{' (paused)' if answer.paused else ''}{progress}: "
        f"{answer.files} files, {answer.entities} entities, {answer.pending} pending, "
        f"{answer.failed} failed, {answer.skipped} skipped; model {answer.model}"
    ]
    if answer.last_error:
        lines.append(f"Error: {answer.last_error}")
    for root in answer.roots:
        when = f", last indexed {root.last_indexed}" if root.last_indexed else ""
        lines.append(f"{root.root}: {root.files} files, {root.entities} entities{when}")
        for label, count, named in (
            ("failed", root.failed_count, root.failed),
            ("skipped", root.skipped_count, root.skipped),
        ):
            lines.extend(f"  {label}: {f.path}: {f.reason}" for f in named)
            if count > len(named):
                lines.append(f"  ... {count - len(named)} more {label}")
    if not answer.roots:
        lines.append("No workspace folder is open.")
    return "\n".join(lines)
