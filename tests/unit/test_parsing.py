"""Entity extraction per language: names, kinds, ranges, signatures, docstrings."""

from __future__ import annotations

import textwrap
import threading

import pytest

from codesearch.entities import Entity
from codesearch.parsing import (
    SUPPORTED_LANGUAGES,
    UnsupportedLanguageError,
    extract_entities,
    language_for_path,
)
from codesearch.parsing.extract import MAX_NESTING, SIGNATURE_MAX_CHARS
from codesearch.parsing.specs import SPECS
from codesearch.parsing.treesitter import query


def extract(source: str, language: str, path: str = "src/file") -> list[Entity]:
    return extract_entities(textwrap.dedent(source).lstrip("\n"), language, path)


def outline(entities: list[Entity]) -> list[tuple[str, str, int, int]]:
    return [(e.kind, e.name, e.start_line, e.end_line) for e in entities]


def find(entities: list[Entity], name: str) -> Entity:
    matches = [e for e in entities if e.name == name]
    assert len(matches) == 1, f"{name!r} in {[e.name for e in entities]}"
    return matches[0]


def slice_of(source: str, entity: Entity) -> str:
    """The input text an entity's range points at (lines 1-based, columns in characters)."""
    lines = source.split("\n")
    first, last = entity.start_line - 1, entity.end_line - 1
    if first == last:
        return lines[first][entity.start_col : entity.end_col]
    middle = lines[first + 1 : last]
    parts = [lines[first][entity.start_col :], *middle, lines[last][: entity.end_col]]
    return "\n".join(parts)


def assert_ranges_exact(source: str, entities: list[Entity]) -> None:
    for entity in entities:
        assert slice_of(source, entity) == entity.source, entity.name


# -- Python --------------------------------------------------------------------------

PYTHON = '''
"""Module docstring is not an entity."""
import functools


@functools.total_ordering
class Cache(Base):
    """A tiny in-memory cache.

        Keys are strings.
    """

    def get(self, key: str) -> bytes | None:  # fast path
        """Return the cached bytes, or None."""
        def normalise(k):
            return k.lower()
        return self._data.get(normalise(key))

    @property
    def size(self) -> int:
        return len(self._data)

    class Stats:
        def hits(self):
            r"""Raw 'doc'."""
            return 0


def top_level(a, b=2, *args, **kwargs):
    """One line."""
    return a


async def fetch(url: str) -> bytes:
    ...
'''


def test_python_outline_and_details() -> None:
    source = textwrap.dedent(PYTHON).lstrip("\n")
    entities = extract_entities(source, "python", "pkg/cache.py")
    assert outline(entities) == [
        ("class", "Cache", 5, 25),
        ("method", "Cache.get", 12, 16),
        ("function", "Cache.get.normalise", 14, 15),
        ("method", "Cache.size", 18, 20),
        ("class", "Cache.Stats", 22, 25),
        ("method", "Cache.Stats.hits", 23, 25),
        ("function", "top_level", 28, 30),
        ("function", "fetch", 33, 34),
    ]
    assert_ranges_exact(source, entities)
    assert all(e.path == "pkg/cache.py" and e.language == "python" for e in entities)

    cache = find(entities, "Cache")
    assert cache.signature == "@functools.total_ordering class Cache(Base):"
    assert cache.docstring == "A tiny in-memory cache.\n\nKeys are strings."  # cleandoc
    assert cache.source.startswith("@functools.total_ordering\nclass Cache(Base):")
    assert (cache.start_col, cache.end_col) == (0, 20)

    get = find(entities, "Cache.get")
    assert get.signature == "def get(self, key: str) -> bytes | None:"
    assert get.docstring == "Return the cached bytes, or None."
    assert get.start_col == 4

    size = find(entities, "Cache.size")  # the decorator is part of the entity
    assert size.source.startswith("@property\n    def size")
    assert size.signature == "@property def size(self) -> int:"

    assert find(entities, "Cache.Stats.hits").docstring == "Raw 'doc'."
    assert find(entities, "top_level").signature == "def top_level(a, b=2, *args, **kwargs):"
    assert find(entities, "top_level").docstring == "One line."
    assert find(entities, "fetch").signature == "async def fetch(url: str) -> bytes:"
    assert find(entities, "fetch").docstring == ""


