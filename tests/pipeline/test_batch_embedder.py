"""BatchEmbedder with the real model and a real diskcache store (the seed scenarios)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.embedding.types import Vectors
from codesearch.entities import Entity
from codesearch.store import SCHEMA_VERSION, Store, StoreMeta

pytestmark = pytest.mark.slow


def fn(name: str, body: str, path: str = "pkg/mod.py", line: int = 1) -> Entity:
    source = f"def {name}():\n{body}"
    return Entity(
        path=path,
        name=name,
        kind="function",
        language="python",
        start_line=line,
        end_line=line + source.count("\n"),
        source=source,
        signature=f"def {name}():",
    )


FUNCTIONS = [
    fn("retry_upload", "    for i in range(3):\n        client.put(path)\n"),
    fn("parse_config", "    return json.loads(open('config.json').read())\n"),
    fn("compute_checksum", "    return sum(data) % 65521\n"),
    fn("send_email", "    smtp.sendmail(sender, recipient, message)\n"),
]


def stamped_store(directory: Path) -> Store:
    """A store stamped with the model, as Workspace does before writing vectors."""
    store = Store(directory)
    if store.meta() is None:
        store.set_meta(StoreMeta(SCHEMA_VERSION, "all-MiniLM-L6-v2", 384))
    return store


class PoisonedModel:
    """The real model, except that it raises on one marked text (a fault injection)."""

    takes_token_ids = True

    def __init__(self, real: TorchEncoder, poison: str) -> None:
        self.real = real
        self.poison = poison
        self.model_id = real.model_id
        self.dimensions = real.dimensions
        self.max_tokens = real.max_tokens
        self.tokenizer: Any = real.tokenizer
        self.calls = 0

    @property
    def name(self) -> str:
        return self.real.name

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        self.calls += 1
        if any(self.poison in t for t in texts):
            raise RuntimeError("model rejected this input")
        return self.real.encode(texts, batch_size)

    def encode_ids(
        self, ids: Sequence[Sequence[int]], batch_size: int = 32, *, spare_core: bool = False
    ) -> Vectors:
        self.calls += 1
        texts = self.real.tokenizer.batch_decode(ids)  # the model's vocabulary is lowercase
        if any(self.poison.lower() in t for t in texts):
            raise RuntimeError("model rejected this input")
        return self.real.encode_ids(ids, batch_size, spare_core=spare_core)


def test_empty_input_returns_zero_counts(model: TorchEncoder, tmp_path: Path) -> None:
    result = BatchEmbedder(model, stamped_store(tmp_path)).process_batch([])
    assert (result.summary.total, result.summary.success, result.summary.failed) == (0, 0, 0)
    assert (result.summary.cached, result.summary.newly_embedded) == (0, 0)
    assert result.vectors == {} and result.errors == {}


def test_vectors_have_model_dimensions_and_differ(model: TorchEncoder, tmp_path: Path) -> None:
    result = BatchEmbedder(model, stamped_store(tmp_path)).process_batch(FUNCTIONS)
    assert result.summary.success == 4 and result.summary.newly_embedded == 4
    vectors = [result.vectors[f.id] for f in FUNCTIONS]
    assert all(v.shape == (384,) and v.dtype == np.float32 for v in vectors)
    assert all(abs(float(np.linalg.norm(v)) - 1.0) < 1e-4 for v in vectors)
    for i in range(len(vectors)):
        for j in range(i + 1, len(vectors)):
            assert float(vectors[i] @ vectors[j]) < 0.99
    assert result.metadata["model_id"] == model.model_id
    assert result.metadata["dimensions"] == 384
    assert result.metadata["timings"]["total_s"] > 0


def test_cache_hit_across_two_embedders_over_one_store(model: TorchEncoder, tmp_path: Path) -> None:
    first = BatchEmbedder(model, stamped_store(tmp_path)).process_batch(FUNCTIONS)
    second_model = PoisonedModel(model, poison="\0never")
    second = BatchEmbedder(second_model, stamped_store(tmp_path)).process_batch(FUNCTIONS)
    assert second.summary.cached == 4 and second.summary.newly_embedded == 0
    assert second_model.calls == 0
    for f in FUNCTIONS:
        assert np.array_equal(first.vectors[f.id], second.vectors[f.id])


def test_mixed_hits_and_misses(model: TorchEncoder, tmp_path: Path) -> None:
    embedder = BatchEmbedder(model, stamped_store(tmp_path), batch_size=2)
    embedder.process_batch(FUNCTIONS[:2])
    result = embedder.process_batch(FUNCTIONS)
    assert result.summary.total == 4
    assert result.summary.cached == 2
    assert result.summary.newly_embedded == 2
    assert result.summary.success == 4 and result.summary.failed == 0


def test_failing_item_does_not_stop_the_batch(model: TorchEncoder, tmp_path: Path) -> None:
    poisoned = fn("poison_pill", "    POISON = 1\n")
    empty = Entity("pkg/e.py", "empty", "function", "python", 1, 1, "   ", "", "")
    entities = [*FUNCTIONS[:2], poisoned, empty, *FUNCTIONS[2:]]
    wrapped = PoisonedModel(model, "POISON")
    result = BatchEmbedder(wrapped, stamped_store(tmp_path), batch_size=8).process_batch(entities)
    assert result.summary.total == 6
    assert result.summary.success == 4
    assert result.summary.failed == 2
    assert "model failed" in result.errors[poisoned.id]
    assert "no text" in result.errors[empty.id]
    assert set(result.vectors) == {f.id for f in FUNCTIONS}
    # the good items of the failed batch were stored: a second run embeds only the bad one
    again = BatchEmbedder(wrapped, stamped_store(tmp_path)).process_batch(entities)
    assert again.summary.cached == 4 and again.summary.newly_embedded == 0


def test_moved_renamed_and_duplicated_code_embeds_nothing_new(
    model: TorchEncoder, tmp_path: Path
) -> None:
    embedder = BatchEmbedder(model, stamped_store(tmp_path))
    original = FUNCTIONS[0]
    embedder.process_batch([original])
    moved = fn("retry_upload", "    for i in range(3):\n        client.put(path)\n", line=40)
    renamed_file = fn(
        "retry_upload", "    for i in range(3):\n        client.put(path)\n", path="pkg/new.py"
    )
    result = embedder.process_batch([moved, renamed_file])
    assert result.summary.newly_embedded == 0 and result.summary.cached == 2


def test_identical_texts_in_one_batch_embed_once(model: TorchEncoder, tmp_path: Path) -> None:
    a = fn("same", "    return 1\n", path="a.py")
    b = fn("same", "    return 1\n", path="b.py")
    wrapped = PoisonedModel(model, "\0never")
    result = BatchEmbedder(wrapped, stamped_store(tmp_path)).process_batch([a, b])
    assert result.summary.success == 2 and wrapped.calls == 1
    assert result.keys[a.id] == result.keys[b.id]


def test_long_entity_is_fitted_to_the_window(model: TorchEncoder, tmp_path: Path) -> None:
    body = "".join(f"    value_{i} = compute_{i}(value_{i - 1})\n" for i in range(1, 600))
    big = fn("long_pipeline", body)
    embedder = BatchEmbedder(model, stamped_store(tmp_path))
    prepared = embedder.preparator.prepare(big)
    assert prepared.text.startswith("python function long_pipeline (long pipeline)")
    assert len(model.tokenizer(prepared.text)["input_ids"]) <= model.max_tokens
    assert embedder.process_batch([big]).summary.success == 1


def test_force_re_embeds_cached_entities(model: TorchEncoder, tmp_path: Path) -> None:
    embedder = BatchEmbedder(model, stamped_store(tmp_path))
    embedder.process_batch(FUNCTIONS[:1])
    result = embedder.process_batch(FUNCTIONS[:1], force=True)
    assert result.summary.newly_embedded == 1 and result.summary.cached == 0
