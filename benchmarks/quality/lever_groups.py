"""The lever settings that `levers` sweeps, one group per kind of lever.

Every group is scored against the shipped configuration: the shipped text preparation,
tokenisation and fusion, with one thing changed at a time (and sweeps of the constants).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from benchmarks.quality.levers import (
    IDENTIFIER,
    Context,
    Fusion,
    Project,
    Tokenising,
    dense_only,
    keyword_only,
    load_project,
    mix,
    rrf,
)
from codesearch import keywords, search
from codesearch.embedding.text import TextPreparator, content_key
from codesearch.embedding.types import Encoder
from codesearch.entities import Entity
from codesearch.store import Store

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
Group = Iterator[tuple[str, Sequence[Project] | None, Tokenising, dict[str, Fusion]]]
_KEEP = frozenset({"get", "set", "find", "new", "end", "import"})


# -- tokenisation variants -------------------------------------------------------------
def stem_e(word: str) -> str:
    """The shipped light stemmer, then a final silent e (create/creates/created -> creat)."""
    word = keywords.stem(word)
    if len(word) > 4 and word.endswith("e") and not word.endswith(("ee", "ie")):
        word = word[:-1]
    return word


def tokenising(
    label: str,
    *,
    stem: Callable[[str], str] = keywords.stem,
    compound_bag: str = "all",  # "all" | "name" | "none": where compounds stay whole
    compound_query: str = "ident",  # "always" | "ident" | "never"
    compound_cover: bool = False,
    cover_last: bool = True,
    name_weight: int = keywords.NAME_WEIGHT,
    path: bool = False,
    k1: float = 1.2,
    b: float = 0.75,
) -> Tokenising:
    """A re-implementation of `codesearch.keywords` with every choice open.

    The defaults are the shipped choices (checked: they score the same as the module).
    """

    def words(text: str, with_compound: bool, keep: frozenset[str] = frozenset()) -> list[str]:
        out: list[str] = []
        for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\d+", text):
            parts = [p.lower() for piece in token.split("_") for p in _CAMEL.findall(piece)]
            if len(parts) > 1 and with_compound:
                out.append(token.lower().strip("_"))
            out.extend(parts)
        return [
            stem(w)
            for w in out
            if len(w) > 1 and (w not in keywords.STOPWORDS or w in keep) and not w.isdigit()
        ]

    def name_terms(name: str) -> set[str]:
        if cover_last:
            name = keywords.short_name(name)
        return set(words(name.replace("#", " "), compound_cover, _KEEP))

    def bag(entity: Entity) -> list[str]:
        out = words(entity.name.replace("#", " "), compound_bag != "none", _KEEP) * name_weight
        rest = compound_bag == "all"
        if path:
            out.extend(words(entity.path.rsplit(".", 1)[0].replace("/", " "), rest))
        out.extend(words(entity.docstring, rest))
        out.extend(words(entity.source, rest))
        return out

    def query(text: str) -> list[str]:
        with_compound = compound_query == "always" or (
            compound_query == "ident" and IDENTIFIER.fullmatch(text.strip()) is not None
        )
        return list(dict.fromkeys(words(text, with_compound, _KEEP)))

    return Tokenising(label, bag, query, name_terms, k1, b)


def seed_tokenising(label: str = "seed") -> Tokenising:
    """The seed's choices: compounds kept in every query; (unused) cover on the full name."""
    return tokenising(label, compound_query="always", compound_cover=True, cover_last=False)


# -- fusions ---------------------------------------------------------------------------
def baselines() -> dict[str, Fusion]:
    return {"keyword only": keyword_only, "dense only": dense_only}


def shipped_fusion() -> Fusion:
    return mix(
        search.KEYWORD_WEIGHT,
        "max",
        cover=search.NAME_COVER_BOOST,
        exact=search.EXACT_NAME_BOOST,
    )


SHIPPED = "shipped mix"


def with_shipped() -> dict[str, Fusion]:
    fusions = baselines()
    fusions[SHIPPED] = shipped_fusion()
    return fusions


