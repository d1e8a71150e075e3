"""JsonTokenizer gives the packaged model's tokens exactly as transformers' tokenizer does.

The int8 backend now reads the model's tokenizer.json with the `tokenizers` library alone
(no `import transformers`: seconds of every server start). Any difference in token ids
would change vectors, and any difference in how the text preparator cuts text would change
every content key (a full re-embed): so ids, offsets, prepared texts and keys are compared
with transformers' own tokenizer for the same folder, on hostile text (hypothesis) and on
thousands of real entities.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesearch.embedding.onnx_inference import _load_tokenizer, _load_transformers_tokenizer
from codesearch.embedding.resolve import resolve_model
from codesearch.embedding.text import PreparedText, TextPreparator
from codesearch.embedding.tokenizer_json import JsonTokenizer
from codesearch.embedding.types import ModelSpec
from codesearch.entities import Entity
from codesearch.parsing.extract import extract_entities

pytestmark = pytest.mark.slow

WINDOW = 256  # the packaged model's window (sentence-transformers' max_seq_length)
FUZZ = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Pieces that stress a BERT tokenizer: its special tokens written in the text (in any case,
# glued or spaced), WordPiece's own continuation marker, control and format characters,
# accents that lower-casing strips or keeps, CJK (split per character), emoji sequences,
# right-to-left marks, Unicode line separators, and runs far longer than the window.
HOSTILE = [
    "[SEP]", "[CLS]", "[PAD]", "[MASK]", "[UNK]", "[sep]", "[ SEP ]", "x[SEP]y", "[SEP][SEP]",
    "##", "##ing", "\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\x85", "\ufeff", "\u200b",
    "\u200d", "\u2028", "\u2029", "\u202e", "\u00ad", "\r\n", "\r", "\t", "\v", "\f", " ",
    "é", "e\u0301", "Å", "ß", "İ", "ﬁ", "Ω", "日本語", "한국어", "中文字符", "ｆｕｌｌ",
    "😀", "👩\u200d💻", "🇫🇷", "\U0001f9d1\U0001f3fd", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "٣٤٥", "עברית",
    "def", "return", "self", "(", ")", "{", "}", "=>", "::", "0x1F", "1e-9", "__init__",
    "snake_case_name", "CamelCaseName", "a" * 300, "ab" * 400, "\n" * 50, "." * 500,
]  # fmt: skip
hostile_text = st.one_of(
    st.text(max_size=2000),  # any code point but lone surrogates
    st.lists(st.sampled_from(HOSTILE), max_size=400).map(" ".join),
    st.lists(st.sampled_from(HOSTILE), max_size=400).map("".join),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=20)), max_size=200).map("".join),
)
texts = st.lists(hostile_text, min_size=1, max_size=6)


@pytest.fixture(scope="module")
def spec() -> ModelSpec:
    return resolve_model("")


@pytest.fixture(scope="module")
def ours(spec: ModelSpec) -> JsonTokenizer:
    found = _load_tokenizer(spec, WINDOW)
    assert isinstance(found, JsonTokenizer)  # the packaged model has a tokenizer.json
    return found


@pytest.fixture(scope="module")
def theirs(spec: ModelSpec) -> Any:
    """Transformers' tokenizer for the same folder, as the int8 backend loaded it before."""
    return _load_transformers_tokenizer(spec, WINDOW)


def _ids(found: Any) -> list[list[int]]:
    return [list(row) for row in found["input_ids"]]


def test_the_same_core_padding_token_and_window(ours: JsonTokenizer, theirs: Any) -> None:
    assert ours.pad_token_id == theirs.pad_token_id
    assert ours.model_max_length == theirs.model_max_length == WINDOW
    # what TextPreparator copies: equal once truncation and padding are cleared, as it does
    for core in (ours.backend_tokenizer, theirs.backend_tokenizer):
        core.no_truncation()
        core.no_padding()
    assert ours.backend_tokenizer.to_str() == theirs.backend_tokenizer.to_str()


