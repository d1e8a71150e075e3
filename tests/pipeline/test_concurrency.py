"""Preparing text on the parse-ahead thread while the model encodes must not interfere."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from codesearch.embedding.text import TextPreparator
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.entities import Entity

pytestmark = pytest.mark.slow


def entities(count: int) -> list[Entity]:
    return [
        Entity(
            "m.py",
            f"function_{i}",
            "function",
            "python",
            1,
            3,
            f"def function_{i}(x):\n" + "    x = x + 1\n" * (i % 40) + "    return x\n",
        )
        for i in range(count)
    ]


def test_preparing_text_beside_the_model_gives_what_it_gives_alone(
    model: TorchEncoder,
) -> None:
    """The parse-ahead thread prepares text while the model encodes. The preparator works
    on a private copy of the tokenizer: with the model's own one, the model's call (which
    turns padding and truncation on) changed what the preparator computed, and whole
    batches failed. Every result beside the model, and after it, must equal the result
    alone; the model's vectors too."""
    batch = entities(32)
    texts = [e.source * (1 + i % 3) for i, e in enumerate(batch)]
    preparator = TextPreparator(model.tokenizer, model.max_tokens, model.model_id)
    alone = preparator.prepare_many(batch)
    vectors_alone = model.encode(texts, batch_size=16)
    beside: list[object] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def prepare_until_stopped() -> None:
        try:
            while not stop.is_set():
                beside.append(preparator.prepare_many(batch))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=prepare_until_stopped)
    thread.start()
    try:
        for _ in range(3):
            assert np.allclose(model.encode(texts, batch_size=16), vectors_alone, atol=1e-5)
    finally:
        stop.set()
        thread.join()
    after = preparator.prepare_many(batch)  # the model has run: its settings must not leak
    assert errors == []
    assert beside and all(result == alone for result in beside)
    assert after == alone
