"""The benchmark's inputs: pinned repositories (repos.json) and labelled queries (annotations/).

The files stay where they are (they are the benchmark's, not ours); this only reads them.
A query's targets are files, some with a line span; `relevant` and `secondary` targets both
count as relevant, as the benchmark's own scoring has it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

CATEGORIES: tuple[str, ...] = ("architecture", "semantic", "symbol")


class BenchmarkDataError(ValueError):
    """A repos.json or annotation file that does not have the expected shape."""


@dataclass(frozen=True)
class RepoSpec:
    name: str
    language: str
    url: str
    revision: str
    benchmark_root: str  # the subfolder that is indexed, "" for the whole repository

    def index_root(self, repos_dir: Path) -> Path:
        """The folder indexed for this repository (the benchmark indexes only this part)."""
        checkout = repos_dir / self.name
        return checkout / self.benchmark_root if self.benchmark_root else checkout

    def repo_path(self, rel_path: str) -> str:
        """A path relative to `index_root` as a path relative to the repository's top."""
        if not self.benchmark_root:
            return rel_path
        return str(PurePosixPath(self.benchmark_root) / rel_path)


@dataclass(frozen=True)
class Target:
    path: str
    start_line: int | None = None
    end_line: int | None = None

    def describe(self) -> str:
        if self.start_line is None:
            return self.path
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True)
class Query:
    repo: str
    language: str
    text: str
    category: str
    relevant: tuple[Target, ...]
    secondary: tuple[Target, ...]

    @property
    def targets(self) -> tuple[Target, ...]:
        """Every target that counts, primary first (duplicates kept, as labelled)."""
        return self.relevant + self.secondary


def guess_category(text: str) -> str:
    """The category of a query whose annotation has none: one word names a symbol,
    "how ..." asks about architecture, anything else describes behaviour."""
    stripped = text.strip()
    if " " not in stripped:
        return "symbol"
    if stripped.lower().startswith("how "):
        return "architecture"
    return "semantic"


def load_repo_specs(repos_json: Path) -> dict[str, RepoSpec]:
    try:
        raw = json.loads(repos_json.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BenchmarkDataError(f"cannot read {repos_json}: {exc}") from exc
    if not isinstance(raw, list):
        raise BenchmarkDataError(f"{repos_json}: expected a list of repositories")
    specs: dict[str, RepoSpec] = {}
    for item in raw:
        try:
            spec = RepoSpec(
                name=str(item["name"]),
                language=str(item["language"]),
                url=str(item["url"]),
                revision=str(item["revision"]),
                benchmark_root=str(item.get("benchmark_root") or "").strip("/"),
            )
        except (KeyError, TypeError) as exc:
            raise BenchmarkDataError(f"{repos_json}: a repository lacks {exc}") from exc
        specs[spec.name] = spec
    return specs


def _target(raw: Any, where: str) -> Target:
    if isinstance(raw, str):
        return Target(raw)
    if isinstance(raw, dict) and isinstance(raw.get("path"), str):
        start, end = raw.get("start_line"), raw.get("end_line")
        return Target(
            raw["path"],
            int(start) if start is not None else None,
            int(end) if end is not None else None,
        )
    raise BenchmarkDataError(f"{where}: a target must be a path or {{path, start_line, end_line}}")


def load_queries(annotations_dir: Path, specs: dict[str, RepoSpec]) -> list[Query]:
    """Every labelled query of every repository that has an annotation file and a spec.

    Annotation files are named after their repository (`<name>.json`); an item may name
    another repository with a `repo` key.
    """
    if not annotations_dir.is_dir():
        raise BenchmarkDataError(f"no annotations folder at {annotations_dir}")
    queries: list[Query] = []
    for path in sorted(annotations_dir.glob("*.json")):
        try:
            items = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BenchmarkDataError(f"cannot read {path}: {exc}") from exc
        if not isinstance(items, list):
            raise BenchmarkDataError(f"{path}: expected a list of queries")
        for number, item in enumerate(items):
            where = f"{path.name} item {number}"
            if not isinstance(item, dict) or not isinstance(item.get("query"), str):
                raise BenchmarkDataError(f"{where}: no query text")
            repo = str(item.get("repo", path.stem))
            spec = specs.get(repo)
            if spec is None:
                continue
            category = item.get("category")
            queries.append(
                Query(
                    repo=repo,
                    language=spec.language,
                    text=item["query"],
                    category=category
                    if isinstance(category, str)
                    else guess_category(item["query"]),
                    relevant=tuple(_target(t, where) for t in item.get("relevant", [])),
                    secondary=tuple(_target(t, where) for t in item.get("secondary", [])),
                )
            )
    return queries
