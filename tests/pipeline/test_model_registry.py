"""The `threads` setting reaches the model the registry hands out, on both real backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from codesearch.embedding import registry
from codesearch.embedding.onnx_inference import OnnxInt8Encoder
from codesearch.embedding.registry import load_encoder
from codesearch.embedding.torch_backend import TorchEncoder

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The encoders this test loads are dropped after it; torch's thread count restored."""
    monkeypatch.setattr(registry, "_loaded", {})
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def _intra_op_threads(encoder: OnnxInt8Encoder) -> int:
    return int(encoder._session.get_session_options().intra_op_num_threads)


def test_a_changed_threads_setting_reaches_the_onnx_session(
    fresh_registry: None, model: TorchEncoder
) -> None:
    """Bug: models were cached by (model, backend), so after the first load every later
    `threads` setting got the first session, still on the first thread count."""
    one = load_encoder(model.spec, backend="onnx-int8", threads=1)
    two = load_encoder(model.spec, backend="onnx-int8", threads=2)
    assert isinstance(one, OnnxInt8Encoder) and isinstance(two, OnnxInt8Encoder)
    assert (_intra_op_threads(one), _intra_op_threads(two)) == (1, 2)
    assert load_encoder(model.spec, backend="onnx-int8", threads=1) is one
    assert one.model_id == two.model_id  # threads change the speed, never the vectors
    assert ((one.encode(["def f(): pass"]) * two.encode(["def f(): pass"])).sum() > 0.9999).all()


def test_a_changed_threads_setting_reaches_torch(fresh_registry: None, model: TorchEncoder) -> None:
    one = load_encoder(model.spec, backend="torch", threads=1)
    two = load_encoder(model.spec, backend="torch", threads=2)
    assert one is not two
    two.encode(["def f(): pass"])
    assert torch.get_num_threads() == 2
    one.encode(["def f(): pass"])  # torch's count is per process: each encoder sets its own
    assert torch.get_num_threads() == 1
