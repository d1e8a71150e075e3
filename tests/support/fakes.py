"""A deterministic stand-in for the model, for fast unit tests of the pipeline's logic.

Every pipeline path also runs against the real model in tests/pipeline; this fake only
makes the bookkeeping tests quick and lets them count model calls exactly.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

from codesearch.embedding.model import Vectors

_WORD = re.compile(r"\S+")


class WhitespaceTokenizer:
    """Splits on whitespace and reports character offsets, like a fast HF tokenizer."""

    def __call__(self, texts: list[str], **_: Any) -> dict[str, list[list[tuple[int, int]]]]:
        return {
            "offset_mapping": [[(m.start(), m.end()) for m in _WORD.finditer(t)] for t in texts]
        }


class FakeEncoder:
    """Hashes words into a small unit vector; records every text it was asked to encode."""

    def __init__(
        self, dimensions: int = 32, model_id: str = "fake-model", fail_on: str = ""
    ) -> None:
        self._dimensions = dimensions
        self._model_id = model_id
        self.fail_on = fail_on
        self.calls: list[list[str]] = []
        self.tokenizer = WhitespaceTokenizer()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimensions(self) -> int:
        return self._dimensions

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
        out = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[i, h % self._dimensions] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out
