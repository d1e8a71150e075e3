"""Why targets were missed: read a run's per-query file and sort every miss into a cause.

    python -m benchmarks.semble.misses --queries FILE-queries.jsonl --repos DIR \\
        --repos-json FILE [--out FILE.json]

A target is missed when its file is not among the first 10 ranked files. Each missed
target gets one cause, the first that applies:
  unparsed_language   the engine does not parse the file's language (by extension)
  not_in_checkout     the labelled file is not in the checkout (another revision)
  outside_index_root  the file is not below the repository's benchmark_root
  cpp_header_as_c     a `.h` file of a C++ repository: parsed with the C grammar, so
                      namespaces come out as functions and classes not at all
  nothing_extracted   the file is parsed but yields no entity (module-level code only)
  symbol_case         symbol query: the file defines the name, but only in another case
  symbol_qualified    symbol query with a qualifier (`a.b`, `A::B`, `A#b`, `A\\B`) whose last
                      part the file defines
  symbol_defined      symbol query: the file defines the name exactly, and still ranks low
  tests_above         a test, example or benchmark file sits in the top 10 (query not about
                      tests)
  ranked_11_plus      the file is among the hits, below place 10
  not_in_hits         none of the file's entities is among the ~100 hits asked for
NDCG@10 lost by each query (1 - NDCG@10) is shared equally among the causes of its missed
targets; when every target was found but not all at the top it is put down to
`found_low_tests_above` (a test, example or benchmark file ranks above the first target),
`found_low_symbol_case` (a symbol query answered first by the name in another case) or
`found_low`. The shares add up to 1 - mean NDCG@10 over queries.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from benchmarks.semble.data import RepoSpec, load_repo_specs
from benchmarks.semble.engine import extracted_entities
from benchmarks.semble.metrics import CUTOFF, path_matches

Json = dict[str, Any]
_SPAN = re.compile(r"^(?P<path>.*?):(?P<start>\d+)-(?P<end>\d+)$")
_QUALIFIER = re.compile(r"::|->|[.#\\]")
_TEST_PARTS = frozenset(
    {
        "test", "tests", "spec", "specs", "__tests__", "testing", "testdata", "testutil",
        "example", "examples", "bench", "benches", "benchmark", "benchmarks", "fixtures",
    }
)  # fmt: skip
_TEST_NAME = re.compile(
    r"(^test_.*|.*_test\.\w+$|.*Tests?\.\w+$|.*\.(test|spec)\.\w+$|.*_spec\.rb$|^conftest\.py$)"
)


def is_test_path(path: str) -> bool:
    """A test, example or benchmark file, by its folders or its name."""
    parts = PurePosixPath(path).parts
    return bool(set(p.lower() for p in parts[:-1]) & _TEST_PARTS) or bool(
        _TEST_NAME.match(parts[-1])
    )


def target_path(described: str) -> str:
    """The file of a target as the per-query file writes it (`path` or `path:start-end`)."""
    found = _SPAN.match(described)
    return found.group("path") if found else described


def short_name(name: str) -> str:
    """The last part of a qualified entity name (`Cache.get` -> `get`), minus `#n` suffixes."""
    return name.split("#", 1)[0].rsplit(".", 1)[-1]


class Checkouts:
    """Resolves labelled paths in the checkouts and caches what the parser extracts."""

    def __init__(self, repos_dir: Path, specs: dict[str, RepoSpec]) -> None:
        self.repos_dir = repos_dir
        self.specs = specs
        self._files: dict[str, list[str]] = {}
        self._entities: dict[Path, list[tuple[str, str]] | None] = {}

    def files(self, repo: str) -> list[str]:
        """Every file of the checkout, relative to its top (listed once per repository)."""
        if repo not in self._files:
            top = self.repos_dir / repo
            self._files[repo] = [
                p.relative_to(top).as_posix()
                for p in top.rglob("*")
                if p.is_file() and ".git" not in p.relative_to(top).parts
            ]
        return self._files[repo]

    def resolve(self, repo: str, label: str) -> str | None:
        """The checkout's file a label names (labels may be relative to the index root)."""
        spec = self.specs[repo]
        for candidate in (label, spec.repo_path(label)):
            if (self.repos_dir / repo / candidate).is_file():
                return candidate
        matches = [f for f in self.files(repo) if path_matches(f, label)]
        return matches[0] if matches else None

    def entities(self, repo: str, rel: str) -> list[tuple[str, str]] | None:
        path = self.repos_dir / repo / rel
        if path not in self._entities:
            self._entities[path] = extracted_entities(path, rel)
        return self._entities[path]


def asks_for_tests(line: Json) -> bool:
    return any(word in line["query"].lower() for word in ("test", "example", "bench"))


def tests_above_first(line: Json) -> bool:
    """A test, example or benchmark file ranks above the first target found."""
    found = [t["rank"] for t in line["targets"] if t["rank"] is not None]
    first = min(found, default=CUTOFF + 1)
    above = line["top_files"][: first - 1]
    return not asks_for_tests(line) and any(is_test_path(f) for f in above)


def other_case_above_first(line: Json) -> bool:
    """A symbol query whose name, in another case, is a hit above the first target's file
    (`Session` answered first by `function session`)."""
    query = line["query"].strip()
    found = [t["rank"] for t in line["targets"] if t["rank"] is not None]
    above = set(line["top_files"][: min(found, default=CUTOFF + 1) - 1])
    for hit in line["top_hits"]:
        where, _, rest = hit.partition(" ")
        name = short_name(rest.partition(" ")[2])
        if where.rsplit(":", 1)[0] in above and name.lower() == query.lower() and name != query:
            return True
    return False


