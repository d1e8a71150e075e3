"""Property-based tests of the text preparator with the real model's tokenizer.

Random and mutated entities (names, docstrings, bodies of any Unicode, any length) must
never raise, and every prepared text must fit the token window it is cut for, as the
model's own tokenizer counts it (with [CLS] and [SEP]). The extractors have their own fuzz
tests in tests/unit/test_parsing_fuzz.py; this covers the step after them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesearch.embedding.text import (
    EmptyEntityError,
    PreparedText,
    TextPreparator,
    _Tokens,
    content_key,
)
from codesearch.entities import ENTITY_KINDS, Entity

EXAMPLES = 200
LANGUAGES = ("python", "javascript", "typescript", "go", "rust", "java", "c", "cpp", "ruby", "php")
CODE_WORDS = ["def", "return", "self", "{", "}", "(", ")", ";", "=>", "\n", "    ", "\t", "if",
              "x", "0x1F", "'''", '"', "//", "#", "::", "->", "<T>", "é", "日本", "😀", "\u200b",
              "\r\n", "\x00", "\x1b[31m", "[UNK]", "[SEP]", "##ing", "a" * 300]  # fmt: skip

# every property here: many examples, no deadline (the tokenizer is slow to load), no
# example database (runs stay independent)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

identifier = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,40}", fullmatch=True)
separator = st.sampled_from([".", "::", "#", "/"])
# up to 120 parts: the extractor nests names up to its depth limit of 100
qualified = st.tuples(st.lists(identifier, min_size=1, max_size=120), separator).map(
    lambda parts: parts[1].join(parts[0])
)
code = st.one_of(
    st.text(max_size=3000),
    st.lists(st.sampled_from(CODE_WORDS), max_size=600).map(" ".join),
    st.lists(st.sampled_from(CODE_WORDS), max_size=3000).map("".join),
)


@st.composite
def entities(draw: Any) -> Entity:
    name = draw(st.one_of(qualified, st.text(min_size=1, max_size=600)))
    source = draw(code)
    if draw(st.booleans()):  # mutate: cut, duplicate or splice the body
        cut = draw(st.integers(0, max(0, len(source))))
        source = draw(st.sampled_from([source[:cut], source[cut:] + source[:cut], source * 3]))
    return Entity(
        path=draw(st.sampled_from(["a.py", "dir/b.ts", "ü/ç.go"])),
        name=name,
        kind=draw(st.sampled_from(ENTITY_KINDS)),
        language=draw(st.sampled_from(LANGUAGES)),
        start_line=1,
        end_line=1 + source.count("\n"),
        source=source,
        signature=source.split("\n", 1)[0][:200],
        docstring=draw(st.one_of(st.just(""), code)),
    )


@pytest.fixture(scope="module")
def preparator(model: Any) -> TextPreparator:
    return TextPreparator(model.tokenizer, model.max_tokens, model.model_id)


def _window_tokens(model: Any, text: str) -> int:
    return len(model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


def _window(preparator: TextPreparator, model: Any) -> int:
    """The window the preparator fills: its budget plus [CLS] and [SEP], within the model's."""
    return min(preparator.budget + 2, model.max_tokens)


@pytest.mark.slow
@FUZZ
@given(batch=st.lists(entities(), min_size=1, max_size=8))
def test_prepared_text_never_raises_and_fits_the_window(
    batch: list[Entity], preparator: TextPreparator, model: Any
) -> None:
    results = preparator.prepare_many(batch)
    assert len(results) == len(batch)
    for entity, result in zip(batch, results, strict=True):
        if isinstance(result, EmptyEntityError):
            assert not entity.source.strip() and not entity.docstring.strip()
            continue
        assert isinstance(result, PreparedText)
        assert result.key == content_key(model.model_id, result.text)
        assert 0 < result.tokens <= preparator.budget
        assert _window_tokens(model, result.text) <= _window(preparator, model), result.text
    again = preparator.prepare_many(batch)  # deterministic: the same entity, the same key
    assert [getattr(r, "key", None) for r in again] == [getattr(r, "key", None) for r in results]


