"""Identifier-aware keyword tokens: `retryFailedUpload` and `retry_failed_upload` both match
the words "retry failed upload", so the keyword ranker understands code naming styles."""

from __future__ import annotations

import re
from collections.abc import Iterable

from codesearch.entities import Entity

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Words that carry no meaning in a query or in code (English glue, common keywords).
STOPWORDS = frozenset(
    """a an and are as at be by do does for from how i if in into is it its me my of on or
    our so that the their them then there these this those to us was we were what when where
    which who why will with you your can should could would get set find code function
    method class def fn func self this return returns none null true false let var const
    public private protected static void int str bool new end else elif import package""".split()
)
# keep identifiers that are also stopwords when they appear whole in names ("get", "set")
_NAME_KEEP = frozenset({"get", "set", "find", "new", "end", "import"})

NAME_WEIGHT = 3  # name words count three times: the name is the best summary of an entity


def stem(word: str) -> str:
    """A deliberately light stemmer: plurals and -ing/-ed, enough for retries ~ retry."""
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


def split_words(text: str) -> list[str]:
    """Lowercase word parts of every identifier in text (compound names also kept whole)."""
    words: list[str] = []
    for token in _IDENT.findall(text):
        parts = [p.lower() for piece in token.split("_") for p in _CAMEL.findall(piece)]
        if len(parts) > 1:
            words.append(token.lower().strip("_"))
        words.extend(parts)
    return words


def terms(text: str, *, keep: frozenset[str] = frozenset()) -> list[str]:
    """Stemmed keyword terms of a text, without stopwords and one-letter words."""
    return [
        stem(w)
        for w in split_words(text)
        if len(w) > 1 and (w not in STOPWORDS or w in keep) and not w.isdigit()
    ]


def query_terms(query: str) -> list[str]:
    """Terms of a query in order, duplicates removed."""
    seen: dict[str, None] = {}
    for term in terms(query, keep=_NAME_KEEP):
        seen.setdefault(term, None)
    return list(seen)


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


def matched_terms(query: Iterable[str], entity_bag: Iterable[str]) -> list[str]:
    bag = set(entity_bag)
    return [t for t in query if t in bag]
