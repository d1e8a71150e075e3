"""The onnx-int8 backend: a real export of the packaged model, checked against torch fp32.

The export (the slow part) runs once for the module into its own cache folder; the tests
that need a cache miss after that copy the good file instead of exporting again.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import json.decoder
import json.encoder
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codesearch.config import Settings
from codesearch.embedding import onnx_backend
from codesearch.embedding.batch import BatchEmbedder
from codesearch.embedding.onnx_backend import export_path, load_onnx_int8
from codesearch.embedding.onnx_inference import (
    OnnxInt8Encoder,
    _load_transformers_tokenizer,
    physical_cores,
)
from codesearch.embedding.registry import load_encoder, vector_model_id
from codesearch.embedding.text import PreparedText, TextPreparator
from codesearch.embedding.tokenizer_json import JsonTokenizer
from codesearch.embedding.torch_backend import TorchEncoder
from codesearch.embedding.types import ModelLoadError, ModelSpec, Vectors
from codesearch.entities import Entity
from codesearch.locations import CACHE_DIR_ENV, MODELS_DIR_ENV
from codesearch.store import SCHEMA_VERSION, Store, StoreMeta
from codesearch.workspace import Workspace

pytestmark = pytest.mark.slow


def _stdlib_functions(limit: int = 50) -> list[str]:
    """Real code: the functions and methods of json and argparse, as written."""
    texts: list[str] = []
    for module in (json.decoder, json.encoder, argparse):
        source = inspect.getsource(module)
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                segment = ast.get_source_segment(source, node)
                if segment and len(segment) > 80:
                    texts.append(segment)
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


TEXTS = _stdlib_functions()


@pytest.fixture(scope="module")
def spec(model: TorchEncoder) -> ModelSpec:
    return model.spec


@pytest.fixture(scope="module")
def export_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def int8(spec: ModelSpec, export_base: Path) -> OnnxInt8Encoder:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_DIR_ENV, str(export_base))
        mp.delenv(MODELS_DIR_ENV, raising=False)
        return load_onnx_int8(spec, threads=0)


@pytest.fixture(scope="module")
def int8_vectors(int8: OnnxInt8Encoder) -> np.ndarray[Any, Any]:
    return int8.encode(TEXTS)


def test_texts_are_real_functions() -> None:
    assert len(TEXTS) >= 45
    assert all(text.lstrip().startswith(("def ", "async def ")) for text in TEXTS)


def test_export_lands_in_the_cache_folder(int8: OnnxInt8Encoder, export_base: Path) -> None:
    assert int8.exported
    assert int8.path.is_file()
    assert int8.path.parent.parent == export_base / "models"
    assert not list(int8.path.parent.glob(".export-*"))  # the temporary folder is gone


def test_vectors_are_unit_384d_and_close_to_torch(
    int8: OnnxInt8Encoder, int8_vectors: np.ndarray[Any, Any], model: TorchEncoder
) -> None:
    assert int8.dimensions == model.dimensions == 384
    assert int8.max_tokens == model.max_tokens
    assert int8_vectors.shape == (len(TEXTS), 384)
    assert int8_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(int8_vectors, axis=1), 1.0, atol=1e-4)
    cosines = (int8_vectors * model.encode(TEXTS)).sum(axis=1)
    assert cosines.mean() >= 0.98, cosines.mean()
    assert cosines.min() >= 0.95, cosines.min()


def test_results_keep_the_callers_order(
    int8: OnnxInt8Encoder, int8_vectors: np.ndarray[Any, Any]
) -> None:
    reordered = int8.encode(TEXTS[::-1], batch_size=7)[::-1]
    # Dynamic quantisation scales per batch, so other batch mates move a vector slightly.
    assert ((reordered * int8_vectors).sum(axis=1) > 0.99).all()
    assert int8.encode([]).shape == (0, 384)


def _entities(texts: list[str]) -> list[Entity]:
    return [
        Entity("mod.py", f"f{i}", "function", "python", 1, 1 + t.count("\n"), t)
        for i, t in enumerate(texts)
    ]


def test_prepared_token_ids_give_the_vectors_of_the_prepared_text(int8: OnnxInt8Encoder) -> None:
    """The pipeline hands the int8 model the ids it built while fitting the window; the
    vectors must be exactly those of the prepared text tokenised by the model."""
    prepared = TextPreparator(int8.tokenizer, int8.max_tokens, int8.model_id).prepare_many(
        _entities(TEXTS)
    )
    items = [p for p in prepared if isinstance(p, PreparedText)]
    assert len(items) == len(TEXTS) and all(p.ids is not None for p in items)
    from_ids = int8.encode_ids([p.ids for p in items if p.ids is not None])
    from_text = int8.encode([p.text for p in items])
    np.testing.assert_array_equal(from_ids, from_text)


def test_the_tokenizer_json_gives_the_vectors_and_keys_of_transformers_tokenizer(
    int8: OnnxInt8Encoder, spec: ModelSpec
) -> None:
    """The int8 model reads tokenizer.json without transformers: its vectors and content
    keys must be those it gave with transformers' tokenizer (no re-embed of any store)."""
    assert isinstance(int8.tokenizer, JsonTokenizer)
    theirs = _load_transformers_tokenizer(spec, int8.max_tokens)
    before = OnnxInt8Encoder(
        spec,
        int8._session,
        theirs,
        dimensions=int8.dimensions,
        max_tokens=int8.max_tokens,
        pooling="mean",
        path=int8.path,
    )
    long_texts = [text * 8 for text in TEXTS[:8]]  # cut at the window
    for texts in (TEXTS, long_texts, ["shortest path between two nodes"]):
        np.testing.assert_array_equal(int8.encode(texts), before.encode(texts))
    entities = _entities(TEXTS)
    ours = TextPreparator(int8.tokenizer, int8.max_tokens, int8.model_id).prepare_many(entities)
    assert ours == TextPreparator(theirs, int8.max_tokens, int8.model_id).prepare_many(entities)