def fusion(context: Context) -> Group:
    fusions = baselines()
    fusions["rrf k=60 + name boost 0.5 (seed)"] = rrf(60, name=0.5)
    for k in (2, 5, 10, 30, 60, 100):
        fusions[f"rrf k={k}"] = rrf(k)
    for k in (10, 60):
        for wk in (0.5, 0.7, 1.5):
            fusions[f"rrf k={k} keyword weight {wk}"] = rrf(k, wk=wk)
    fusions["rrf k=10 kw 0.5 + cover 0.1"] = rrf(10, wk=0.5, cover=0.1 * 11)
    yield "seed tokenisation: fusion method", None, seed_tokenising(), fusions
    fusions = baselines()
    for k in (2, 10, 60):
        fusions[f"rrf k={k}"] = rrf(k)
    fusions["rrf k=10 kw 0.5 + cover 0.1"] = rrf(10, wk=0.5, cover=0.1 * 11)
    for alpha in (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5):
        fusions[f"mix max a={alpha}"] = mix(alpha, "max")
    for alpha in (0.2, 0.3, 0.4, 0.5):
        fusions[f"mix saturating a={alpha}"] = mix(alpha, "sat")
    for alpha in (0.1, 0.2):
        fusions[f"mix min-max(top 10) a={alpha}"] = mix(alpha, "minmax10")
    for alpha in (0.3, 0.5):
        fusions[f"mix a={alpha}, dense min-max(top 10)"] = mix(alpha, "max", dense_norm="minmax10")
    for alpha in (0.15, 0.2, 0.25):
        for cover in (0.05, 0.1, 0.15):
            fusions[f"mix max a={alpha} cover={cover}"] = mix(alpha, "max", cover=cover)
    for mode in ("idf", "all", "square"):
        fusions[f"mix max a=0.2 cover=0.1 ({mode})"] = mix(0.2, "max", cover=0.1, cover_mode=mode)
    fusions["mix max a=0.2 cover=0.1 + all-query-terms-in-name 0.2"] = mix(
        0.2, "max", cover=0.1, name=0.2
    )
    fusions[SHIPPED] = shipped_fusion()
    yield "shipped tokenisation: fusion method and constants", None, tokenising("shipped"), fusions


def names(context: Context) -> Group:
    """Identifier queries: each target searched by its bare name (unique names only)."""
    fusions = baselines()
    fusions["mix a=0.2 cover=0.1, no exact-name boost"] = mix(0.2, "max", cover=0.1)
    for exact in (0.1, 0.3):
        fusions[f"mix a=0.2 cover=0.1 exact={exact}"] = mix(0.2, "max", cover=0.1, exact=exact)
    fusions["mix a=0.2 cover=0.1 exact=0.3, a=0.5 for identifiers"] = mix(
        0.2, "max", cover=0.1, exact=0.3, ident_alpha=0.5
    )
    fusions[SHIPPED] = shipped_fusion()
    named = context.name_projects()
    yield "name queries: shipped tokenisation", named, tokenising("shipped"), fusions
    yield (
        "name queries: compounds never kept whole",
        named,
        tokenising("no compounds", compound_bag="none", compound_query="never"),
        fusions,
    )
    yield "name queries: seed tokenisation", named, seed_tokenising(), fusions


def keyword(context: Context) -> Group:
    variants = [
        tokenising("tok: shipped"),
        seed_tokenising("tok: seed (compounds in queries too, cover on full name)"),
        tokenising("tok: compounds in every query", compound_query="always"),
        tokenising("tok: no whole compounds anywhere", compound_bag="none", compound_query="never"),
        tokenising("tok: whole compounds in names only", compound_bag="name"),
        tokenising("tok: cover on the full qualified name", cover_last=False),
        tokenising("tok: name weight 1", name_weight=1),
        tokenising("tok: name weight 5", name_weight=5),
        tokenising("tok: no stemming", stem=lambda w: w),
        tokenising("tok: stemming drops a final e", stem=stem_e),
        tokenising("tok: + file path words", path=True),
        tokenising("tok: bm25 k1=0.9 b=0.4", k1=0.9, b=0.4),
        tokenising("tok: bm25 k1=1.5 b=0.9", k1=1.5, b=0.9),
        tokenising("tok: bm25 k1=2.0 b=0.75", k1=2.0, b=0.75),
    ]
    for variant in variants:
        yield variant.name, None, variant, with_shipped()


# -- embedded text ----------------------------------------------------------------------
class _Header(TextPreparator):
    """A TextPreparator with another header line (measured here, not shipped)."""

    def __init__(self, model: Encoder, style: str) -> None:
        super().__init__(model.tokenizer, model.max_tokens, model.model_id, with_kind=False)
        self.style = style

    def header(self, entity: Entity) -> str:
        words = " ".join(keywords.split_words(entity.name, compounds=False))
        if self.style == "words":
            return words
        if self.style == "name":
            return entity.name
        return f"{entity.kind} {entity.name} ({words})"


