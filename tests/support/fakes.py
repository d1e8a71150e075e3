"""A deterministic stand-in for the model, for fast unit tests of the pipeline's logic.

Every pipeline path also runs against the real model in tests/pipeline; this fake only
makes the bookkeeping tests quick and lets them count model calls exactly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from codesearch.embedding.types import Vectors

_WORD = re.compile(r"\S+")


class WhitespaceTokenizer:
    """Splits on whitespace and reports character offsets, like a fast HF tokenizer."""

    def __call__(self, texts: list[str], **_: Any) -> dict[str, list[list[tuple[int, int]]]]:
        return {
            "offset_mapping": [[(m.start(), m.end()) for m in _WORD.finditer(t)] for t in texts]
        }


class FakeEncoder:
    """Hashes words (or token ids) into a small unit vector; records every call."""

    takes_token_ids = True

    def __init__(
        self, dimensions: int = 32, model_id: str = "fake-model", fail_on: str = ""
    ) -> None:
        self._dimensions = dimensions
        self._model_id = model_id
        self.fail_on = fail_on
        self.calls: list[list[str]] = []
        self.id_calls: list[list[tuple[int, ...]]] = []
        self.spare_core_calls = 0
        self.tokenizer = WhitespaceTokenizer()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimensions(self) -> int:
        return self._dimensions

    @property
    def name(self) -> str:
        return self._model_id

    @property
    def max_tokens(self) -> int:
        return 64

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]

    def encode(self, texts: list[str], batch_size: int = 32) -> Vectors:
        self.calls.append(list(texts))
        if self.fail_on and any(self.fail_on in t for t in texts):
            raise RuntimeError(f"cannot embed text containing {self.fail_on!r}")
        return self._hash_rows([_WORD.findall(text.lower()) for text in texts])

    def encode_ids(
        self, ids: Sequence[Sequence[int]], batch_size: int = 32, *, spare_core: bool = False
    ) -> Vectors:
        """Vectors from token ids, as a real model's `encode_ids`: rows outside the window
        are refused; each id counts as a word, so equal ids give equal vectors."""
        self.id_calls.append([tuple(row) for row in ids])
        self.spare_core_calls += spare_core
        for row in ids:
            if not 0 < len(row) <= self.max_tokens:
                raise ValueError(f"token ids must number 1 to {self.max_tokens}, not {len(row)}")
        return self._hash_rows([[str(i) for i in row] for row in ids])

    def _hash_rows(self, rows: Sequence[Iterable[str]]) -> Vectors:
        out = np.zeros((len(rows), self._dimensions), dtype=np.float32)
        for i, words in enumerate(rows):
            for word in words:
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[i, h % self._dimensions] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out
