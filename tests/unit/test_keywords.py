"""Identifier-aware keyword terms."""

from __future__ import annotations

from codesearch import keywords
from codesearch.entities import Entity


def test_snake_camel_and_acronyms_split_into_words() -> None:
    assert keywords.split_words("retry_failed_upload") == [
        "retry_failed_upload", "retry", "failed", "upload",
    ]  # fmt: skip
    assert keywords.split_words("HTTPServerError") == ["httpservererror", "http", "server", "error"]
    assert keywords.split_words("parseJSON2") == ["parsejson2", "parse", "json", "2"]


def test_a_names_words_are_its_ascii_letters_and_digits() -> None:
    """These words head every embedded text, so they are part of every content key: the
    split must stay as it was when the stores were written (ASCII only, no compounds)."""
    assert keywords.split_words("HTTPServer.retry_upload", compounds=False) == [
        "http", "server", "retry", "upload",
    ]  # fmt: skip
    assert keywords.split_words("Ns::Cls#on2Ready__", compounds=False) == [
        "ns", "cls", "on", "2", "ready",
    ]  # fmt: skip
    # a non-ASCII digit or letter separates words and is not one
    assert keywords.split_words("x\u0663y caf\u00e9Bar \uff11", compounds=False) == [
        "x", "y", "caf", "bar",
    ]  # fmt: skip


def test_query_terms_drop_glue_words_and_stem() -> None:
    assert keywords.query_terms("where do we retry failed uploads") == [
        "retry", "fail", "upload",
    ]  # fmt: skip


def test_same_words_in_any_naming_style_share_terms() -> None:
    camel = set(keywords.terms("retryFailedUpload"))
    snake = set(keywords.terms("retry_failed_upload"))
    assert {"retry", "fail", "upload"} <= camel & snake


def test_entity_terms_weight_the_name() -> None:
    entity = Entity("a.py", "Cache.get_value", "method", "python", 1, 2, "def get_value(self): x")
    bag = keywords.entity_terms(entity).split()
    assert bag.count("cache") == keywords.NAME_WEIGHT
    assert bag.count("value") >= keywords.NAME_WEIGHT