@pytest.mark.slow
def test_a_very_long_qualified_name_still_fits_the_window(
    preparator: TextPreparator, model: Any
) -> None:
    """An entity nested ~100 deep: the extractor builds a ~400-character qualified name."""
    name = ".".join(f"level_{i}" for i in range(100))
    entity = Entity("deep.py", name, "function", "python", 1, 2, "def level_99():\n    return 1")
    result = preparator.prepare(entity)
    assert _window_tokens(model, result.text) <= _window(preparator, model)


class _WholeTextPreparator(TextPreparator):
    """The reference: every docstring and body tokenised whole (up to the char cap)."""

    def _count_window(self, texts: list[str], needs: list[int]) -> list[_Tokens]:
        return self._encode(texts)


PROSE = ["the", "graph", "is", "returned", "unchanged", ",", ".", "Parameters", "----", "\n",
         "nodes", "iterable", "of", "edges", "(u, v)", "defaults", "to", "None", "  "]  # fmt: skip
long_text = st.one_of(
    code,
    st.lists(st.sampled_from(PROSE), min_size=50, max_size=900).map(" ".join),
    st.lists(st.sampled_from(CODE_WORDS + PROSE), min_size=50, max_size=900).map("".join),
)


@pytest.mark.slow
@FUZZ
@given(batch=st.lists(entities(), min_size=1, max_size=6), docs=st.lists(long_text, max_size=6))
def test_tokenising_a_prefix_first_gives_the_same_text_as_tokenising_all(
    batch: list[Entity], docs: list[str], preparator: TextPreparator, model: Any
) -> None:
    """Preparing text tokenises only the start of a long docstring or body when that start
    already fills the window: the prepared text (and so every cache key) must not change."""
    batch = [
        replace(entity, docstring=doc, source=doc + entity.source)
        for entity, doc in zip(batch, docs + [e.docstring for e in batch], strict=False)
    ]
    reference = _WholeTextPreparator(model.tokenizer, model.max_tokens, model.model_id)
    expected = [
        (getattr(r, "key", str(r)), getattr(r, "ids", None)) for r in reference.prepare_many(batch)
    ]
    got = [
        (getattr(r, "key", str(r)), getattr(r, "ids", None)) for r in preparator.prepare_many(batch)
    ]
    assert got == expected


@pytest.mark.slow
@FUZZ
@given(texts=st.lists(long_text, min_size=1, max_size=6))
def test_the_tokenizer_core_counts_as_the_model_tokenizer_does(
    texts: list[str], preparator: TextPreparator, model: Any
) -> None:
    """The preparator calls a copy of the fast tokenizer's Rust core directly (no wrapper,
    cheap to copy); its token ids and offsets must be the model tokenizer's own."""
    assert preparator._core is not None  # the packaged model's tokenizer is a fast one
    expected = model.tokenizer(
        texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False
    )
    found = preparator._encode(texts)
    assert [list(t.offsets) for t in found] == [list(o) for o in expected["offset_mapping"]]
    assert [list(t.ids) for t in found] == [list(i) for i in expected["input_ids"]]


@pytest.mark.slow
@FUZZ
@given(batch=st.lists(entities(), min_size=1, max_size=8))
def test_prepared_ids_are_what_the_model_tokenizer_makes_of_the_text(
    batch: list[Entity], preparator: TextPreparator, model: Any
) -> None:
    """The int8 model embeds the ids the preparator built from its parts, without
    tokenising the text again: they must be exactly the ids the model's tokenizer gives
    the prepared text, or a vector would not be the vector of its cache key's text."""
    for result in preparator.prepare_many(batch):
        if isinstance(result, PreparedText):
            assert result.ids is not None
            expected = model.tokenizer(result.text, truncation=True, max_length=model.max_tokens)[
                "input_ids"
            ]
            assert list(result.ids) == list(expected), result.text
            assert len(result.ids) == result.tokens + 2