def text(context: Context) -> Group:
    model, store = context.model, context.store

    def preparator(window: int, **options: bool) -> TextPreparator:
        return TextPreparator(
            model.tokenizer, model.max_tokens, model.model_id, window_tokens=window, **options
        )

    variants: list[tuple[str, TextPreparator | None]] = [
        ("text: shipped (128-token window, 'language kind name (name words)')", None),
        ("text: 256-token window (seed)", preparator(256)),
        ("text: 96-token window", preparator(96)),
        ("text: 256, no language/kind", preparator(256, with_kind=False)),
        ("text: 256, + file path", preparator(256, with_path=True)),
        ("text: 128, no language/kind", preparator(128, with_kind=False)),
        ("text: 128, header 'kind name (name words)'", _Header(model, "kind")),
        ("text: 128, header 'name words' only", _Header(model, "words")),
        ("text: 128, header 'qualified name' only", _Header(model, "name")),
    ]
    for title, prep in variants:
        started = time.perf_counter()
        loaded = None if prep is None else [
            load_project(p.name, model, store, prep) for p in context.projects
        ]  # fmt: skip
        print(f"{title}: ready in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        yield title, loaded, tokenising("shipped"), with_shipped()


# -- several windows per entity (needs an engine change: measured here only) -------------
MAX_WINDOWS = 8


def window_texts(prep: TextPreparator, entities: Sequence[Entity]) -> list[list[str]]:
    """Per entity: the shipped text (window 1), then header + each later body chunk."""
    firsts = prep.prepare_many(entities)
    heads = [prep.header(e) for e in entities]
    bodies = [e.source.strip() for e in entities]
    tokenizer = prep._tokenizer
    head_len = [len(ids) for ids in tokenizer(heads, add_special_tokens=False)["input_ids"]]
    offsets = tokenizer(bodies, add_special_tokens=False, return_offsets_mapping=True)[
        "offset_mapping"
    ]
    out: list[list[str]] = []
    for i, first in enumerate(firsts):
        assert not isinstance(first, Exception)
        size = max(8, prep.budget - head_len[i] - 1)
        texts = [first.text]
        spans = list(offsets[i])
        for start in range(size, len(spans), size):
            if len(texts) >= MAX_WINDOWS:
                break
            chunk = spans[start : start + size]
            texts.append(heads[i] + "\n" + bodies[i][chunk[0][0] : chunk[-1][1]])
        out.append(texts)
    return out


def embed_texts(model: Encoder, store: Store, texts: list[str]) -> npt.NDArray[np.float32]:
    keys = [content_key(model.model_id, t) for t in texts]
    found = store.get_vectors(keys, model.dimensions)
    missing = sorted(
        {k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items(),
        key=lambda kt: len(kt[1]),
    )
    for start in range(0, len(missing), 256):
        part = missing[start : start + 256]
        encoded = model.encode([t for _, t in part], batch_size=32)
        fresh = {k: encoded[j] for j, (k, _) in enumerate(part)}
        store.put_vectors(fresh)
        found.update(fresh)
    return np.stack([found[k] for k in keys])


def windows(context: Context) -> Group:
    model, store = context.model, context.store
    prep = TextPreparator(model.tokenizer, model.max_tokens, model.model_id)
    best: list[Project] = []
    mean: list[Project] = []
    started = time.perf_counter()
    count = 0
    for project in context.projects:
        per_entity = window_texts(prep, project.entities)
        flat = [t for texts in per_entity for t in texts]
        lengths = [len(t) for t in per_entity]
        owner = np.repeat(np.arange(len(per_entity)), lengths)
        count += len(flat)
        vectors = embed_texts(model, store, flat)
        sims = project.query_matrix @ vectors.T  # queries x windows
        top = np.full((len(project.queries), len(per_entity)), -np.inf, dtype=np.float32)
        np.maximum.at(top.T, owner, sims.T)
        firsts = vectors[np.r_[0, np.cumsum(lengths)[:-1]]]
        first = Project(
            project.name, project.corpus, project.entities, firsts, project.queries,
            project.targets, project.tune, project.query_matrix,
        )  # fmt: skip
        first.dense = top
        best.append(first)
        summed = np.zeros((len(per_entity), vectors.shape[1]), dtype=np.float32)
        np.add.at(summed, owner, vectors)
        summed /= np.linalg.norm(summed, axis=1, keepdims=True)
        mean.append(
            Project(
                project.name, project.corpus, project.entities, summed, project.queries,
                project.targets, project.tune, project.query_matrix,
            )
        )  # fmt: skip
    print(f"windows: {count} windows in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    shipped = tokenising("shipped")
    yield (
        f"windows of 128 tokens, up to {MAX_WINDOWS}: best window wins",
        best,
        shipped,
        with_shipped(),
    )
    yield (
        f"windows of 128 tokens, up to {MAX_WINDOWS}: mean of window vectors",
        mean,
        shipped,
        with_shipped(),
    )


GROUPS: dict[str, Callable[[Context], Group]] = {
    "fusion": fusion,
    "names": names,
    "keyword": keyword,
    "text": text,
    "windows": windows,
}