def classify(line: Json, target: Json, checkouts: Checkouts) -> str:
    repo = line["repo"]
    spec = checkouts.specs[repo]
    label = target_path(target["path"])
    resolved = checkouts.resolve(repo, label)
    if resolved is None:
        return "not_in_checkout"
    entities = checkouts.entities(repo, resolved)
    if entities is None:
        return "unparsed_language"
    if spec.benchmark_root and not resolved.startswith(spec.benchmark_root + "/"):
        return "outside_index_root"
    if spec.language == "cpp" and resolved.endswith(".h"):
        return "cpp_header_as_c"
    if not entities:
        return "nothing_extracted"
    if line["category"] == "symbol":
        query = line["query"].strip()
        names = {short_name(name) for _, name in entities} | {name for _, name in entities}
        last = _QUALIFIER.split(query)[-1]
        if query in names:
            return "symbol_defined"
        if _QUALIFIER.search(query) and last in names:
            return "symbol_qualified"
        if query.lower() in {n.lower() for n in names}:
            return "symbol_case"
    if not asks_for_tests(line) and any(is_test_path(f) for f in line["top_files"]):
        return "tests_above"
    if target["rank"] is not None:
        return "ranked_11_plus"
    return "not_in_hits"


def analyse(lines: Sequence[Json], checkouts: Checkouts) -> Json:
    targets: Counter[str] = Counter()
    queries_hit: Counter[str] = Counter()
    lost: dict[str, float] = defaultdict(float)
    by_language: dict[str, Counter[str]] = defaultdict(Counter)
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    examples: dict[str, list[str]] = defaultdict(list)
    nothing_extracted: dict[str, Counter[str]] = defaultdict(Counter)
    unparsed: Counter[str] = Counter()
    tests_in_top = 0
    same_file_top = 0
    for line in lines:
        missed = [t for t in line["targets"] if t["rank"] is None or t["rank"] > CUTOFF]
        causes = [classify(line, t, checkouts) for t in missed]
        for target, cause in zip(missed, causes, strict=True):
            targets[cause] += 1
            by_language[line["language"]][cause] += 1
            by_category[line["category"]][cause] += 1
            if len(examples[cause]) < 12:
                examples[cause].append(f"{line['repo']}: {line['query']!r} -> {target['path']}")
            label = target_path(target["path"])
            if cause == "nothing_extracted":
                nothing_extracted[line["language"]][f"{line['repo']}/{label}"] += 1
            if cause == "unparsed_language":
                unparsed[PurePosixPath(label).suffix or PurePosixPath(label).name] += 1
        for cause in set(causes):
            queries_hit[cause] += 1
        loss = 1.0 - line["ndcg10"]
        if causes:
            for cause in causes:
                lost[cause] += loss / len(causes)
        elif loss > 0:
            low = "found_low"
            if tests_above_first(line):
                low = "found_low_tests_above"
            elif line["category"] == "symbol" and other_case_above_first(line):
                low = "found_low_symbol_case"
            lost[low] += loss
            queries_hit[low] += 1
        if not asks_for_tests(line) and any(is_test_path(f) for f in line["top_files"]):
            tests_in_top += 1
        hit_files = [h.split(":", 1)[0] for h in line["top_hits"]]
        if hit_files and len(set(hit_files)) <= 3:
            same_file_top += 1
    total = len(lines)
    return {
        "queries": total,
        "targets": sum(len(line["targets"]) for line in lines),
        "missed_targets": sum(targets.values()),
        "ndcg10_over_queries": round(sum(line["ndcg10"] for line in lines) / total, 4),
        "causes": {
            cause: {
                "targets": targets.get(cause, 0),
                "queries": queries_hit[cause],
                "ndcg10_lost": round(lost[cause] / total, 4),
            }
            for cause in sorted(set(targets) | set(lost), key=lambda c: -lost[c])
        },
        "by_language": {k: dict(v.most_common()) for k, v in sorted(by_language.items())},
        "by_category": {k: dict(v.most_common()) for k, v in sorted(by_category.items())},
        "unparsed_extensions": dict(unparsed.most_common()),
        "nothing_extracted_files": {
            k: dict(v.most_common()) for k, v in sorted(nothing_extracted.items())
        },
        "queries_with_tests_in_top10": tests_in_top,
        "queries_whose_top10_hits_span_at_most_3_files": same_file_top,
        "ndcg10_files_minus_entities": round(
            sum(line["ndcg10"] - line["ndcg10_entities"] for line in lines) / total, 4
        ),
        "examples": dict(examples),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=Path, required=True, help="a run's -queries.jsonl")
    parser.add_argument("--repos", type=Path, required=True)
    parser.add_argument("--repos-json", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="write the analysis as JSON here")
    args = parser.parse_args(argv)
    lines = [json.loads(text) for text in args.queries.read_text(encoding="utf-8").splitlines()]
    if not lines:
        print(f"error: no queries in {args.queries}", file=sys.stderr)
        return 2
    report = analyse(lines, Checkouts(args.repos, load_repo_specs(args.repos_json)))
    text = json.dumps(report, indent=2) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