def test_loading_the_int8_model_imports_neither_transformers_nor_torch(
    int8: OnnxInt8Encoder, export_base: Path
) -> None:
    """A server start loads the model before its first search can answer; importing
    transformers for the tokenizer (and torch with it) was 90% of that load (~6 s)."""
    env = {**os.environ, CACHE_DIR_ENV: str(export_base)}
    env.pop(MODELS_DIR_ENV, None)
    script = (
        "import json, sys\n"
        "from codesearch.embedding.registry import load_encoder\n"
        "from codesearch.embedding.text import TextPreparator\n"
        "from codesearch.entities import Entity\n"
        "encoder = load_encoder(backend='onnx-int8')\n"
        "assert not encoder.exported\n"
        "encoder.encode(['shortest path between two nodes'])\n"
        "entity = Entity('a.py', 'f', 'function', 'python', 1, 2, 'def f():\\n    return 1')\n"
        "prepared = TextPreparator(encoder.tokenizer, encoder.max_tokens, encoder.model_id)"
        ".prepare(entity)\n"
        "encoder.encode_ids([prepared.ids])\n"
        "heavy = ('transformers', 'torch', 'sentence_transformers')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_token_ids_outside_the_window_are_refused(int8: OnnxInt8Encoder) -> None:
    with pytest.raises(ValueError, match="token ids must number"):
        int8.encode_ids([[101, 102], []])
    with pytest.raises(ValueError, match="token ids must number"):
        int8.encode_ids([[101] * (int8.max_tokens + 1)])
    assert int8.encode_ids([]).shape == (0, 384)


class _CountingInt8:
    """The int8 model, counting which entry point the pipeline calls."""

    takes_token_ids = True

    def __init__(self, real: OnnxInt8Encoder) -> None:
        self.real = real
        self.model_id = real.model_id
        self.dimensions = real.dimensions
        self.max_tokens = real.max_tokens
        self.tokenizer = real.tokenizer
        self.text_calls = 0
        self.id_calls = 0
        self.spare_core_calls = 0

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        self.text_calls += 1
        return self.real.encode(texts, batch_size)

    def encode_ids(
        self, ids: Sequence[Sequence[int]], batch_size: int = 32, *, spare_core: bool = False
    ) -> Vectors:
        self.id_calls += 1
        self.spare_core_calls += spare_core
        return self.real.encode_ids(ids, batch_size, spare_core=spare_core)


def test_the_pipeline_embeds_from_token_ids_and_a_bad_row_fails_alone(
    int8: OnnxInt8Encoder, tmp_path: Path
) -> None:
    counting = _CountingInt8(int8)
    entities = _entities(TEXTS[:6])
    store = Store(tmp_path / "store", model_id=int8.model_id)
    store.set_meta(StoreMeta(SCHEMA_VERSION, int8.model_id, int8.dimensions))
    embedder = BatchEmbedder(counting, store, batch_size=4)
    prepared = embedder.preparator.prepare_many(entities)
    first = prepared[0]
    assert isinstance(first, PreparedText)
    # a row longer than the window (a bug upstream) must cost only its own entity
    prepared[0] = dataclasses.replace(first, ids=(101,) * (int8.max_tokens + 5))
    result = embedder.process_batch(entities, prepared=prepared)
    assert counting.text_calls == 0 and counting.id_calls >= 2
    assert set(result.errors) == {entities[0].id}
    assert "token ids must number" in result.errors[entities[0].id]
    assert result.summary.newly_embedded == 5
    expected = int8.encode([p.text for p in prepared[1:] if isinstance(p, PreparedText)])
    for entity, vector in zip(entities[1:], expected, strict=True):
        # retried one by one: int8 scales per batch, so batch mates move a vector a little
        assert float(result.vectors[entity.id] @ vector) > 0.97


def test_sparing_a_core_gives_the_same_vectors_from_one_kept_session(
    int8: OnnxInt8Encoder, spec: ModelSpec
) -> None:
    """While files are parsed beside it, the model runs on one core fewer (a second
    session of the same file): the vectors must not change."""
    ids = [
        p.ids
        for p in TextPreparator(int8.tokenizer, 256, int8.model_id).prepare_many(
            _entities(TEXTS[:12])
        )
        if isinstance(p, PreparedText) and p.ids is not None
    ]
    wide = int8.encode_ids(ids)
    narrow = int8.encode_ids(ids, spare_core=True)
    assert ((wide * narrow).sum(axis=1) > 0.9999).all()
    assert int8._narrow_session() is int8._narrow_session()  # made once, then kept
    one_core = load_onnx_int8(spec, threads=1)  # the cached export, one thread
    assert one_core._narrow_session() is one_core._session  # nothing narrower to run on
    assert physical_cores() >= 1


def test_the_pipeline_spares_a_core_only_when_asked(int8: OnnxInt8Encoder, tmp_path: Path) -> None:
    counting = _CountingInt8(int8)
    store = Store(tmp_path / "store", model_id=int8.model_id)
    store.set_meta(StoreMeta(SCHEMA_VERSION, int8.model_id, int8.dimensions))
    embedder = BatchEmbedder(counting, store, batch_size=4)
    answers = iter([True, False])
    result = embedder.process_batch(_entities(TEXTS[:8]), spare_core=lambda: next(answers))
    assert result.summary.newly_embedded == 8
    assert (counting.id_calls, counting.spare_core_calls) == (2, 1)


def test_model_id_never_matches_torch(int8: OnnxInt8Encoder, model: TorchEncoder) -> None:
    assert int8.model_id != model.model_id
    assert int8.model_id == model.model_id + "+onnx-int8"
    assert vector_model_id(model.spec, "onnx-int8") == int8.model_id  # known before loading
    assert vector_model_id(model.spec, "torch") == model.model_id
    assert int8.name.endswith(" (onnx-int8)")


def test_second_load_reuses_the_export(
    int8: OnnxInt8Encoder,
    int8_vectors: np.ndarray[Any, Any],
    spec: ModelSpec,
    export_base: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(export_base))
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    before = int8.path.stat()

    def no_export(*args: object) -> None:
        raise AssertionError("the cached export should have been reused")

    monkeypatch.setattr(onnx_backend, "export_int8", no_export)
    again = load_onnx_int8(spec, threads=1)
    after = again.path.stat()
    assert not again.exported
    assert again.path == int8.path
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    np.testing.assert_allclose(again.encode(TEXTS), int8_vectors, atol=1e-5)


def test_cached_load_says_nothing_on_stderr(
    int8: OnnxInt8Encoder, export_base: Path, tmp_path: Path
) -> None:
    """`codesearch index` in a fresh process on the cached export, over code far longer
    than the window: it is cut silently (a tokenizer warning there lands in the user's
    terminal or the editor's server log)."""
    folder = tmp_path / "code"
    folder.mkdir()
    # punctuation-dense code: about one token per character, several times the window
    (folder / "dense.py").write_text("def dense():\n    return [" + "1," * 600 + "]\n")
    env = {**os.environ, CACHE_DIR_ENV: str(export_base)}
    env.pop(MODELS_DIR_ENV, None)
    done = subprocess.run(
        [sys.executable, "-m", "codesearch", "index", str(folder), "--backend", "onnx-int8"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 entities (1 embedded" in done.stdout
    assert done.stderr == ""


def _fake_export(good: Path, calls: list[Path]) -> Any:
    def export(spec: ModelSpec, target: Path) -> None:
        calls.append(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(good, target)

    return export


def test_corrupt_cached_file_is_replaced(
    int8: OnnxInt8Encoder,
    spec: ModelSpec,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    target = export_path(spec)
    target.parent.mkdir(parents=True)
    target.write_bytes(int8.path.read_bytes()[:100_000])  # as if cut off mid-write
    calls: list[Path] = []
    monkeypatch.setattr(onnx_backend, "export_int8", _fake_export(int8.path, calls))
    loaded = load_onnx_int8(spec)
    assert calls == [target]
    assert loaded.exported
    assert target.stat().st_size == int8.path.stat().st_size
    assert loaded.encode(TEXTS[:3]).shape == (3, 384)


def test_export_of_another_model_is_not_reused(
    int8: OnnxInt8Encoder,
    spec: ModelSpec,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    other = dataclasses.replace(spec, model_id=spec.model_id + "-changed")
    target = export_path(other)
    assert target != export_path(spec)
    target.parent.mkdir(parents=True)
    shutil.copyfile(int8.path, target)  # right file format, wrong model inside
    calls: list[Path] = []
    monkeypatch.setattr(onnx_backend, "export_int8", _fake_export(int8.path, calls))
    with pytest.raises(ModelLoadError, match="does not load"):
        load_onnx_int8(other)  # the "fresh" export is still the wrong model: refused
    assert calls == [target]


def test_load_encoder_dispatches_and_caches_per_backend(
    int8: OnnxInt8Encoder, model: TorchEncoder, export_base: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(export_base))
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    first = load_encoder(model.spec, backend="onnx-int8")
    assert isinstance(first, OnnxInt8Encoder)
    assert load_encoder(model.spec, backend="onnx-int8") is first
    assert load_encoder(model.spec, backend="torch") is model
    with pytest.raises(ModelLoadError, match="unknown model backend 'tensorflow'"):
        load_encoder(model.spec, backend="tensorflow")


def test_missing_onnxruntime_says_what_to_install(
    spec: ModelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes `import onnxruntime` fail
    with pytest.raises(ModelLoadError, match=r"pip install onnxruntime onnx.*\"torch\""):
        load_onnx_int8(spec)


def test_int8_is_the_default_backend(spec: ModelSpec) -> None:
    """The shipped default: same quality within 0.1 MRR@10 point, about twice as fast."""
    assert Settings().backend == "onnx-int8"
    workspace = Workspace(Path(__file__).parent.parent / "fixtures" / "workspace")
    assert workspace.model_id == vector_model_id(spec, "onnx-int8")
    assert workspace.model_name == "all-MiniLM-L6-v2 (onnx-int8)"


def test_failed_export_in_the_child_says_why_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The export runs in a child process (the server never keeps torch's export memory);
    its failure must still reach the user as one clear message."""
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "models"))
    not_a_model = tmp_path / "empty-model"
    not_a_model.mkdir()
    spec = ModelSpec("empty-model", str(not_a_model), True, "empty-model:0")
    with pytest.raises(ModelLoadError, match=r"could not load 'empty-model' from .*config"):
        load_onnx_int8(spec)
    target = onnx_backend.export_path(spec)
    assert not target.exists()
    assert not list(target.parent.glob(".export-*"))
