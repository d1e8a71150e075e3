"""A model's `tokenizer.json`, run by the `tokenizers` library alone.

The backends that do not run torch (onnx-int8) need only the model's tokenizer, and
Hugging Face's AutoTokenizer costs an `import transformers` (and torch with it): the int8
model's load in a fresh process took 5-8 s with it, 0.2-0.4 s without (busy 2-core machine,
`python -m benchmarks.encoder_load`), and every server start waited for it before its first
search. A fast Hugging Face tokenizer is this same Rust tokenizer behind a Python wrapper,
so calling the Rust core gives the same ids (tests/reliability/test_tokenizer_json.py checks
them against transformers' tokenizer on hostile text and on thousands of real entities).

`JsonTokenizer` offers what the engine uses of a Hugging Face tokenizer, no more:
`backend_tokenizer` (the Rust core, which TextPreparator copies), `pad_token_id`,
`model_max_length`, and calling it on a text or a list of texts.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from codesearch.embedding.types import ModelLoadError

TOKENIZER_FILE = "tokenizer.json"
# Where a model folder names its padding token, in the order transformers reads them.
_CONFIG_FILES = ("tokenizer_config.json", "special_tokens_map.json")


class JsonTokenizer:
    """A model folder's tokenizer.json, called as a fast Hugging Face tokenizer is called.

    Safe to call from several threads at once: the cores it encodes with are configured
    when made and never changed after (a Hugging Face tokenizer resets its one core's
    truncation on every call, which is why callers of one must not share it).
    """

    def __init__(self, core: Tokenizer, *, pad_token_id: int | None, model_max_length: int) -> None:
        # The file may carry its training-time truncation and padding (the packaged model's
        # pads every text to 128 tokens); each call states its own, as transformers does.
        core.no_truncation()
        core.no_padding()
        self._plain = core
        self.pad_token_id = pad_token_id
        self.model_max_length = model_max_length
        self._truncating: dict[int, Tokenizer] = {}
        self._truncating_lock = threading.Lock()
        self._truncating_core(model_max_length)  # the window every encode call uses

    @classmethod
    def from_model_dir(cls, directory: Path, model_max_length: int) -> JsonTokenizer | None:
        """The tokenizer of a model folder, or None when it has no tokenizer.json (a
        tokenizer only transformers can build). ModelLoadError if the file does not load."""
        path = directory / TOKENIZER_FILE
        if not path.is_file():
            return None
        try:
            core = Tokenizer.from_file(str(path))
        except Exception as exc:
            raise ModelLoadError(
                f"could not load the tokenizer {path}: {type(exc).__name__}: {exc}"
            ) from exc
        return cls(
            core,
            pad_token_id=_pad_token_id(directory, core),
            model_max_length=model_max_length,
        )

    @property
    def backend_tokenizer(self) -> Tokenizer:
        """The Rust core, without truncation or padding (never changed after loading)."""
        return self._plain

    def __call__(
        self,
        text: str | list[str],
        *,
        add_special_tokens: bool = True,
        truncation: bool = False,
        max_length: int | None = None,
        padding: bool = False,
        return_attention_mask: bool = True,
        return_token_type_ids: bool = True,
        return_offsets_mapping: bool = False,
    ) -> dict[str, Any]:
        """Token ids (and what else is asked for) of a text, or of each text of a list.

        `truncation` cuts each text to `max_length` tokens (the model's window if None),
        special tokens included, keeping its start, as transformers' `truncation=True` does.
        """
        if padding:
            raise ValueError("JsonTokenizer does not pad: the encoders pad their own batches")
        if not truncation:
            core = self._plain
        elif max_length is None:
            core = self._truncating_core(self.model_max_length)
        else:
            core = self._truncating_core(max_length)
        batch = isinstance(text, list)
        texts = text if isinstance(text, list) else [text]
        encodings = core.encode_batch(texts, add_special_tokens=add_special_tokens)
        columns: dict[str, list[Any]] = {"input_ids": [e.ids for e in encodings]}
        if return_token_type_ids:
            columns["token_type_ids"] = [e.type_ids for e in encodings]
        if return_attention_mask:
            columns["attention_mask"] = [e.attention_mask for e in encodings]
        if return_offsets_mapping:
            columns["offset_mapping"] = [e.offsets for e in encodings]
        if batch:
            return dict(columns)
        return {name: rows[0] for name, rows in columns.items()}

    def _truncating_core(self, max_length: int) -> Tokenizer:
        """A private copy of the core that cuts at `max_length` (made once per length)."""
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, not {max_length}")
        with self._truncating_lock:
            core = self._truncating.get(max_length)
            if core is None:
                core = Tokenizer.from_str(self._plain.to_str())
                core.enable_truncation(
                    max_length, stride=0, strategy="longest_first", direction="right"
                )
                self._truncating[max_length] = core
            return core


def _pad_token_id(directory: Path, core: Tokenizer) -> int | None:
    """The padding token's id: named by the model's tokenizer config or special-tokens map
    (as transformers reads them), else by the padding the tokenizer.json was saved with."""
    for name in _CONFIG_FILES:
        try:
            config = json.loads((directory / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        token = config.get("pad_token") if isinstance(config, dict) else None
        if isinstance(token, dict):  # saved as an AddedToken: {"content": "[PAD]", ...}
            token = token.get("content")
        if isinstance(token, str):
            found = core.token_to_id(token)
            if found is not None:
                return found
    padding = core.padding
    return int(padding["pad_id"]) if padding else None
