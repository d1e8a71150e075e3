"""Turn an entity into the text the model sees, fitted to the model's token window."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from codesearch.entities import Entity
from codesearch.keywords import split_words

_NAME_SEPARATOR = re.compile(r"\.|::|#|/")
# characters per token is about 3-4 for code; cap what we tokenise to bound the cost
_CHARS_PER_TOKEN_CAP = 8
# ...and first try a prefix of this many chars per needed token (prose runs ~4.5, code ~3)
_CHARS_PER_TOKEN_FIRST = 5
# The embedded window, in tokens, even when the model accepts more. all-MiniLM-L6-v2 takes
# 256 but was trained on 128-token inputs: on the search-quality benchmark
# (benchmarks/quality) a 128-token window beat 256 for dense search (+0.015 MRR@10) and for
# the shipped hybrid (+0.004), and embeds about twice as fast. 96 was no better.
WINDOW_TOKENS = 128


class EmptyEntityError(ValueError):
    """The entity has no text worth embedding."""


def content_key(model_id: str, text: str) -> str:
    """Cache key: model identity + prepared text, so moved or copied code is never re-embedded."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(model_id.encode())
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


Offsets = list[tuple[int, int]]


@dataclass(frozen=True)
class PreparedText:
    text: str
    key: str
    tokens: int  # length in tokens (without special tokens), used to sort batches
    # The model's input ids for `text`, special tokens included, when the preparator could
    # build them from the tokenising it did anyway: the model then skips tokenising again.
    ids: tuple[int, ...] | None = None


