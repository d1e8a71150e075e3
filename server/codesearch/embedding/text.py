"""Turn an entity into the text the model sees, fitted to the model's token window."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from codesearch.entities import Entity

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_WORD = re.compile(r"[A-Za-z0-9]+")
# characters per token is about 3-4 for code; cap what we tokenise to bound the cost
_CHARS_PER_TOKEN_CAP = 8


class Tokenizer(Protocol):
    def __call__(self, text: list[str], **kwargs: Any) -> Any: ...


class EmptyEntityError(ValueError):
    """The entity has no text worth embedding."""


def split_identifier_words(name: str) -> list[str]:
    """`HTTPServer.retry_upload` -> ["http", "server", "retry", "upload"]."""
    words: list[str] = []
    for part in _WORD.findall(name):
        words.extend(w.lower() for w in _CAMEL.findall(part))
    return words


def content_key(model_id: str, text: str) -> str:
    """Cache key: model identity + prepared text, so moved or copied code is never re-embedded."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(model_id.encode())
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass(frozen=True)
class PreparedText:
    text: str
    key: str
    tokens: int  # approximate length, used to sort batches and cut padding


class TextPreparator:
    """Header (kind, name, its words), docstring, then the body truncated to the window.

    The header and docstring carry most of the meaning for natural-language queries, so
    they are kept whole (docstring capped at half the window) and only the body is cut.
    """

    def __init__(
        self,
        tokenizer: Any,
        max_tokens: int,
        model_id: str,
        *,
        with_path: bool = False,
        with_kind: bool = True,
    ) -> None:
        # A private copy: a fast tokenizer keeps its padding/truncation mode as shared
        # state, and preparing text on the parse-ahead thread while the model encodes
        # with the same object made whole batches fail ("Unable to create tensor").
        self._tokenizer = copy.deepcopy(tokenizer)
        self.model_id = model_id
        self.with_path = with_path
        self.with_kind = with_kind
        # [CLS] and [SEP] take two places of the window
        self.budget = max(16, max_tokens - 2)

    def header(self, entity: Entity) -> str:
        words = " ".join(split_identifier_words(entity.name))
        parts: list[str] = []
        if self.with_path:
            parts.append(entity.path)
        if self.with_kind:
            parts.append(f"{entity.language} {entity.kind}")
        parts.append(f"{entity.name} ({words})")
        return " ".join(parts)

    def _count(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        encoded = self._tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False
        )
        return [list(offsets) for offsets in encoded["offset_mapping"]]

    def prepare_many(self, entities: Sequence[Entity]) -> list[PreparedText | EmptyEntityError]:
        """Prepare a list at once (one tokenizer call per part, in Rust, fast)."""
        if not entities:
            return []
        char_cap = self.budget * _CHARS_PER_TOKEN_CAP
        heads: list[str] = []
        docs: list[str] = []
        bodies: list[str] = []
        for entity in entities:
            heads.append(self.header(entity))
            docs.append(entity.docstring.strip()[:char_cap])
            bodies.append(entity.source.strip()[:char_cap])
        head_offsets = self._count(heads)
        doc_offsets = self._count(docs)
        body_offsets = self._count(bodies)
        results: list[PreparedText | EmptyEntityError] = []
        for i, entity in enumerate(entities):
            if not bodies[i] and not docs[i]:
                results.append(EmptyEntityError(f"{entity.kind} {entity.name} has no text"))
                continue
            left = self.budget - len(head_offsets[i]) - 1
            doc, doc_used = _cut(docs[i], doc_offsets[i], max(0, min(left, self.budget // 2)))
            left -= doc_used
            body, body_used = _cut(bodies[i], body_offsets[i], max(0, left - 1))
            parts = [heads[i]]
            if doc:
                parts.append(doc)
            if body:
                parts.append(body)
            text = "\n".join(parts)
            tokens = len(head_offsets[i]) + doc_used + body_used
            results.append(PreparedText(text, content_key(self.model_id, text), tokens))
        return results

    def prepare(self, entity: Entity) -> PreparedText:
        result = self.prepare_many([entity])[0]
        if isinstance(result, EmptyEntityError):
            raise result
        return result


def _cut(text: str, offsets: list[tuple[int, int]], limit: int) -> tuple[str, int]:
    """The longest prefix of text that holds at most `limit` tokens, and its token count."""
    if len(offsets) <= limit:
        return text, len(offsets)
    if limit <= 0:
        return "", 0
    return text[: offsets[limit - 1][1]], limit
