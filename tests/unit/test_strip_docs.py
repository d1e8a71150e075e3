"""strip_docs: no docstring or comment survives, the code still parses, names are kept."""

from __future__ import annotations

import ast
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codesearch.parsing import (
    SUPPORTED_LANGUAGES,
    UnsupportedLanguageError,
    extract_entities,
    strip_docs,
)

PYTHON = '''
#!/usr/bin/env python3
"""Module doc MARK_MODULE."""
import os  # MARK_TRAILING


@decorator  # MARK_DECORATOR
class Cache:
    """Class doc MARK_CLASS."""

    # MARK_COMMENT_LINE
    size = 0

    def only_doc(self):
        """Only a docstring MARK_ONLY: the body must become `pass`."""

    def doc_and_comment(self):
        """MARK_DOC_COMMENT"""  # MARK_AFTER_DOC

    def one_liner(self): """MARK_ONE_LINE"""

    def same_line(self):
        """MARK_SAME_LINE"""; return 1

    def keeps_strings(self):
        """MARK_KEEP_DOC"""
        url = "http://example.com/#anchor"  # MARK_URL
        text = """not a docstring: # stays"""
        return url, text

    class Inner:
        r\'\'\'Raw MARK_RAW.\'\'\'
        def deep(self):
            # MARK_DEEP
            pass


def helper(a,  # MARK_PARAM
           b):
    "single quoted MARK_SINGLE"
    return (a +  # MARK_INSIDE_PARENS
            b)
'''

MARKS = [
    "MARK_MODULE",
    "MARK_TRAILING",
    "MARK_DECORATOR",
    "MARK_CLASS",
    "MARK_COMMENT_LINE",
    "MARK_ONLY",
    "MARK_DOC_COMMENT",
    "MARK_AFTER_DOC",
    "MARK_ONE_LINE",
    "MARK_SAME_LINE",
    "MARK_KEEP_DOC",
    "MARK_URL",
    "MARK_RAW",
    "MARK_DEEP",
    "MARK_PARAM",
    "MARK_SINGLE",
    "MARK_INSIDE_PARENS",
]


def names(source: str, language: str) -> list[tuple[str, str]]:
    return [(e.kind, e.name) for e in extract_entities(source, language, "f")]


def test_python_docstrings_and_comments_are_gone_and_code_parses() -> None:
    source = textwrap.dedent(PYTHON).lstrip("\n")
    ast.parse(source)
    stripped = strip_docs(source, "python")
    tree = ast.parse(stripped)
    for mark in MARKS:
        assert mark in source
        assert mark not in stripped, mark
    assert "#!" not in stripped
    assert ast.get_docstring(tree) is None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            assert ast.get_docstring(node) is None, node.name
    # Code and non-doc strings survive untouched.
    assert 'url = "http://example.com/#anchor"' in stripped
    assert 'text = """not a docstring: # stays"""' in stripped
    assert "pass; return 1" in stripped
    assert "def one_liner(self): pass" in stripped


def test_python_entities_keep_names_and_lose_docstrings() -> None:
    source = textwrap.dedent(PYTHON).lstrip("\n")
    stripped = strip_docs(source, "python")
    before = extract_entities(source, "python", "f.py")
    after = extract_entities(stripped, "python", "f.py")
    assert [(e.kind, e.name) for e in after] == [(e.kind, e.name) for e in before]
    assert any(e.docstring for e in before)
    assert all(e.docstring == "" for e in after)


def test_python_module_docstring_alone() -> None:
    stripped = strip_docs('"""Only a module docstring."""\n', "python")
    ast.parse(stripped)
    assert "module docstring" not in stripped