def test_python_nested_function_in_method_is_a_function() -> None:
    entities = extract(
        """
        def outer():
            class Local:
                def method(self):
                    def helper():
                        pass
        """,
        "python",
    )
    assert [(e.kind, e.name) for e in entities] == [
        ("function", "outer"),
        ("class", "outer.Local"),
        ("method", "outer.Local.method"),
        ("function", "outer.Local.method.helper"),
    ]


def test_python_docstring_variants() -> None:
    entities = extract(
        '''
        def a():
            # a comment is not a statement
            """Still the docstring."""

        def b():
            x = 1
            """Not a docstring: not the first statement."""

        def c():
            "implicit " "concatenation"

        def d(): return 1
        ''',
        "python",
    )
    docs = {e.name: e.docstring for e in entities}
    assert docs == {
        "a": "Still the docstring.",
        "b": "",
        "c": "implicit concatenation",
        "d": "",
    }
    assert find(entities, "d").signature == "def d():"


# -- JavaScript / TypeScript / TSX ----------------------------------------------------

JAVASCRIPT = """
import { api } from "./api";

/**
 * Retry an upload a few times.
 * @param {File} file
 */
export const retryUpload = async (file, attempts = 3) => {
  const once = () => api.put(file);
  return once();
};

// Generates ids.
function* ids() {
  let i = 0;
  while (true) yield i++;
}

export default class Uploader extends Base {
  /** Start uploading. */
  start() {
    return retryUpload(this.file);
  }

  static create() { return new Uploader(); }

  onDone = () => { this.done = true; };
}

var legacy = function named() {};
const handlers = { click() {}, hover: () => 1 };
"""


def test_javascript_outline_and_details() -> None:
    source = textwrap.dedent(JAVASCRIPT).lstrip("\n")
    entities = extract_entities(source, "javascript", "web/upload.js")
    assert outline(entities) == [
        ("function", "retryUpload", 7, 10),
        ("function", "retryUpload.once", 8, 8),
        ("function", "ids", 13, 16),
        ("class", "Uploader", 18, 27),
        ("method", "Uploader.start", 20, 22),
        ("method", "Uploader.create", 24, 24),
        ("method", "Uploader.onDone", 26, 26),
        ("function", "legacy", 29, 29),
        ("function", "click", 30, 30),
        ("function", "hover", 30, 30),
    ]
    assert_ranges_exact(source, entities)
    retry = find(entities, "retryUpload")
    assert retry.signature == "const retryUpload = async (file, attempts = 3) =>"
    assert retry.docstring == "Retry an upload a few times.\n@param {File} file"
    assert retry.source.startswith("const retryUpload")
    assert find(entities, "ids").signature == "function* ids()"
    assert find(entities, "ids").docstring == "Generates ids."
    assert find(entities, "Uploader").signature == "class Uploader extends Base"
    assert find(entities, "Uploader.start").docstring == "Start uploading."
    assert find(entities, "Uploader.create").signature == "static create()"
    assert find(entities, "legacy").signature == "var legacy = function named()"


def test_javascript_anonymous_default_export() -> None:
    entities = extract("export default function () { return 1; }\n", "javascript")
    assert [(e.kind, e.name) for e in entities] == [("function", "default")]


TYPESCRIPT = """
/** Anything with an area. */
export interface Shape {
  area(): number;
  name: string;
}

export enum Color { Red, Green }

@Component({ selector: "app" })
export abstract class Widget<T> implements Shape {
  abstract area(): number;

  /** Render it. */
  @memo()
  protected render(props: T): string {
    return "";
  }

  constructor(private readonly id: string) {
    super();
  }
}

export const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

function overloaded(a: string): void;
function overloaded(a: any): void {}
"""


