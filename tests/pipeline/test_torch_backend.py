"""The torch backend's token-id path gives the vectors its text path gives."""

from __future__ import annotations

import inspect
import json.decoder
import textwrap

import numpy as np
import pytest

from codesearch.embedding.text import PreparedText, TextPreparator
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.entities import Entity

pytestmark = pytest.mark.slow


def _real_entities() -> list[Entity]:
    """The methods of json.decoder, as written, plus short and one-word ones."""
    source = inspect.getsource(json.decoder)
    entities = [
        Entity("json/decoder.py", name, "function", "python", 1, 2, textwrap.dedent(code))
        for name, code in (
            (n, inspect.getsource(f))
            for n, f in vars(json.decoder.JSONDecoder).items()
            if inspect.isfunction(f)
        )
    ]
    entities.append(Entity("m.py", "module", "module", "python", 1, 2, source))  # window-long
    entities.append(Entity("m.py", "x", "function", "python", 1, 1, "x"))
    return entities


@pytest.mark.parametrize("window", [128, 256])
def test_encode_ids_gives_the_vectors_of_encode(model: TorchEncoder, window: int) -> None:
    prepared = TextPreparator(
        model.tokenizer, model.max_tokens, model.model_id, window_tokens=window
    ).prepare_many(_real_entities())
    items = [p for p in prepared if isinstance(p, PreparedText) and p.ids is not None]
    assert len(items) == len(prepared) >= 5
    assert window - 4 <= max(len(p.ids or ()) for p in items) <= window  # one fills it
    from_ids = model.encode_ids([p.ids for p in items if p.ids is not None], batch_size=3)
    from_text = model.encode([p.text for p in items])
    assert from_ids.shape == from_text.shape and from_ids.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(from_ids, axis=1), 1.0, atol=1e-5)
    cosines = (from_ids * from_text).sum(axis=1)
    assert cosines.min() > 0.9999, cosines


def test_token_ids_outside_the_window_are_refused(model: TorchEncoder) -> None:
    with pytest.raises(ValueError, match="token ids must number"):
        model.encode_ids([[101, 102], []])
    with pytest.raises(ValueError, match="token ids must number"):
        model.encode_ids([[101] * (model.max_tokens + 1)])
    assert model.encode_ids([]).shape == (0, model.dimensions)