@FUZZ
@given(batch=texts, window=st.one_of(st.just(WINDOW), st.integers(3, 300)))
def test_ids_cut_to_a_window_are_transformers_ids(
    batch: list[str], window: int, ours: JsonTokenizer, theirs: Any
) -> None:
    """As OnnxInt8Encoder.encode calls it: special tokens in, cut at the window."""
    call = {
        "truncation": True,
        "max_length": window,
        "padding": False,
        "return_attention_mask": False,
        "return_token_type_ids": False,
    }
    expected = _ids(theirs(batch, **call))
    assert _ids(ours(batch, **call)) == expected
    assert all(len(row) <= window for row in expected)


@FUZZ
@given(batch=texts)
def test_whole_ids_and_offsets_are_transformers_ones(
    batch: list[str], ours: JsonTokenizer, theirs: Any
) -> None:
    """Without special tokens or a window, with offsets (what the text preparator needs),
    and a single text as tests call it."""
    call = {"add_special_tokens": False, "return_offsets_mapping": True, "truncation": False}
    expected = theirs(batch, **call)
    found = ours(batch, **call)
    assert _ids(found) == _ids(expected)
    assert [list(row) for row in found["offset_mapping"]] == [
        list(row) for row in expected["offset_mapping"]
    ]
    assert list(ours(batch[0])["input_ids"]) == list(theirs(batch[0])["input_ids"])


def test_a_lone_surrogate_is_refused_alike(ours: JsonTokenizer, theirs: Any) -> None:
    with pytest.raises(TypeError) as expected:
        theirs(["ok \udc80 no"], truncation=True, max_length=WINDOW)
    with pytest.raises(TypeError) as found:
        ours(["ok \udc80 no"], truncation=True, max_length=WINDOW)
    assert str(found.value) == str(expected.value)


def _package_entities(*packages: str) -> list[Entity]:
    """Every function, class and method of installed packages, as the indexer parses them."""
    found: list[Entity] = []
    for package in packages:
        module = importlib.util.find_spec(package)
        assert module is not None and module.submodule_search_locations, package
        root = Path(next(iter(module.submodule_search_locations)))
        for path in sorted(root.rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            found.extend(extract_entities(source, "python", str(path.relative_to(root.parent))))
    return found


@pytest.fixture(scope="module")
def real_entities() -> list[Entity]:
    return _package_entities("click", "rich", "pygments")


def test_real_entities_prepare_to_the_same_texts_keys_and_ids(
    real_entities: list[Entity], ours: JsonTokenizer, theirs: Any
) -> None:
    """Thousands of real functions, classes and methods: the text each is cut to, its
    content key and its ids must not change with the tokenizer (else a re-embed)."""
    assert len(real_entities) >= 3000
    model_id = "all-MiniLM-L6-v2:test+onnx-int8"
    expected = TextPreparator(theirs, WINDOW, model_id).prepare_many(real_entities)
    found = TextPreparator(ours, WINDOW, model_id).prepare_many(real_entities)
    assert found == expected
    prepared = [p for p in found if isinstance(p, PreparedText)]
    assert len(prepared) >= 3000
    call = {"truncation": True, "max_length": WINDOW, "padding": False}
    by_text = _ids(ours([p.text for p in prepared], **call))
    assert by_text == _ids(theirs([p.text for p in prepared], **call))
    assert by_text == [list(p.ids or ()) for p in prepared]
    # and whole sources, most far longer than the window, as `encode` gets them
    sources = [e.source for e in real_entities]
    assert _ids(ours(sources, **call)) == _ids(theirs(sources, **call))


def test_a_folder_without_tokenizer_json_loads_transformers_tokenizer(
    spec: ModelSpec, tmp_path: Path, ours: JsonTokenizer
) -> None:
    """The fallback: a model saved without a tokenizer.json (a vocabulary and configs only)
    still loads, through transformers, and tokenises as before."""
    source = Path(spec.source)
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        shutil.copyfile(source / name, folder / name)
    other = ModelSpec("no-tokenizer-json", str(folder), True, "no-tokenizer-json:0")
    loaded = _load_tokenizer(other, WINDOW)
    assert not isinstance(loaded, JsonTokenizer)
    sample = ["def retry_upload(self, attempts=3):", "[SEP] é 日本 " * 200]
    call = {"truncation": True, "max_length": WINDOW}
    assert _ids(loaded(sample, **call)) == _ids(ours(sample, **call))
