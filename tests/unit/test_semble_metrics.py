"""The semble benchmark's scores, computed by hand, and the mapping of entity hits to files.

A wrong metric would make every number the harness reports wrong while looking plausible,
so each case here is a hand computation of the benchmark's definition: every target
(relevant or secondary) has gain 1, a ranking place counts once, the ideal is taken over
the number of labelled targets.
"""

from __future__ import annotations

import math

import pytest
from benchmarks.semble.data import RepoSpec, Target, guess_category
from benchmarks.semble.metrics import (
    RankedHit,
    distinct_files,
    ndcg_at_k,
    path_matches,
    recall_at_k,
    reciprocal_rank_at_k,
    score_entities,
    score_files,
)

IDEAL_2 = 1 + 1 / math.log2(3)  # two relevant targets at places 1 and 2


def files(*names: str) -> list[str]:
    return [f"pkg/{n}.py" for n in names]


def test_one_target_first_is_perfect() -> None:
    s = score_files(files("a", "b"), [Target("pkg/a.py")])
    assert (s.ndcg, s.mrr, s.recall) == (1.0, 1.0, 1.0)


def test_one_target_third_is_discounted_by_log2_of_four() -> None:
    s = score_files(files("x", "y", "a"), [Target("pkg/a.py")])
    assert s.ndcg == pytest.approx(0.5)
    assert s.mrr == pytest.approx(1 / 3)
    assert s.ranks == (3,)


def test_secondary_targets_count_like_relevant_ones() -> None:
    # relevant a at place 1, secondary c at place 3: (1 + 1/2) / (1 + 1/log2 3)
    relevant, secondary = Target("pkg/a.py"), Target("pkg/c.py")
    s = score_files(files("a", "b", "c"), [relevant, secondary])
    assert s.ndcg == pytest.approx(1.5 / IDEAL_2)
    assert s.recall == 1.0


def test_only_the_secondary_target_found() -> None:
    s = score_files(files("x", "c"), [Target("pkg/a.py"), Target("pkg/c.py")])
    assert s.ndcg == pytest.approx((1 / math.log2(3)) / IDEAL_2)
    assert s.mrr == pytest.approx(0.5)
    assert s.recall == pytest.approx(0.5)


def test_two_targets_in_one_file_fill_one_place_only() -> None:
    # two spans of the same file: one file place can serve only one of them
    targets = [Target("pkg/a.py", 1, 10), Target("pkg/a.py", 50, 60)]
    s = score_files(files("a", "b"), targets)
    assert s.ndcg == pytest.approx(1 / IDEAL_2)
    assert s.ranks == (1, 1)


def test_nothing_found_beyond_the_cutoff_scores_zero() -> None:
    ranked = [f"pkg/f{i}.py" for i in range(10)] + ["pkg/a.py"]
    s = score_files(ranked, [Target("pkg/a.py")])
    assert (s.ndcg, s.mrr, s.recall) == (0.0, 0.0, 0.0)
    assert s.ranks == (11,)


def test_a_query_without_targets_scores_zero() -> None:
    assert ndcg_at_k([], 0) == 0.0
    assert recall_at_k([], 0) == 0.0
    assert reciprocal_rank_at_k([None, None]) == 0.0


def test_ideal_is_capped_at_the_cutoff() -> None:
    # twelve targets, the first ten places all relevant: a perfect top 10
    assert ndcg_at_k(list(range(1, 13)), 12, 10) == pytest.approx(1.0)


def test_repeated_hits_of_one_file_collapse_to_its_first_place() -> None:
    hits = ["pkg/a.py", "pkg/a.py", "pkg/a.py", "pkg/b.py", "pkg/a.py", "pkg/c.py"]
    assert distinct_files(hits) == ["pkg/a.py", "pkg/b.py", "pkg/c.py"]
    s = score_files(distinct_files(hits), [Target("pkg/c.py")])
    assert s.ndcg == pytest.approx(0.5)  # third distinct file, not sixth hit


@pytest.mark.parametrize(
    ("found", "label", "match"),
    [
        ("src/Text/Pandoc/Readers/Markdown.hs", "Readers/Markdown.hs", True),  # label below root
        ("lib/core/Axios.js", "lib/core/Axios.js", True),
        ("lib\\core\\Axios.js", "lib/core/Axios.js", True),
        ("src/NotMarkdown.hs", "Markdown.hs", False),  # a suffix, but not at a folder boundary
        ("src/a/b.py", "src/b.py", False),
    ],
)
def test_path_matching(found: str, label: str, match: bool) -> None:
    assert path_matches(found, label) is match


def test_entity_protocol_checks_spans_and_only_the_first_k_hits() -> None:
    hits = [
        RankedHit("pkg/a.py", 1, 9),  # same file, lines before the span: not the target
        RankedHit("pkg/b.py", 1, 5),
        RankedHit("pkg/a.py", 10, 20),  # overlaps 15-30
    ]
    s = score_entities(hits, [Target("pkg/a.py", 15, 30)])
    assert s.ranks == (3,)
    assert s.ndcg == pytest.approx(0.5)
    assert score_entities(hits, [Target("pkg/a.py", 15, 30)], k=2).ranks == (None,)
    # a target without a span matches any hit in its file
    assert score_entities(hits, [Target("pkg/a.py")]).ranks == (1,)


def test_hit_paths_are_mapped_below_the_benchmark_root() -> None:
    spec = RepoSpec("demo", "python", "u", "r", "src/demo")
    assert spec.repo_path("core/app.py") == "src/demo/core/app.py"
    assert RepoSpec("whole", "go", "u", "r", "").repo_path("gin.go") == "gin.go"


@pytest.mark.parametrize(
    ("query", "category"),
    [
        ("Blueprint", "symbol"),
        ("how are routes registered", "architecture"),
        ("session management", "semantic"),
    ],
)
def test_category_of_unlabelled_queries(query: str, category: str) -> None:
    assert guess_category(query) == category
