"""Preparing text on the parse-ahead thread while the model encodes must not interfere."""

from __future__ import annotations

import threading

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


def run_concurrently(model: TorchEncoder, preparator: TextPreparator) -> list[BaseException]:
    errors: list[BaseException] = []
    stop = threading.Event()
    batch = entities(32)

    def prepare_forever() -> None:
        try:
            while not stop.is_set():
                preparator.prepare_many(batch)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=prepare_forever)
    thread.start()
    texts = [e.source * (1 + i % 3) for i, e in enumerate(batch)]
    try:
        for _ in range(3):
            model.encode(texts, batch_size=16)
    except BaseException as exc:
        errors.append(exc)
    finally:
        stop.set()
        thread.join()
    return errors


def test_preparator_and_model_share_no_tokenizer_state(model: TorchEncoder) -> None:
    preparator = TextPreparator(model.tokenizer, model.max_tokens, model.model_id)
    assert preparator._tokenizer is not model.tokenizer
    assert run_concurrently(model, preparator) == []
