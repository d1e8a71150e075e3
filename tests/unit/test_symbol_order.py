"""The order a symbol lookup shows (`workspace/symbol`): exact names, then prefixes, each
group in ranked order; `search.name_matches_first` is that order, whatever the face."""

from __future__ import annotations

from codesearch.search import name_match_rank, name_matches_first


def test_exact_bare_or_qualified_names_rank_first_in_any_case() -> None:
    assert name_match_rank("get", "Cache.get") == 0
    assert name_match_rank("cache.GET", "Cache.get") == 0
    assert name_match_rank("  parse ", "parse") == 0
    assert name_match_rank("get", "Cache.get_many") == 1
    assert name_match_rank("Cache", "Cache.get") == 1
    assert name_match_rank("get", "forget") == 2
    assert name_match_rank("cache get", "Cache.get") == 2


def test_names_first_keeps_the_ranked_order_within_each_group() -> None:
    ranked = ["reparse", "parse_line", "Parser.parse", "parse", "unparse", "parse_all"]
    ordered = name_matches_first("parse", ranked, lambda name: name)
    assert ordered == ["Parser.parse", "parse", "parse_line", "parse_all", "reparse", "unparse"]


def test_names_first_works_over_any_hit_type() -> None:
    hits = [("root-a", "load_config"), ("root-b", "config")]
    assert name_matches_first("config", hits, lambda hit: hit[1]) == hits[::-1]
    assert name_matches_first("config", [], lambda hit: hit) == []