SNIPPETS: dict[str, str] = {
    "javascript": """
        // MARK_A file header
        /**
         * MARK_B retry an upload.
         */
        export const retryUpload = async (file) => {
          const url = "http://example.com/#x"; // MARK_C
          return /* MARK_D */ put(url, file);
        };
        class Uploader {
          /** MARK_E */
          start() { return 1; }
        }
        """,
    "typescript": """
        /** MARK_A */
        export interface Shape { area(): number; } // MARK_B
        /* MARK_C */ @Component() class Widget { /** MARK_D */ render(): string { return ""; } }
        """,
    "tsx": """
        // MARK_A
        export const App = () => <div>{/* MARK_B */}hello</div>;
        """,
    "go": """
        // Package p MARK_A.
        package p

        // Cache MARK_B.
        type Cache struct {
            data map[string][]byte // MARK_C
        }

        /* Get MARK_D. */
        func (c *Cache) Get(key string) []byte { return c.data[key] }
        """,
    "rust": """
        //! MARK_A crate docs
        /// MARK_B
        #[derive(Debug)]
        pub struct Cache { data: Vec<u8> } // MARK_C
        impl Cache {
            /** MARK_D */
            pub fn new() -> Self { Self { data: vec![] } }
            /*! MARK_E */
        }
        """,
    "java": """
        /**
         * MARK_A cache.
         */
        public class Cache {
            // MARK_B
            @Override
            public String get(String k) { return "//not a comment"; } // MARK_C
            /* MARK_D */ int size() { return 0; }
        }
        """,
    "c": """
        /* MARK_A */
        static int add(int a, int b) { return a /* MARK_B */ + b; } // MARK_C
        """,
    "cpp": """
        /// MARK_A
        template <typename T> class Cache { int size() const { return 0; } };  // MARK_B
        void Cache::clear() { /* MARK_C */ }
        """,
    "csharp": """
        /// <summary>MARK_A</summary>
        public class Cache {
            // MARK_B
            public int Get(string key) => 0; /* MARK_C */
        }
        """,
    "ruby": """
        # MARK_A
        class Cache
          # MARK_B
          def get(key) # MARK_C
            "#{key} # not a comment"
          end
        =begin
        MARK_D
        =end
        end
        """,
    "php": """
        <?php
        /** MARK_A */
        class Cache {
            # MARK_B
            public function get($k) { return $k; } // MARK_C
        }
        """,
}


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_comments_are_gone_and_entities_unchanged(language: str) -> None:
    source = textwrap.dedent(SNIPPETS[language]).lstrip("\n")
    stripped = strip_docs(source, language)
    assert "MARK_A" in source
    assert "MARK_" not in stripped, stripped
    before = extract_entities(source, language, "f")
    after = extract_entities(stripped, language, "f")
    assert before, language
    assert [(e.kind, e.name) for e in after] == [(e.kind, e.name) for e in before]
    assert all(e.docstring == "" for e in after)
    assert strip_docs(stripped, language) == stripped  # nothing left to strip


def test_strings_that_look_like_comments_survive() -> None:
    js = strip_docs('const u = "http://x.y/#z"; // gone\n', "javascript")
    assert js == 'const u = "http://x.y/#z";\n'
    java = strip_docs('class A { String s = "/* kept */"; }\n', "java")
    assert "/* kept */" in java
    ruby = strip_docs('x = "#{a} # kept"\n', "ruby")
    assert ruby == 'x = "#{a} # kept"\n'


def test_inline_comment_between_tokens_keeps_them_apart() -> None:
    assert strip_docs("int/**/x;\n", "c") == "int x;\n"


def test_rust_line_comment_keeps_its_newline() -> None:
    assert strip_docs("fn a() {} // x\nfn b() {}\n", "rust") == "fn a() {}\nfn b() {}\n"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_empty_and_garbage_input(language: str) -> None:
    assert strip_docs("", language) == ""
    assert isinstance(strip_docs("\x00}{/*", language), str)


def test_unsupported_language() -> None:
    with pytest.raises(UnsupportedLanguageError):
        strip_docs("x", "cobol")


# -- property: any generated Python program stays valid and loses every docstring ----------

_STATEMENTS = [
    "x = 1",
    "x = 1  # trailing comment",
    "# a comment line",
    "return None",
    "pass",
    'y = "# not a comment"',
    '"""a later string statement, not a docstring"""',
]
_DOCSTRINGS = [
    '"""Docstring."""',
    "'single'",
    'r"""Raw\n\n    multi-line."""',
    '"""Doc."""  # with a comment',
    '"""Doc."""; z = 3',
    '"implicit" "concat"',
]


@st.composite
def python_block(draw: st.DrawFn, depth: int = 0) -> list[str]:
    """Lines of a body (4-space indented by the caller), with docstrings and comments."""
    lines: list[str] = []
    if draw(st.booleans()):
        lines.extend(draw(st.sampled_from(_DOCSTRINGS)).split("\n"))
    for _ in range(draw(st.integers(0, 3))):
        if depth < 3 and draw(st.integers(0, 3)) == 0:
            keyword = draw(st.sampled_from(["def f(self):", "class C:", "async def g():"]))
            if draw(st.booleans()):
                lines.append("@decorator  # comment")
            lines.append(keyword)
            lines.extend("    " + line for line in draw(python_block(depth + 1)))
        else:
            lines.append(draw(st.sampled_from(_STATEMENTS)))
    if not any(not line.lstrip().startswith("#") for line in lines):
        lines.append("pass")
    return lines


@settings(max_examples=150, deadline=None, database=None)
@given(body=python_block())
def test_generated_python_stays_valid_without_docstrings(body: list[str]) -> None:
    source = "\n".join(line.replace("return None", "x = None") for line in body) + "\n"
    source = "def wrapper():\n" + "".join("    " + line + "\n" for line in source.splitlines())
    ast.parse(source)
    stripped = strip_docs(source, "python")
    tree = ast.parse(stripped)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            assert ast.get_docstring(node, clean=False) is None
    assert "comment" not in stripped.replace('"# not a comment"', "")
    assert names(stripped, "python") == names(source, "python")