@pytest.mark.parametrize("language", ["typescript", "tsx"])
def test_typescript_outline_and_details(language: str) -> None:
    source = textwrap.dedent(TYPESCRIPT).lstrip("\n")
    entities = extract_entities(source, language, "ui/widget.ts")
    assert outline(entities) == [
        ("class", "Shape", 2, 5),
        ("method", "Shape.area", 3, 3),
        ("class", "Color", 7, 7),
        ("class", "Widget", 10, 22),
        ("method", "Widget.area", 11, 11),
        ("method", "Widget.render", 15, 17),
        ("method", "Widget.constructor", 19, 21),
        ("function", "sum", 24, 24),
        ("function", "overloaded", 27, 27),
    ]
    assert_ranges_exact(source, entities)
    assert find(entities, "Shape").docstring == "Anything with an area."
    assert find(entities, "Shape").signature == "interface Shape"
    assert find(entities, "Widget").signature == "abstract class Widget<T> implements Shape"
    render = find(entities, "Widget.render")
    assert render.signature == "protected render(props: T): string"
    assert render.docstring == "Render it."  # found above the decorator
    assert find(entities, "sum").signature == "const sum = (xs: number[]): number =>"


def test_tsx_component() -> None:
    entities = extract(
        """
        // Greets the user.
        export function Hello({ name }: Props) {
          return <div className="hi">{/* inline */}Hello {name}</div>;
        }
        export const Bye = () => <span>bye</span>;
        """,
        "tsx",
    )
    assert [(e.kind, e.name) for e in entities] == [("function", "Hello"), ("function", "Bye")]
    assert entities[0].docstring == "Greets the user."


# -- Go ----------------------------------------------------------------------------------

GO = """
package cache

// Cache keeps bytes in memory.
// It is safe for concurrent use.
type Cache struct {
	mu   sync.Mutex
	data map[string][]byte
}

type (
	// Store is anything that can get.
	Store interface {
		Get(key string) ([]byte, error)
	}
	ID int
)

// Get returns the value for key.
func (c *Cache) Get(key string) ([]byte, error) {
	return c.data[key], nil
}

func (Box[T]) Put(v T) {}

func New() *Cache { return &Cache{} }
"""


def test_go_outline_and_details() -> None:
    source = textwrap.dedent(GO).lstrip("\n")
    entities = extract_entities(source, "go", "cache/cache.go")
    assert outline(entities) == [
        ("class", "Cache", 5, 8),
        ("class", "Store", 12, 14),
        ("method", "Cache.Get", 19, 21),
        ("method", "Box.Put", 23, 23),
        ("function", "New", 25, 25),
    ]
    assert_ranges_exact(source, entities)
    cache = find(entities, "Cache")
    assert cache.signature == "type Cache struct"
    assert cache.docstring == "Cache keeps bytes in memory.\nIt is safe for concurrent use."
    assert find(entities, "Store").docstring == "Store is anything that can get."
    get = find(entities, "Cache.Get")
    assert get.signature == "func (c *Cache) Get(key string) ([]byte, error)"
    assert get.docstring == "Get returns the value for key."
    assert find(entities, "New").signature == "func New() *Cache"


# -- Rust -------------------------------------------------------------------------------

RUST = """
//! Crate docs belong to the crate, not to the first item.
/// A cache of bytes.
#[derive(Debug, Default)]
pub struct Cache<T> {
    items: Vec<T>,
}

/// Anything that stores.
pub trait Store {
    /// Fetch one.
    fn get(&self, key: &str) -> Option<u8>;
    fn len(&self) -> usize { 0 }
}

impl<T: Clone> Store for Cache<T> {
    fn get(&self, key: &str) -> Option<u8> {
        fn helper() {}
        None
    }
}

impl<T> Cache<T> {
    /** Make an empty cache. */
    pub fn new() -> Self where T: Default {
        Self { items: Vec::new() }
    }
}

enum Mode { Fast, Slow }

fn main() {}
"""


