"""Identifier-aware keyword tokens: `retryFailedUpload` and `retry_failed_upload` both match
the words "retry failed upload", so the keyword ranker understands code naming styles.

What the search-quality benchmark (benchmarks/quality) showed, and what we do about it:
- Entity bags keep compound identifiers whole *and* split (`retry_failed_upload`, `retry`,
  `failed`, `upload`), so an identifier typed as-is still hits it exactly.
- A sentence query is split into words only: keeping its compounds (`_.isMatch` ->
  `ismatch`) pulled in the function *named* in the sentence rather than the one it
  describes (-0.02 MRR@10). A query that is one identifier keeps its compound.
- The light stemmer is worth +0.02 MRR@10 over none; a stronger one gained nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from codesearch.entities import Entity

# ASCII digits only, like the letters: the embedded text's header words come from here too.
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# one identifier, possibly qualified (`Cache.get`, `pkg::f`, `Class#method`) or called (`f()`)
_IDENTIFIER_QUERY = re.compile(
    r"[A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*(?:\(\))?", re.ASCII
)

# Words that carry no meaning in a query or in code (English glue, common keywords).
_STOPWORD_TEXT = """
    a an and are as at be by do does for from how i if in into is it its me my of on or our
    so that the their them then there these this those to us was we were what when where
    which who why will with you your can should could would get set find code function
    method class def fn func self this return returns none null true false let var const
    public private protected static void int str bool new end else elif import package"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# keep identifiers that are also stopwords when they appear whole in names ("get", "set")
_NAME_KEEP = frozenset({"get", "set", "find", "new", "end", "import"})

NAME_WEIGHT = 3  # name words count three times: the name is the best summary of an entity


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A deliberately light stemmer: plurals and -ing/-ed, enough for retries ~ retry.

    Cached, like the identifier splitting below: code repeats a small vocabulary, and
    these two were the largest Python cost of a cold index (1.2 s for 2,365 entities).
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    return word


@lru_cache(maxsize=1 << 16)
def _token_words(token: str, compounds: bool) -> tuple[str, ...]:
    """One identifier's lowercase parts, led by the whole compound when asked."""
    parts = [p.lower() for piece in token.split("_") for p in _CAMEL.findall(piece)]
    if compounds and len(parts) > 1:
        return (token.lower().strip("_"), *parts)
    return tuple(parts)


def split_words(text: str, *, compounds: bool = True) -> list[str]:
    """Lowercase word parts of every identifier in text (compound names also kept whole).

    `HTTPServer.retry_upload`, compounds=False -> ["http", "server", "retry", "upload"]:
    the words the embedded text shows beside an entity's name (embedding.text).
    """
    words: list[str] = []
    for token in _IDENT.findall(text):
        words.extend(_token_words(token, compounds))
    return words


@lru_cache(maxsize=1 << 17)
def _token_terms(token: str, compounds: bool, keep: frozenset[str]) -> tuple[str, ...]:
    return tuple(
        stem(w)
        for w in _token_words(token, compounds)
        if len(w) > 1 and (w not in STOPWORDS or w in keep) and not w.isdigit()
    )


def terms(text: str, *, keep: frozenset[str] = frozenset(), compounds: bool = True) -> list[str]:
    """Stemmed keyword terms of a text, without stopwords and one-letter words."""
    out: list[str] = []
    for token in _IDENT.findall(text):
        out.extend(_token_terms(token, compounds, keep))
    return out


def is_identifier_query(query: str) -> bool:
    """True for a query that is one identifier (`retry_failed_upload`, `Cache.get`)."""
    return _IDENTIFIER_QUERY.fullmatch(query.strip()) is not None


def query_terms(query: str) -> list[str]:
    """Terms of a query in order, duplicates removed.

    Compound identifiers are kept whole only when the query is one identifier; a sentence
    is matched word by word.
    """
    seen: dict[str, None] = {}
    for term in terms(query, keep=_NAME_KEEP, compounds=is_identifier_query(query)):
        seen.setdefault(term, None)
    return list(seen)


def query_words(query: str) -> dict[str, str]:
    """Each term of the query mapped back to the word the user typed for it, so a hit can
    say what matched in the user's words ("cookies", not the stem "cooky"); a compound kept
    whole maps to the identifier as typed."""
    words: dict[str, str] = {}
    compounds = is_identifier_query(query)
    for token in _IDENT.findall(query):
        parts = _token_words(token, compounds)
        whole = compounds and len(parts) > 1
        for position, word in enumerate(parts):
            if whole and position == 0:
                words.setdefault(stem(word), token)
                continue
            for term in _token_terms(word, False, _NAME_KEEP):
                words.setdefault(term, word)
    return words


def entity_terms(entity: Entity) -> str:
    """The bag of terms stored for an entity: name words weighted, then doc and body."""
    name_terms = terms(entity.name.replace("#", " "), keep=_NAME_KEEP)
    bag: list[str] = []
    for _ in range(NAME_WEIGHT):
        bag.extend(name_terms)
    bag.extend(terms(entity.docstring))
    bag.extend(terms(entity.source))
    return " ".join(bag)


def name_terms(name: str) -> set[str]:
    return set(terms(name.replace("#", " "), keep=_NAME_KEEP))


def short_name(name: str) -> str:
    """The last part of a qualified name: `Session.request` -> `request`."""
    return re.split(r"\.|::|#", name)[-1]


@lru_cache(maxsize=1 << 16)
def own_name_terms(name: str) -> frozenset[str]:
    """The words of an entity's own name (not its class's), for the name-cover boost."""
    return frozenset(terms(short_name(name), keep=_NAME_KEEP, compounds=False))


def name_cover(query: Iterable[str], name: str) -> float:
    """The share of the entity's own name words that the query contains (0..1)."""
    own = own_name_terms(name)
    if not own:
        return 0.0
    wanted = set(query)
    return sum(1 for t in own if t in wanted) / len(own)


def is_exact_name(query: str, name: str) -> bool:
    """The query is the entity's name, bare or qualified (`get`, `Cache.get`, `get()`)."""
    plain = query.strip().removesuffix("()").lower()
    full = name.replace("#", ".").replace("::", ".").lower()
    return bool(plain) and plain.replace("#", ".").replace("::", ".") in (full, short_name(full))


def matched_terms(query: Iterable[str], entity_bag: Iterable[str]) -> list[str]:
    bag = set(entity_bag)
    return [t for t in query if t in bag]


def matched_words(
    query: Iterable[str], entity_bag: Iterable[str], words: dict[str, str]
) -> list[str]:
    """The query's matched terms in the user's words (`query_words`), each word once."""
    shown: dict[str, None] = {}
    for term in matched_terms(query, entity_bag):
        shown.setdefault(words.get(term, term), None)
    return list(shown)
