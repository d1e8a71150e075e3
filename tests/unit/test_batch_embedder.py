"""What BatchEmbedder asks of the encoder: token ids when text preparation made them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
from tests.support.fakes import FakeEncoder

from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.text import PreparedText, content_key
from codesearch.entities import Entity
from codesearch.store import SCHEMA_VERSION, Store, StoreMeta


def _entities(count: int) -> list[Entity]:
    return [
        Entity("m.py", f"f{i}", "function", "python", 1, 2, f"def f{i}():\n    return {i}")
        for i in range(count)
    ]


def _prepared(entities: list[Entity], model_id: str) -> list[PreparedText]:
    """Prepared texts with ids, as the preparator makes them for a tokenizer with a Rust
    core: [CLS]=101 ... [SEP]=102 around a few ids of each entity's own."""
    return [
        PreparedText(e.source, content_key(model_id, e.source), 3, (101, 1000 + i, 7, i, 102))
        for i, e in enumerate(entities)
    ]


def _store(tmp_path: Path, encoder: FakeEncoder) -> Store:
    store = Store(tmp_path / "store", model_id=encoder.model_id)
    store.set_meta(StoreMeta(SCHEMA_VERSION, encoder.model_id, encoder.dimensions))
    return store


def test_prepared_token_ids_go_to_encode_ids_not_back_to_text(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    entities = _entities(5)
    prepared = _prepared(entities, encoder.model_id)
    embedder = BatchEmbedder(encoder, _store(tmp_path, encoder), batch_size=2)
    result = embedder.process_batch(entities, prepared=prepared)
    assert result.summary.newly_embedded == 5 and not result.errors
    assert encoder.calls == []  # no text went to the model: it would tokenise again
    sent = sorted(row for call in encoder.id_calls for row in call)
    assert sent == sorted(p.ids for p in prepared if p.ids is not None)
    assert [len(call) for call in encoder.id_calls] == [2, 2, 1]  # the batch size holds
    expected = FakeEncoder().encode_ids([p.ids for p in prepared if p.ids is not None])
    for entity, row in zip(entities, expected, strict=True):
        np.testing.assert_array_equal(result.vectors[entity.id], row)


def test_text_goes_to_encode_when_the_preparator_made_no_ids(tmp_path: Path) -> None:
    """A tokenizer without a Rust core gives no ids: the model gets the prepared text."""
    encoder = FakeEncoder()
    entities = _entities(3)
    prepared = _prepared(entities, encoder.model_id)
    prepared[1] = dataclasses.replace(prepared[1], ids=None)
    result = BatchEmbedder(encoder, _store(tmp_path, encoder)).process_batch(
        entities, prepared=prepared
    )
    assert result.summary.newly_embedded == 3
    assert encoder.id_calls == []
    assert sorted(encoder.encoded) == sorted(e.source for e in entities)


def test_sparing_a_core_is_asked_per_model_call_and_passed_on(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    entities = _entities(4)
    answers = iter([True, False])
    result = BatchEmbedder(encoder, _store(tmp_path, encoder), batch_size=2).process_batch(
        entities, prepared=_prepared(entities, encoder.model_id), spare_core=lambda: next(answers)
    )
    assert result.summary.newly_embedded == 4
    assert (len(encoder.id_calls), encoder.spare_core_calls) == (2, 1)


def test_a_row_the_model_refuses_fails_alone(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    entities = _entities(4)
    prepared = _prepared(entities, encoder.model_id)
    prepared[2] = dataclasses.replace(prepared[2], ids=(101,) * (encoder.max_tokens + 1))
    result = BatchEmbedder(encoder, _store(tmp_path, encoder), batch_size=4).process_batch(
        entities, prepared=prepared
    )
    assert set(result.errors) == {entities[2].id}
    assert "token ids must number" in result.errors[entities[2].id]
    assert result.summary.newly_embedded == 3