def test_rust_outline_and_details() -> None:
    source = textwrap.dedent(RUST).lstrip("\n")
    entities = extract_entities(source, "rust", "src/lib.rs")
    assert outline(entities) == [
        ("class", "Cache", 4, 6),
        ("class", "Store", 9, 13),
        ("method", "Store.get", 11, 11),
        ("method", "Store.len", 12, 12),
        ("method", "Cache.get", 16, 19),
        ("function", "Cache.get.helper", 17, 17),
        ("method", "Cache.new", 24, 26),
        ("class", "Mode", 29, 29),
        ("function", "main", 31, 31),
    ]
    assert_ranges_exact(source, entities)
    assert find(entities, "Cache").docstring == "A cache of bytes."  # attribute skipped
    assert find(entities, "Cache").signature == "pub struct Cache<T>"
    assert find(entities, "Store.get").docstring == "Fetch one."
    assert find(entities, "Store.get").signature == "fn get(&self, key: &str) -> Option<u8>"
    new = find(entities, "Cache.new")
    assert new.signature == "pub fn new() -> Self where T: Default"
    assert new.docstring == "Make an empty cache."


# -- Java -------------------------------------------------------------------------------

JAVA = """
package com.example;

/**
 * An LRU cache.
 *
 * <p>Not thread safe.
 */
@Service
public class Cache<K, V> extends Base implements Store {
    /** Creates an empty cache. */
    public Cache() {
        super();
    }

    // Looks a key up.
    @Override
    public V get(K key) throws IOException {
        return map.get(key);
    }

    public V get(K key, V fallback) { return fallback; }

    static class Node {
        void unlink() {}
    }

    interface Listener { void onEvict(K key); }

    enum Policy { LRU, LFU; boolean strict() { return true; } }

    record Entry(K key, V value) {}
}
"""


def test_java_outline_and_details() -> None:
    source = textwrap.dedent(JAVA).lstrip("\n")
    entities = extract_entities(source, "java", "src/Cache.java")
    assert outline(entities) == [
        ("class", "Cache", 8, 32),
        ("method", "Cache.Cache", 11, 13),
        ("method", "Cache.get", 16, 19),
        ("method", "Cache.get#2", 21, 21),
        ("class", "Cache.Node", 23, 25),
        ("method", "Cache.Node.unlink", 24, 24),
        ("class", "Cache.Listener", 27, 27),
        ("method", "Cache.Listener.onEvict", 27, 27),
        ("class", "Cache.Policy", 29, 29),
        ("method", "Cache.Policy.strict", 29, 29),
        ("class", "Cache.Entry", 31, 31),
    ]
    assert_ranges_exact(source, entities)
    cache = find(entities, "Cache")
    assert cache.docstring == "An LRU cache.\n\n<p>Not thread safe."
    assert cache.signature == ("@Service public class Cache<K, V> extends Base implements Store")
    get = find(entities, "Cache.get")
    assert get.signature == "@Override public V get(K key) throws IOException"
    assert get.docstring == "Looks a key up."
    assert find(entities, "Cache.Cache").docstring == "Creates an empty cache."
    assert find(entities, "Cache.Listener.onEvict").signature == "void onEvict(K key)"


# -- C / C++ -----------------------------------------------------------------------------

C = """
#include <stdio.h>

/* Adds two numbers. */
static int add(int a, int b) {
    return a + b;
}

int prototype_only(void);

// Returns a function pointer.
int (*pick(int which))(int) {
    return 0;
}

char **split(const char *s) { return NULL; }
"""