class TextPreparator:
    """Header (kind, name, its words), docstring, then the body truncated to the window.

    The header and docstring carry most of the meaning for natural-language queries, so
    they are kept whole (each capped at half the window; a very long qualified name keeps
    its innermost parts) and only the body is cut.
    The name's words in the header matter: without them dense MRR@10 fell by 0.04 on the
    benchmark. Adding the file path (`with_path`) or dropping the language and kind
    (`with_kind=False`) changed it by less than the noise (+-0.005); the defaults stay.
    """

    def __init__(
        self,
        tokenizer: Any,
        max_tokens: int,
        model_id: str,
        *,
        window_tokens: int = WINDOW_TOKENS,
        with_path: bool = False,
        with_kind: bool = True,
    ) -> None:
        # A private copy: a fast tokenizer keeps its padding/truncation mode as shared
        # state, and preparing text on the parse-ahead thread while the model encodes
        # with the same object made whole batches fail ("Unable to create tensor").
        # A Hugging Face fast tokenizer is copied as its Rust core alone: rebuilt from its
        # JSON in 0.02 s (a deepcopy took 0.1 s), and called without the Python wrapper.
        self._core = _core(tokenizer)
        self._tokenizer = copy.deepcopy(tokenizer) if self._core is None else None
        self._frame = _special_frame(self._core) if self._core is not None else None
        self.model_id = model_id
        self.with_path = with_path
        self.with_kind = with_kind
        # [CLS] and [SEP] take two places of the window; window_tokens <= 0: the model's
        window = min(max_tokens, window_tokens) if window_tokens > 0 else max_tokens
        self.budget = max(16, window - 2)

    def header(self, entity: Entity) -> str:
        return self._header_for(entity, entity.name)

    def _header_for(self, entity: Entity, name: str) -> str:
        # `HTTPServer.retry_upload (http server retry upload)`; these words are part of
        # every content key: a change to how names split re-embeds every entity.
        words = " ".join(split_words(name, compounds=False))
        parts: list[str] = []
        if self.with_path:
            parts.append(entity.path)
        if self.with_kind:
            parts.append(f"{entity.language} {entity.kind}")
        parts.append(f"{name} ({words})")
        return " ".join(parts)

    def _fit_header(self, entity: Entity, limit: int) -> tuple[str, _Tokens]:
        """A header of at most `limit` tokens for an entity with a very long name.

        The outer parts of the qualified name go first (the entity's own name is last:
        `a.b.c.method` -> `c.method`); a single name still too long is cut.
        """
        tails = [entity.name[m.end() :] for m in _NAME_SEPARATOR.finditer(entity.name)]
        tails = [t for t in tails if t]
        shortest = self._header_for(entity, tails[-1]) if tails else self.header(entity)
        best: tuple[str, _Tokens | None] = (shortest, None)
        low, high = 0, len(tails) - 1
        while low <= high:  # the longest tail whose header fits
            middle = (low + high) // 2
            text = self._header_for(entity, tails[middle])
            found = self._encode([text])[0]
            if len(found.offsets) <= limit:
                best, high = (text, found), middle - 1
            else:
                low = middle + 1
        text, fitted = best
        if fitted is not None:
            return text, fitted
        whole = self._encode([text])[0]
        cut, used = _cut(text, whole.offsets, limit)
        return cut, _Tokens(whole.ids[:used], whole.offsets[:used])

    def _encode(self, texts: list[str]) -> list[_Tokens]:
        """Token ids and character offsets of each text, without special tokens."""
        if self._core is not None:
            return [
                _Tokens(e.ids, e.offsets)
                for e in self._core.encode_batch(texts, add_special_tokens=False)
            ]
        assert self._tokenizer is not None
        encoded = self._tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False
        )
        offsets = encoded["offset_mapping"]
        # ids matter only with a Rust core (see _special_frame); a plain tokenizer may omit them
        ids = encoded.get("input_ids") or [[] for _ in offsets]
        return [_Tokens(list(i), list(o)) for i, o in zip(ids, offsets, strict=True)]

    def _count_window(self, texts: list[str], needs: list[int]) -> list[_Tokens]:
        """Tokens of each text, exact for (at least) its first `needs[i]` tokens.

        Tokenising is the largest cost of preparing text (about 2 MB/s), and a window needs
        only the start of a long docstring or body. So each long text is first tokenised up
        to a whitespace near need x 5 chars; when that prefix holds more than `need`
        tokens, they are the text's own first tokens (words split at whitespace either
        way); otherwise the whole (capped) text is counted as before. A text that needs
        no tokens is not tokenised.
        """
        heads: list[str] = []
        for text, need in zip(texts, needs, strict=True):
            first_cap = need * _CHARS_PER_TOKEN_FIRST
            cut = max(text.rfind(" ", 0, first_cap), text.rfind("\n", 0, first_cap))
            if need <= 0:
                heads.append("")
            elif len(text) > first_cap and cut > 0:
                heads.append(text[:cut])
            else:
                heads.append(text)
        found = self._encode(heads)
        again = [
            i
            for i, (head, text) in enumerate(zip(heads, texts, strict=True))
            if needs[i] > 0 and len(head) < len(text) and len(found[i].offsets) <= needs[i]
        ]
        if again:
            for i, whole in zip(again, self._encode([texts[i] for i in again]), strict=True):
                found[i] = whole
        return found

    def prepare_many(self, entities: Sequence[Entity]) -> list[PreparedText | EmptyEntityError]:
        """Prepare a list at once (one tokenizer call per part, in Rust, fast).

        The header is counted first, then the docstring for what the header leaves (at
        most half the window), then the body for what both leave: each part is tokenised
        only as far as its share of the window reaches.
        """
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
        head_tokens = self._encode(heads)
        head_cap = self.budget // 2  # a header never takes more than half the window
        for i, entity in enumerate(entities):
            if len(head_tokens[i].offsets) > head_cap:
                heads[i], head_tokens[i] = self._fit_header(entity, head_cap)
        # tokens left after the header and the line break that follows it
        lefts = [self.budget - len(head.offsets) - 1 for head in head_tokens]
        doc_limits = [max(0, min(left, self.budget // 2)) for left in lefts]
        doc_tokens = self._count_window(docs, doc_limits)
        cut_docs = [
            _cut(doc, found.offsets, limit)
            for doc, found, limit in zip(docs, doc_tokens, doc_limits, strict=True)
        ]
        body_limits = [
            max(0, left - used - 1) for left, (_, used) in zip(lefts, cut_docs, strict=True)
        ]
        body_tokens = self._count_window(bodies, body_limits)
        results: list[PreparedText | EmptyEntityError] = []
        for i, entity in enumerate(entities):
            if not bodies[i] and not docs[i]:
                results.append(EmptyEntityError(f"{entity.kind} {entity.name} has no text"))
                continue
            head = head_tokens[i]
            doc, doc_used = cut_docs[i]
            body, body_used = _cut(bodies[i], body_tokens[i].offsets, body_limits[i])
            parts = [heads[i]]
            if doc:
                parts.append(doc)
            if body:
                parts.append(body)
            text = "\n".join(parts)
            ids = None
            if self._frame is not None:
                # Parts joined by a line break tokenise as the concatenation of their own
                # tokens (a break always ends a word), and a part cut after its n-th token
                # tokenises as those n tokens: the ids the model would compute from text.
                prefix, suffix = self._frame
                ids = (
                    *prefix,
                    *head.ids,
                    *doc_tokens[i].ids[:doc_used],
                    *body_tokens[i].ids[:body_used],
                    *suffix,
                )
            tokens = len(head.offsets) + doc_used + body_used
            results.append(PreparedText(text, content_key(self.model_id, text), tokens, ids))
        return results

    def prepare(self, entity: Entity) -> PreparedText:
        result = self.prepare_many([entity])[0]
        if isinstance(result, EmptyEntityError):
            raise result
        return result


@dataclass(frozen=True)
class _Tokens:
    ids: list[int]
    offsets: Offsets


def _special_frame(core: Any) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The special tokens the model puts before and after a text (BERT: [CLS], [SEP]),
    found by encoding one word with and without them; None if that does not tell."""
    try:
        plain = list(core.encode("code", add_special_tokens=False).ids)
        full = list(core.encode("code", add_special_tokens=True).ids)
    except Exception:
        return None
    for start in range(len(full) - len(plain) + 1):
        if plain and full[start : start + len(plain)] == plain:
            return tuple(full[:start]), tuple(full[start + len(plain) :])
    return None


def _core(tokenizer: Any) -> Any:
    """A private copy of a fast tokenizer's Rust core (no truncation, no padding), or None
    for a tokenizer without one (then the tokenizer itself is copied and called)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    to_str = getattr(backend, "to_str", None)
    if to_str is None:
        return None
    try:
        from tokenizers import Tokenizer

        core = Tokenizer.from_str(to_str())
    except Exception:  # an unusual tokenizer: the general path still works
        return None
    core.no_truncation()
    core.no_padding()
    return core


def _cut(text: str, offsets: Offsets, limit: int) -> tuple[str, int]:
    """The longest prefix of text that holds at most `limit` tokens, and its token count."""
    if limit <= 0:
        return "", 0
    if len(offsets) <= limit:
        return text, len(offsets)
    return text[: offsets[limit - 1][1]], limit
