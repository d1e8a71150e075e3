"""JsonTokenizer on the packaged model's tokenizer.json, without transformers (fast).

tests/reliability/test_tokenizer_json.py checks its ids against transformers' tokenizer;
these check how it behaves as the engine calls it.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from codesearch.embedding.resolve import resolve_model
from codesearch.embedding.tokenizer_json import JsonTokenizer
from codesearch.embedding.types import ModelLoadError

CLS, SEP = 101, 102
WINDOW = 256
LONG = "def compute(values):\n    return [value * 2 for value in values]\n" * 200


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return Path(resolve_model("").source)


@pytest.fixture(scope="module")
def tokenizer(model_dir: Path) -> JsonTokenizer:
    found = JsonTokenizer.from_model_dir(model_dir, WINDOW)
    assert found is not None
    return found


def test_a_text_gives_one_row_and_a_list_gives_one_row_per_text(tokenizer: JsonTokenizer) -> None:
    one = tokenizer("def f(): pass")
    assert one["input_ids"][0] == CLS and one["input_ids"][-1] == SEP
    assert one["attention_mask"] == [1] * len(one["input_ids"])
    many = tokenizer(["def f(): pass", "x"], return_attention_mask=False)
    assert many["input_ids"][0] == one["input_ids"]
    assert many["input_ids"][1] == [CLS, tokenizer.backend_tokenizer.token_to_id("x"), SEP]
    assert "attention_mask" not in many and len(many["token_type_ids"]) == 2
    assert tokenizer([])["input_ids"] == []


def test_truncation_keeps_the_start_and_the_special_tokens_within_the_window(
    tokenizer: JsonTokenizer,
) -> None:
    whole = tokenizer(LONG)["input_ids"]
    assert len(whole) > 3 * WINDOW
    for window in (WINDOW, 128, 3):
        cut = tokenizer([LONG], truncation=True, max_length=window)["input_ids"][0]
        assert cut == [*whole[: window - 1], SEP]
    # the model's window when no length is given; a short text is left whole
    assert tokenizer(LONG, truncation=True)["input_ids"] == [*whole[: WINDOW - 1], SEP]
    assert tokenizer("x", truncation=True, max_length=8)["input_ids"] == tokenizer("x")["input_ids"]


def test_the_files_own_padding_and_truncation_are_not_applied(tokenizer: JsonTokenizer) -> None:
    """The packaged tokenizer.json pads every text to 128 tokens and cuts it there; a call
    says its own (as transformers' does), else a query would embed 120 [PAD] tokens."""
    assert len(tokenizer("x")["input_ids"]) == 3
    assert len(tokenizer(LONG)["input_ids"]) > 3 * WINDOW
    assert tokenizer.backend_tokenizer.padding is None
    assert tokenizer.backend_tokenizer.truncation is None


def test_offsets_without_special_tokens(tokenizer: JsonTokenizer) -> None:
    found = tokenizer(["open file"], add_special_tokens=False, return_offsets_mapping=True)
    assert found["input_ids"][0] == [
        tokenizer.backend_tokenizer.token_to_id("open"),
        tokenizer.backend_tokenizer.token_to_id("file"),
    ]
    assert found["offset_mapping"][0] == [(0, 4), (5, 9)]


def test_pad_token_and_window(tokenizer: JsonTokenizer, model_dir: Path, tmp_path: Path) -> None:
    assert tokenizer.pad_token_id == 0  # "[PAD]" as tokenizer_config.json names it
    assert tokenizer.model_max_length == WINDOW
    # a folder with the tokenizer.json alone: the padding it was saved with names it
    shutil.copyfile(model_dir / "tokenizer.json", tmp_path / "tokenizer.json")
    alone = JsonTokenizer.from_model_dir(tmp_path, 64)
    assert alone is not None and alone.pad_token_id == 0 and alone.model_max_length == 64


def test_a_folder_without_the_file_is_left_to_transformers(tmp_path: Path) -> None:
    assert JsonTokenizer.from_model_dir(tmp_path, WINDOW) is None


def test_a_broken_file_says_which(tmp_path: Path) -> None:
    (tmp_path / "tokenizer.json").write_text('{"version": "1.0", "model": ')  # cut off
    with pytest.raises(ModelLoadError, match=r"could not load the tokenizer .*tokenizer\.json"):
        JsonTokenizer.from_model_dir(tmp_path, WINDOW)


def test_bad_calls_are_refused(tokenizer: JsonTokenizer) -> None:
    with pytest.raises(ValueError, match="does not pad"):
        tokenizer(["a", "b c"], padding=True)
    with pytest.raises(ValueError, match="max_length must be at least 1"):
        tokenizer("a", truncation=True, max_length=0)


def test_calls_from_several_threads_at_once_each_get_their_own_window(
    tokenizer: JsonTokenizer,
) -> None:
    """The query thread and the indexing thread call one tokenizer; a call's window must
    never leak into another's (a shared, reconfigured core would)."""
    texts = [LONG[: 200 + 37 * i] for i in range(40)]
    expected = {
        window: tokenizer(texts, truncation=True, max_length=window)["input_ids"]
        for window in (16, 64, 200)
    }
    expected[0] = tokenizer(texts)["input_ids"]
    failures: list[str] = []
    start = threading.Barrier(4)

    def work(window: int) -> None:
        start.wait()
        for _ in range(10):
            if window:
                found = tokenizer(texts, truncation=True, max_length=window)["input_ids"]
            else:
                found = tokenizer(texts)["input_ids"]
            if found != expected[window]:
                failures.append(f"window {window}")
                return

    threads = [threading.Thread(target=work, args=(w,)) for w in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