def test_c_outline_and_details() -> None:
    source = textwrap.dedent(C).lstrip("\n")
    entities = extract_entities(source, "c", "src/math.c")
    assert outline(entities) == [
        ("function", "add", 4, 6),
        ("function", "pick", 11, 13),
        ("function", "split", 15, 15),
    ]
    assert_ranges_exact(source, entities)
    assert find(entities, "add").signature == "static int add(int a, int b)"
    assert find(entities, "add").docstring == "Adds two numbers."
    assert find(entities, "pick").docstring == "Returns a function pointer."
    assert find(entities, "split").signature == "char **split(const char *s)"


CPP = """
namespace store {

/// A cache.
template <typename T>
class Cache : public Base {
 public:
  Cache() : size_(0) {}
  ~Cache() {}
  int size() const { return size_; }
  void clear();
  struct Stats { int hits() { return 0; } };
};

void Cache::clear() { size_ = 0; }

template <typename T>
T Cache<T>::first() { return T(); }

int free_function(int x) { return x; }

}  // namespace store
"""


def test_cpp_outline_and_details() -> None:
    source = textwrap.dedent(CPP).lstrip("\n")
    entities = extract_entities(source, "cpp", "src/cache.cpp")
    assert outline(entities) == [
        ("class", "Cache", 4, 12),
        ("method", "Cache.Cache", 7, 7),
        ("method", "Cache.~Cache", 8, 8),
        ("method", "Cache.size", 9, 9),
        ("class", "Cache.Stats", 11, 11),
        ("method", "Cache.Stats.hits", 11, 11),
        ("method", "Cache.clear", 14, 14),
        ("method", "Cache.first", 16, 17),
        ("function", "free_function", 19, 19),
    ]
    assert_ranges_exact(source, entities)
    cache = find(entities, "Cache")
    assert cache.signature == "template <typename T> class Cache : public Base"
    assert cache.docstring == "A cache."  # above the template line
    assert find(entities, "Cache.size").signature == "int size() const"
    assert find(entities, "Cache.clear").signature == "void Cache::clear()"
    assert find(entities, "Cache.first").signature == "template <typename T> T Cache<T>::first()"


def test_cpp_doxygen_bang_comments_document_the_next_item() -> None:
    # In Rust `//!` documents the enclosing module; in C/C++ it is Doxygen for the next item.
    cpp = extract_entities("//! Qt-style doc.\nint f() { return 0; }\n", "cpp", "a.cpp")
    rust = extract_entities("//! Crate doc.\nfn f() {}\n", "rust", "lib.rs")
    assert [e.docstring for e in cpp] == ["Qt-style doc."]
    assert [e.docstring for e in rust] == [""]


# -- C# ----------------------------------------------------------------------------------

CSHARP = """
namespace App.Services
{
    /// <summary>
    /// Caches responses.
    /// </summary>
    [Serializable]
    public sealed class ResponseCache : ICache
    {
        public ResponseCache(int capacity) { }

        ~ResponseCache() { }

        /// <summary>Gets a response.</summary>
        [Obsolete("use GetAsync")]
        public byte[] Get(string key) => null;

        public async Task<byte[]> GetAsync(string key)
        {
            int Local() { return 1; }
            return await Task.FromResult<byte[]>(null);
        }
    }

    public interface ICache { byte[] Get(string key); }
    public struct Point { }
    public record Person(string Name);
    public enum Level { Low, High }
}
"""


