"""Property tests: no input text can make extraction raise or report a wrong range."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codesearch.entities import ENTITY_KINDS, Entity
from codesearch.parsing import SUPPORTED_LANGUAGES, extract_entities, strip_docs

SEEDS: dict[str, str] = {
    "python": (
        '@dec(1)\nclass Cache(Base):\n    """Doc."""\n    def get(self, k: str) -> int:\n'
        "        # note\n        def inner():\n            return 'é'\n        return 1\n\n"
        "def top(*a, **kw):\n    return [x for x in a]\n"
    ),
    "javascript": (
        "/** Doc. */\nexport const f = async (a) => { return a; };\n"
        "class A extends B { m() { const g = () => 1; } static s() {} }\n"
        "function* gen() { yield 1; }\nconst o = { k() {}, v: function () {} };\n"
    ),
    "typescript": (
        "export interface I { m(): void }\nenum E { A }\n"
        "@D() export abstract class C<T> { abstract a(): T; @x() b(): void {} }\n"
        "const f = (x: number): number => x;\n"
    ),
    "tsx": (
        "// Comp.\nexport function App({ n }: P) { return <div>{n}</div>; }\n"
        "const B = () => <span>{/* c */}é</span>;\nclass K { r() { return <b/>; } }\n"
    ),
    "go": (
        "package p\n// T doc.\ntype T struct { a int }\ntype I interface { M() }\n"
        "func (t *T) Get(k string) (int, error) { return 0, nil }\n"
        "func F[T any](x T) T { f := func() {}; f(); return x }\n"
    ),
    "rust": (
        "/// S.\n#[derive(Debug)]\npub struct S<T> { a: T }\ntrait Tr { fn m(&self); }\n"
        'impl<T> Tr for S<T> { fn m(&self) { fn inner() {} } }\nfn main() { let s = "é"; }\n'
    ),
    "java": (
        "/** C. */\n@A public class C<K> { C() {} @Override public int get(K k) { return 0; }\n"
        "  static class In { void m() {} } interface I { void x(); } enum E { A; void e() {} } }\n"
    ),
    "c": (
        "/* add */\nstatic int add(int a, int b) { return a + b; }\n"
        'int (*fp(void))(int) { return 0; }\nchar *s(void) { return "é"; }\n'
    ),
    "cpp": (
        "/// Foo.\ntemplate <class T> class Foo : Bar { Foo() {} int g() const { return 1; } };\n"
        "void Foo::h() {}\nnamespace n { int f() { return 0; } }\n"
    ),
    "csharp": (
        "namespace N { /// <summary>C.</summary>\n[S] public class C { public C() {}\n"
        "  public int M(int a) => a; void L() { int In() { return 1; } } }\n"
        "  interface I { void X(); } record R(int A); }\n"
    ),
    "ruby": (
        "# M.\nmodule M\n  class C < B\n    # get\n    def get(k)\n      k\n    end\n"
        "    def self.make = new\n  end\nend\ndef top; end\n"
    ),
    "php": (
        "<?php\n/** C. */\nclass C { public function get(string $k): ?string { return null; } }\n"
        "interface I { function x(); }\ntrait T { function t() {} }\n"
        "function f($a) { return $a; }\n"
    ),
}

# Characters that stress the parsers and the byte/character bookkeeping.
_NASTY = "\x00\r\n\t{}()[]<>;:'\"`#/*\\@$é日本ß\u2028\ufeff"
_ALPHABET = st.one_of(st.characters(), st.sampled_from(list(_NASTY)))
_LINES_OK = "lines within the source"


def check(source: str, language: str) -> list[Entity]:
    """Extract, then assert every invariant a consumer relies on."""
    entities = extract_entities(source, language, "fuzz/file")
    # lines as LSP counts them: LF, CRLF (the CR stays at the line's end) and a lone CR
    lines = re.sub(r"\r(?!\n)", "\n", source).split("\n")
    seen: set[tuple[str, str]] = set()
    for entity in entities:
        assert entity.kind in ENTITY_KINDS
        assert entity.name
        assert (entity.kind, entity.name) not in seen, entity.name
        seen.add((entity.kind, entity.name))
        assert entity.path == "fuzz/file"
        assert entity.language == language
        assert 1 <= entity.start_line <= entity.end_line <= len(lines), _LINES_OK
        assert 0 <= entity.start_col <= len(lines[entity.start_line - 1])
        assert 0 <= entity.end_col <= len(lines[entity.end_line - 1])
        assert entity.source == _slice(lines, entity)
        assert len(entity.signature) <= 300
        assert "\n" not in entity.signature
    stripped = strip_docs(source, language)
    assert isinstance(stripped, str)
    return entities


def _slice(lines: list[str], entity: Entity) -> str:
    first, last = entity.start_line - 1, entity.end_line - 1
    if first == last:
        return lines[first][entity.start_col : entity.end_col]
    return "\n".join(
        [lines[first][entity.start_col :], *lines[first + 1 : last], lines[last][: entity.end_col]]
    )


@st.composite
def mutated(draw: st.DrawFn, seed: str) -> str:
    """A valid snippet after a few random edits: what a file looks like mid-typing."""
    text = seed
    for _ in range(draw(st.integers(1, 4))):
        size = len(text)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, min(size, start + 40)))
        operation = draw(st.sampled_from(["delete", "insert", "duplicate", "bytes"]))
        if operation == "delete":
            text = text[:start] + text[end:]
        elif operation == "insert":
            text = text[:start] + draw(st.text(_ALPHABET, max_size=20)) + text[start:]
        elif operation == "duplicate":
            text = text[:end] + text[start:end] + text[end:]
        else:
            noise = draw(st.binary(max_size=24)).decode("utf-8", errors="replace")
            text = text[:start] + noise + text[end:]
    return text


_FAST = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_seeds_are_valid_and_fully_extracted(language: str) -> None:
    assert len(check(SEEDS[language], language)) >= 3


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@_FAST
@given(source=st.text(_ALPHABET, max_size=300))
def test_random_text_never_breaks_extraction(language: str, source: str) -> None:
    check(source, language)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@_FAST
@given(data=st.data())
def test_mutated_snippets_never_break_extraction(language: str, data: st.DataObject) -> None:
    check(data.draw(mutated(SEEDS[language])), language)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@settings(max_examples=15, deadline=None, database=None)
@given(blob=st.binary(max_size=400))
def test_random_bytes_decoded_with_replacement(language: str, blob: bytes) -> None:
    check(blob.decode("utf-8", errors="replace"), language)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_lone_surrogates_and_control_characters(language: str) -> None:
    source = SEEDS[language].replace("é", "\ud800").replace("\n", "\n\x0b\x0c", 2) + "\x00"
    check(source, language)


_DEEP = 10_000


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("javascript", "function f() {" * _DEEP + "}" * _DEEP),
        ("python", "x = " + "(" * _DEEP + ")" * _DEEP),
        ("python", "".join(" " * i + f"def f{i}():\n" for i in range(200)) + " " * 200 + "pass\n"),
        ("rust", "fn f() {" * _DEEP + "}" * _DEEP),
        ("c", "int f() {" + "{" * _DEEP + "}" * _DEEP + "}"),
        ("ruby", "class A\n" * 3_000 + "end\n" * 3_000),
        ("java", "class A {" * 3_000 + "}" * 3_000),
    ],
    ids=["js", "python-parens", "python-defs", "rust", "c", "ruby", "java"],
)
def test_deep_nesting(language: str, source: str) -> None:
    started = time.perf_counter()
    entities = check(source, language)
    assert time.perf_counter() - started < 10
    assert entities or language in ("python", "c")
