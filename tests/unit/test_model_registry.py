"""The model registry's bookkeeping, on a fake backend (tests/pipeline loads real ones)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from tests.support.fakes import FakeEncoder

from codesearch.embedding import registry
from codesearch.embedding.onnx_backend import EXPORT_SECONDS, export_path
from codesearch.embedding.registry import Backend, load_encoder, vector_model_id
from codesearch.embedding.types import Encoder, ModelLoadError, ModelSpec

SPEC = ModelSpec("tiny", "/models/tiny", True, "tiny:0123")


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ModelSpec, int]]:
    """A "fake" backend registered by one entry, and an empty registry for the test."""
    calls: list[tuple[ModelSpec, int]] = []

    def load(spec: ModelSpec, threads: int) -> Encoder:
        calls.append((spec, threads))
        return FakeEncoder(model_id=f"{spec.model_id}+fake")

    monkeypatch.setitem(registry.BACKENDS, "fake", Backend(load, lambda s: f"{s.model_id}+fake"))
    monkeypatch.setattr(registry, "_loaded", {})
    return calls


def test_each_threads_setting_loads_its_own_encoder(loads: list[tuple[ModelSpec, int]]) -> None:
    """Bug: the registry was keyed by model alone, so a changed `threads` setting got the
    encoder loaded first, on the old thread count."""
    one = load_encoder(SPEC, backend="fake", threads=1)
    two = load_encoder(SPEC, backend="fake", threads=2)
    assert one is not two
    assert loads == [(SPEC, 1), (SPEC, 2)]
    assert load_encoder(SPEC, backend="fake", threads=1) is one  # loaded once per key
    assert len(loads) == 2


def test_the_model_id_is_known_without_loading(loads: list[tuple[ModelSpec, int]]) -> None:
    assert vector_model_id(SPEC, "fake") == "tiny:0123+fake"
    assert loads == []
    assert vector_model_id(SPEC, "fake") == load_encoder(SPEC, backend="fake").model_id
    assert vector_model_id(SPEC, "torch") == SPEC.model_id
    assert vector_model_id(SPEC, "onnx-int8") == SPEC.model_id + "+onnx-int8"


def test_a_load_writes_the_line_tools_wait_for(
    loads: list[tuple[ModelSpec, int]], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="codesearch"):
        load_encoder(SPEC, backend="fake", threads=3)
        load_encoder(SPEC, backend="fake", threads=3)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("loaded model")]
    assert lines == ["loaded model tiny:0123+fake (32 dimensions, 64-token window, 3 threads)"]


def test_an_unknown_backend_names_the_known_ones(loads: list[tuple[ModelSpec, int]]) -> None:
    with pytest.raises(ModelLoadError, match=r"'tensorflow' \(one of onnx-int8, torch, fake\)"):
        load_encoder(SPEC, backend="tensorflow")
    with pytest.raises(ModelLoadError, match="unknown model backend"):
        vector_model_id(SPEC, "tensorflow")


def test_the_int8_backend_says_when_a_load_first_prepares_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first int8 load exports the model (half a minute): the registry answers whether
    it will, without loading, so the CLI can say so instead of seeming to hang."""
    monkeypatch.setenv("CODESEARCH_MODELS_DIR", str(tmp_path))
    assert registry.needs_preparation(SPEC, "onnx-int8")
    assert registry.preparation_seconds(SPEC, "onnx-int8") == EXPORT_SECONDS
    exported = export_path(SPEC)
    exported.parent.mkdir(parents=True)
    exported.write_bytes(b"an export")
    assert not registry.needs_preparation(SPEC, "onnx-int8")
    assert registry.preparation_seconds(SPEC, "onnx-int8") is None
    assert not registry.needs_preparation(SPEC, "torch")  # the packaged weights load as is