def test_csharp_outline_and_details() -> None:
    source = textwrap.dedent(CSHARP).lstrip("\n")
    entities = extract_entities(source, "csharp", "Services/ResponseCache.cs")
    assert outline(entities) == [
        ("class", "ResponseCache", 6, 22),  # the attribute line is part of it
        ("method", "ResponseCache.ResponseCache", 9, 9),
        ("method", "ResponseCache.~ResponseCache", 11, 11),
        ("method", "ResponseCache.Get", 14, 15),
        ("method", "ResponseCache.GetAsync", 17, 21),
        ("function", "ResponseCache.GetAsync.Local", 19, 19),
        ("class", "ICache", 24, 24),
        ("method", "ICache.Get", 24, 24),
        ("class", "Point", 25, 25),
        ("class", "Person", 26, 26),
        ("class", "Level", 27, 27),
    ]
    assert_ranges_exact(source, entities)
    cache = find(entities, "ResponseCache")
    assert cache.docstring == "Caches responses."
    assert cache.signature == "[Serializable] public sealed class ResponseCache : ICache"
    get = find(entities, "ResponseCache.Get")
    assert get.docstring == "Gets a response."
    assert get.signature == '[Obsolete("use GetAsync")] public byte[] Get(string key)'


# -- Ruby --------------------------------------------------------------------------------

RUBY = """
# Storage helpers.
module Storage
  # An in-memory cache.
  # Keys are strings.
  class Cache < Base
    # Fetch a key.
    def get(key)
      @data[key]
    end

    def self.build(size) = new(size)

    class << self
      def registry; end
    end
  end
end

def helper(x)
  x * 2
end
"""


def test_ruby_outline_and_details() -> None:
    source = textwrap.dedent(RUBY).lstrip("\n")
    entities = extract_entities(source, "ruby", "lib/storage.rb")
    assert outline(entities) == [
        ("class", "Storage", 2, 17),
        ("class", "Storage.Cache", 5, 16),
        ("method", "Storage.Cache.get", 7, 9),
        ("method", "Storage.Cache.build", 11, 11),
        ("method", "Storage.Cache.registry", 14, 14),
        ("function", "helper", 19, 21),
    ]
    assert_ranges_exact(source, entities)
    assert find(entities, "Storage").docstring == "Storage helpers."
    cache = find(entities, "Storage.Cache")
    assert cache.docstring == "An in-memory cache.\nKeys are strings."
    assert cache.signature == "class Cache < Base"
    get = find(entities, "Storage.Cache.get")
    assert get.docstring == "Fetch a key."
    assert get.signature == "def get(key)"


# -- PHP ---------------------------------------------------------------------------------

PHP = """
<?php
namespace App\\Cache;

/**
 * Caches things.
 */
#[Attribute]
final class Cache implements Store
{
    /** Fetch one. */
    public function get(string $key): ?string
    {
        return $this->items[$key] ?? null;
    }

    public static function make(): self { return new self(); }
}

interface Store { public function get(string $key): ?string; }

trait Logs { protected function log(string $m): void {} }

enum Suit: string { case Hearts = 'h'; public function label(): string { return 'H'; } }

// Formats money.
function format_money(int $cents): string
{
    return sprintf('%.2f', $cents / 100);
}
"""


def test_php_outline_and_details() -> None:
    source = textwrap.dedent(PHP).lstrip("\n")
    entities = extract_entities(source, "php", "src/Cache.php")
    assert outline(entities) == [
        ("class", "Cache", 7, 17),
        ("method", "Cache.get", 11, 14),
        ("method", "Cache.make", 16, 16),
        ("class", "Store", 19, 19),
        ("method", "Store.get", 19, 19),
        ("class", "Logs", 21, 21),
        ("method", "Logs.log", 21, 21),
        ("class", "Suit", 23, 23),
        ("method", "Suit.label", 23, 23),
        ("function", "format_money", 26, 29),
    ]
    assert_ranges_exact(source, entities)
    assert find(entities, "Cache").docstring == "Caches things."
    assert find(entities, "Cache").signature == "#[Attribute] final class Cache implements Store"
    assert find(entities, "Cache.get").docstring == "Fetch one."
    assert find(entities, "Cache.get").signature == "public function get(string $key): ?string"
    assert find(entities, "format_money").docstring == "Formats money."


# -- cross-cutting behaviour --------------------------------------------------------------


