"""Build the evaluation corpus of one pinned project: stripped code, entities, queries.

For each source file of the project we keep two views: the original, whose docstrings
become the queries, and a copy with every docstring and comment removed (`strip_docs`),
whose entities are what gets indexed and searched. A query's target is the entity with
the same (path, kind, qualified name) in the stripped copy, ranked among ALL entities of
that copy.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.corpora import PROJECTS, corpus_dir, fetch
from benchmarks.quality.queries import first_sentence, is_trivial
from codesearch.entities import Entity
from codesearch.index.scan import IgnoreRules, scan_workspace
from codesearch.parsing import extract_entities, strip_docs


@dataclass(frozen=True)
class Suite:
    """A pinned project plus what to leave out of it (bundles that repeat the sources)."""

    project: str  # a key of benchmarks.corpora.PROJECTS
    exclude: tuple[str, ...] = ()
    note: str = ""


SUITES: dict[str, Suite] = {
    "requests": Suite("requests"),
    "flask": Suite("flask"),
    "click": Suite("click"),
    "rich": Suite("rich"),
    "lodash": Suite(
        "lodash",
        # lodash.js / core.js are single-file builds of the same functions and fp/ wraps
        # them again: indexing them would give every query several identical targets.
        exclude=("/lodash.js", "/core.js", "/fp.js", "/fp/", "*.min.js"),
        note="the per-function CommonJS modules of the npm package (bundles excluded)",
    ),
    "rxjs": Suite("rxjs", note="the TypeScript sources (src/) of the npm package"),
}
DEFAULT_SUITES: tuple[str, ...] = ("requests", "flask", "click", "rich", "lodash", "rxjs")


@dataclass(frozen=True)
class Query:
    target: str  # entity id (path::kind::name) in the stripped copy
    text: str
    half: str  # "tune" (used to choose settings) or "test" (held out)


@dataclass
class Corpus:
    name: str
    version: str
    language: str
    root: Path  # the stripped copy
    files: list[str]
    entities: list[Entity]
    queries: list[Query]
    dropped: dict[str, int] = field(default_factory=dict)

    def query_slice(self, half: str | None = None, limit: int | None = None) -> list[Query]:
        chosen = [q for q in self.queries if half is None or q.half == half]
        return chosen if limit is None else chosen[:limit]


def half_of(target: str) -> str:
    """A stable, content-free split of the queries into two halves."""
    return "tune" if hashlib.blake2b(target.encode(), digest_size=2).digest()[0] % 2 else "test"


def quality_dir() -> Path:
    return corpus_dir() / "quality"


def build(name: str, target: Path | None = None) -> Corpus:
    """Fetch the project (once), write its stripped copy and derive the queries.

    The copy goes to `target` (default: a folder per project under `quality_dir()`), the
    queries next to it as JSON for inspection.
    """
    suite = SUITES[name]
    project = PROJECTS[suite.project]
    source = fetch(suite.project)
    target = target or quality_dir() / f"{project.name}-{project.version}"
    scan = scan_workspace(source, rules=IgnoreRules(source, suite.exclude))
    wanted: dict[str, Entity] = {}
    candidates: list[tuple[str, str]] = []
    dropped: Counter[str] = Counter()
    entities: list[Entity] = []
    files: list[str] = []
    languages: Counter[str] = Counter()
    for scanned in scan.files:
        text = scanned.abs_path.read_text(encoding="utf-8", errors="replace")
        stripped = strip_docs(text, scanned.language)
        out = target / scanned.rel_path
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists() or out.read_text(encoding="utf-8") != stripped:
            out.write_text(stripped, encoding="utf-8")
        files.append(scanned.rel_path)
        found = extract_entities(stripped, scanned.language, scanned.rel_path)
        entities.extend(found)
        languages[scanned.language] += len(found)
        for entity in found:
            wanted[entity.id] = entity
        for original in extract_entities(text, scanned.language, scanned.rel_path):
            if original.docstring.strip():
                candidates.append((original.id, first_sentence(original.docstring)))
    _remove_stale(target, set(files))

    by_text = Counter(text.lower() for _, text in candidates)
    queries: list[Query] = []
    for entity_id, text in candidates:
        if is_trivial(text):
            dropped["trivial"] += 1
        elif by_text[text.lower()] > 1:
            dropped["ambiguous (same sentence documents several entities)"] += 1
        elif entity_id not in wanted:
            dropped["target missing after stripping"] += 1
        else:
            queries.append(Query(entity_id, text, half_of(entity_id)))
    language = languages.most_common(1)[0][0] if languages else ""
    corpus = Corpus(
        name, project.version, language, target, files, entities, queries, dict(dropped)
    )
    (target.parent / f"{project.name}-{project.version}.queries.json").write_text(
        json.dumps([asdict(q) for q in queries], indent=1) + "\n", encoding="utf-8"
    )
    return corpus


def _remove_stale(target: Path, keep: set[str]) -> None:
    for path in sorted(target.rglob("*"), reverse=True):
        rel = path.relative_to(target).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
