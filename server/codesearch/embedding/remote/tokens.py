"""Which tokenizer fits texts to a remote model's window.

Decision: texts are fitted client-side, as for a local model, so the content key (a hash of
the prepared text) names exactly what the server embedded and is the same on every machine,
whatever each server does with long input (TEI rejects it unless started with
`--auto-truncate`, OpenAI rejects it, Infinity and vLLM cut it). When the served model is the
packaged all-MiniLM-L6-v2, its own tokenizer (shipped beside the weights) gives the exact
128-token window the local pipeline uses, so remote and local prepare identical text. For
any other model the tokenizer is not here, so an estimate counts tokens: every word piece of
up to four characters and every punctuation mark as one token. Sub-word tokenizers give code
about 3-4 characters per token, so the estimate errs towards shorter text, never towards
text longer than the window (which the server would cut or reject).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from codesearch.embedding.types import DEFAULT_MODEL_NAME

_PIECE = re.compile(r"\w{1,4}|[^\w\s]")
APPROXIMATE_MAX_TOKENS = 512  # what most served embedding models accept at least


class ApproximateTokenizer:
    """Word pieces of at most four characters and single punctuation marks, with offsets.

    It speaks the part of a Hugging Face tokenizer's call that TextPreparator uses
    (`offset_mapping`); it has no ids, so nothing downstream can mistake them for a model's.
    """

    def __call__(self, texts: list[str], **_: Any) -> dict[str, list[list[tuple[int, int]]]]:
        return {
            "offset_mapping": [[(m.start(), m.end()) for m in _PIECE.finditer(t)] for t in texts]
        }


def is_packaged_model(served_name: str) -> bool:
    """Whether a served model name names the model this package ships (any organisation)."""
    return served_name.strip().rsplit("/", 1)[-1].lower() == DEFAULT_MODEL_NAME.lower()


def tokenizer_for(served_name: str) -> tuple[Any, int]:
    """(tokenizer, model window in tokens) for a served model: its own when it is the
    packaged model, else the estimate."""
    if is_packaged_model(served_name):
        from codesearch.embedding.resolve import resolve_model

        spec = resolve_model("")
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(spec.source, local_files_only=True)
        return tokenizer, _window(Path(spec.source))
    return ApproximateTokenizer(), APPROXIMATE_MAX_TOKENS


def _window(folder: Path) -> int:
    """The sentence-transformers window (`max_seq_length`), as the local model reads it."""
    try:
        config = json.loads((folder / "sentence_bert_config.json").read_text())
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 256
