"""The ranking rules the quality benchmark chose, pinned with fake vectors (fast)."""

from __future__ import annotations

import numpy as np
import pytest

from codesearch import keywords
from codesearch.embedding.text import WINDOW_TOKENS, TextPreparator
from codesearch.entities import Entity
from codesearch.index.search_index import SearchIndex
from codesearch.search import WEAK_SCORE, rank
from codesearch.store import EntityRecord


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def entity(name: str, body: str) -> Entity:
    return Entity("m.py", name, "function", "python", 1, 2, body)


def index_of(*items: tuple[str, str, tuple[float, ...]]) -> SearchIndex:
    index = SearchIndex(3)
    records = [
        EntityRecord(name, "function", "python", 1, 2, 0, 0, f"k-{name}", "", terms)
        for name, terms, _ in items
    ]
    index.replace_file("m.py", records, [unit(*v) for _, _, v in items])
    return index


def test_sentences_are_split_into_words_identifiers_keep_their_compound() -> None:
    sentence = keywords.query_terms("the base implementation of _.isMatch")
    assert "ismatch" not in sentence and "match" in sentence
    assert keywords.query_terms("baseIsMatch") == ["baseismatch", "base", "match"]
    assert keywords.is_identifier_query("Cache.get") and keywords.is_identifier_query("get()")
    assert not keywords.is_identifier_query("retry failed upload")


def test_name_cover_uses_the_entity_own_name_words() -> None:
    terms = keywords.query_terms("compute the checksum of a file")
    assert keywords.name_cover(terms, "Uploader.compute_checksum") == 1.0
    assert keywords.name_cover(terms, "Uploader.compute_size") == 0.5
    assert keywords.name_cover(terms, "Uploader") == 0.0


def test_exact_name_matches_bare_or_qualified_names() -> None:
    assert keywords.is_exact_name("get", "Cache.get")
    assert keywords.is_exact_name("cache.get", "Cache.get")
    assert keywords.is_exact_name("get()", "Cache#get")
    assert not keywords.is_exact_name("cache", "Cache.get")


def test_an_identifier_query_puts_the_entity_of_that_name_first() -> None:
    index = index_of(
        ("load_config", "load config load_config read file", (0.2, 1.0, 0.0)),
        ("read_settings", "read settings read_settings load config file", (1.0, 0.1, 0.0)),
    )
    hits = rank(index, "load_config", unit(1.0, 0.6, 0.0))  # the vector prefers the other
    assert hits[0].name == "load_config"
    assert "load_config" in hits[0].matched


def test_a_sentence_naming_an_entity_boosts_it_and_says_what_matched() -> None:
    index = index_of(
        ("retry_failed_upload", "retry fail upload retry_failed_upload loop", (0.6, 0.8, 0.0)),
        ("send_chunk", "send chunk send_chunk retry", (0.7, 0.7, 0.1)),
    )
    hits = rank(index, "retry failed uploads", unit(0.7, 0.7, 0.1))
    assert hits[0].name == "retry_failed_upload"
    assert hits[0].matched == ("retry", "failed", "uploads")  # the user's words, not stems
    assert hits[1].matched == ("retry",)


def test_matched_shows_the_words_typed_not_their_stems() -> None:
    index = index_of(("BaseClient.cookies", "base client cooky cookies jar", (1.0, 0.0, 0.0)))
    assert rank(index, "cookies", unit(1.0, 0.0, 0.0))[0].matched == ("cookies",)
    assert rank(index, "where are the cookies kept", unit(1.0, 0.0, 0.0))[0].matched == ("cookies",)
    # an identifier query kept whole is shown as typed, its parts as words
    index = index_of(("load_config", "load_config load config", (1.0, 0.0, 0.0)))
    assert rank(index, "load_config", unit(1.0, 0.0, 0.0))[0].matched == (
        "load_config",
        "load",
        "config",
    )


def test_hits_below_the_threshold_are_weak_and_keep_their_order() -> None:
    index = index_of(
        ("retry_failed_upload", "retry fail upload retry_failed_upload", (1.0, 0.0, 0.0)),
        ("parse_header", "parse header parse_header", (0.0, 1.0, 0.0)),
        ("render_page", "render page render_page", (0.0, 0.0, 1.0)),
    )
    strong = rank(index, "retry failed uploads", unit(1.0, 0.0, 0.0))
    assert strong[0].name == "retry_failed_upload"
    assert not strong[0].weak and strong[0].score >= WEAK_SCORE
    assert all(h.weak for h in strong[1:])  # unrelated: cosine 0, no words in common
    # a question about code that is not there: every hit weak, in the usual order
    absent = rank(index, "where is the billing logic", unit(0.3, 0.3, 0.3))
    assert absent and all(h.weak and h.score < WEAK_SCORE for h in absent)
    assert [h.score for h in absent] == sorted((h.score for h in absent), reverse=True)
    # "more like this" (no query text) is not judged: the threshold is a search's
    assert not any(h.weak for h in rank(index, "", unit(0.3, 0.3, 0.3)))


def test_plain_baselines_switch_the_boosts_off() -> None:
    index = index_of(
        ("upload", "upload", (1.0, 0.0, 0.0)),
        ("other", "upload upload upload upload", (0.0, 1.0, 0.0)),
    )
    assert rank(index, "upload", None, boosts=False)[0].name == "other"
    assert rank(index, "upload", None)[0].name == "upload"  # exact name boost


@pytest.mark.slow
def test_the_embedded_window_is_capped_for_the_default_model(model: object) -> None:
    tokenizer = model.tokenizer  # type: ignore[attr-defined]
    prep = TextPreparator(tokenizer, 256, "m")
    assert prep.budget == WINDOW_TOKENS - 2
    assert TextPreparator(tokenizer, 256, "m", window_tokens=0).budget == 254
    body = "".join(f"    value_{i} = compute_{i}(value_{i - 1})\n" for i in range(300))
    text = prep.prepare(entity("long_pipeline", body)).text
    assert len(tokenizer(text)["input_ids"]) <= WINDOW_TOKENS