def test_every_language_query_compiles_and_has_a_table() -> None:
    assert set(SPECS) == set(SUPPORTED_LANGUAGES)
    for language in SUPPORTED_LANGUAGES:
        assert query(SPECS[language]).pattern_count > 0


def test_language_for_path_is_reexported() -> None:
    assert language_for_path("a/b/c.py") == "python"
    assert language_for_path("x.TSX") == "tsx"
    assert language_for_path("README.md") is None


def test_unsupported_language_raises() -> None:
    with pytest.raises(UnsupportedLanguageError) as info:
        extract_entities("def f(): pass", "cobol", "x.cbl")
    assert isinstance(info.value, ValueError)
    assert "cobol" in str(info.value)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_empty_source_gives_nothing(language: str) -> None:
    assert extract_entities("", language, "empty") == []
    assert extract_entities("\n\n   \n", language, "blank") == []


def test_syntax_error_keeps_the_functions_around_it_python() -> None:
    source = textwrap.dedent(
        """
        def before():
            return 1

        def broken(x):
            return (x +* 2
                if

        def after():
            return 2

        class Later:
            def method(self):
                pass
        """
    ).lstrip("\n")
    names = [e.name for e in extract_entities(source, "python", "broken.py")]
    assert names[0] == "before"
    assert {"after", "Later", "Later.method"} <= set(names)


@pytest.mark.parametrize("language", ["javascript", "typescript", "tsx"])
def test_syntax_error_keeps_the_functions_around_it_js(language: str) -> None:
    source = (
        "function before() { return 1; }\n"
        "function broken(a, { if (\n"
        "}\n"
        "function after() { return 3; }\n"
        "class Later { method() { return 4; } }\n"
    )
    names = [e.name for e in extract_entities(source, language, "broken.js")]
    assert names == ["before", "after", "Later", "Later.method"]


@pytest.mark.parametrize(
    ("language", "source"),
    [
        ("go", "package m\nfunc a() {}\nfunc b(x int { return }\nfunc c() {}\n"),
        ("java", "class A { void a() {} void b( { } void c() {} }\n"),
        ("rust", "fn a() {}\nfn b( {\n}\nfn c() {}\n"),
    ],
)
def test_syntax_error_keeps_neighbours_other_languages(language: str, source: str) -> None:
    names = [e.name for e in extract_entities(source, language, "broken")]
    assert any(name.endswith("a") for name in names)
    assert any(name.endswith("c") for name in names)


def test_non_ascii_columns_are_characters_not_bytes() -> None:
    source = 'ß = "日本語"; def größe(): return "é"\nclass Ünïcödé:\n    def naïve(self): pass\n'
    entities = extract_entities(source, "python", "u.py")
    assert outline(entities) == [
        ("function", "größe", 1, 1),
        ("class", "Ünïcödé", 2, 3),
        ("method", "Ünïcödé.naïve", 3, 3),
    ]
    first = entities[0]
    assert (first.start_col, first.end_col) == (11, 34)  # bytes would say (18, 44)
    assert source.split("\n")[0][first.start_col : first.end_col] == first.source
    assert first.source == 'def größe(): return "é"'
    assert entities[2].end_col == len("    def naïve(self): pass")
    assert_ranges_exact(source, entities)


def test_non_ascii_in_javascript_and_crlf() -> None:
    source = 'const s = "ünï"; function f() { return "日本"; }\r\n// doc\r\nfunction g() {}\r\n'
    entities = extract_entities(source, "javascript", "u.js")
    assert [(e.name, e.start_line, e.start_col, e.end_col) for e in entities] == [
        ("f", 1, 17, 46),
        ("g", 3, 0, 15),
    ]
    assert entities[1].docstring == "doc"
    assert_ranges_exact(source, entities)


def test_duplicate_names_get_suffixes_in_source_order() -> None:
    entities = extract(
        """
        if FAST:
            def f():
                def inner(): pass
        else:
            def f():
                def inner(): pass

        def f(): pass

        class f: pass
        """,
        "python",
    )
    assert [(e.kind, e.name) for e in entities] == [
        ("function", "f"),
        ("function", "f.inner"),
        ("function", "f#2"),
        ("function", "f#2.inner"),
        ("function", "f#3"),
        ("class", "f"),  # unique per kind: a class may share a function's name
    ]


def test_getter_setter_pairs_are_unique() -> None:
    entities = extract(
        """
        class Box:
            @property
            def value(self): return self._v

            @value.setter
            def value(self, v): self._v = v
        """,
        "python",
    )
    assert [e.name for e in entities] == ["Box", "Box.value", "Box.value#2"]


def test_names_are_unique_per_kind_everywhere() -> None:
    sources = {
        "python": PYTHON,
        "javascript": JAVASCRIPT,
        "typescript": TYPESCRIPT,
        "go": GO,
        "rust": RUST,
        "java": JAVA,
        "c": C,
        "cpp": CPP,
        "csharp": CSHARP,
        "ruby": RUBY,
        "php": PHP,
    }
    for language, source in sources.items():
        doubled = textwrap.dedent(source) * 2
        if language == "php":
            doubled = doubled.replace("<?php", "", 1).join(["<?php", ""])
        entities = extract_entities(doubled, language, "dup")
        keys = [(e.kind, e.name) for e in entities]
        assert len(keys) == len(set(keys)), language
        assert any("#2" in e.name for e in entities), language


def test_signature_is_capped_and_single_line() -> None:
    params = ", ".join(f"p{i}: int" for i in range(200))
    entities = extract_entities(f"def wide(\n    {params},\n):\n    pass\n", "python", "w.py")
    assert len(entities[0].signature) == SIGNATURE_MAX_CHARS
    assert "\n" not in entities[0].signature
    assert entities[0].signature.startswith("def wide( p0: int, p1: int")


def test_blank_line_separates_comment_from_entity() -> None:
    entities = extract(
        """
        // License header.

        function a() {}
        let x = 1; // trailing comment of a code line
        function b() {}
        """,
        "javascript",
    )
    assert [e.docstring for e in entities] == ["", ""]


def test_deep_nesting_does_not_recurse() -> None:
    depth = 10_000
    source = "function f() {" * depth + "}" * depth
    entities = extract_entities(source, "javascript", "deep.js")
    assert len(entities) == MAX_NESTING
    assert entities[0].name == "f"
    assert entities[1].name == "f.f"
    assert all(e.start_line == e.end_line == 1 for e in entities)


def test_bad_bytes_never_raise() -> None:
    for language in SUPPORTED_LANGUAGES:
        for source in ("\x00\x00def f(): pass", "\ud800 lone surrogate {", "}}}}((((", "\x1b[0m"):
            result = extract_entities(source, language, "junk")
            assert isinstance(result, list)


def test_parsers_work_from_many_threads() -> None:
    source = textwrap.dedent(PYTHON).lstrip("\n")
    expected = outline(extract_entities(source, "python", "p.py"))
    results: list[list[tuple[str, str, int, int]]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                results.append(outline(extract_entities(source, "python", "p.py")))
        except BaseException as error:  # pragma: no cover - surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 80
    assert all(result == expected for result in results)


def test_lf_crlf_and_lone_cr_line_breaks_give_the_same_ranges() -> None:
    """Editors and LSP count a lone CR (classic Mac) as a line break; so must extraction."""
    lf = "class A:\n    def m(self):\n        return 1\n"
    for text in (lf, lf.replace("\n", "\r\n"), lf.replace("\n", "\r")):
        found = [
            (e.name, e.start_line, e.end_line, e.start_col, e.end_col)
            for e in extract_entities(text, "python", "a.py")
        ]
        assert found == [("A", 1, 3, 0, 16), ("A.m", 2, 3, 4, 16)], repr(text)
