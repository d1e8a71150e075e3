"""One small declarative table per language: what to capture, and how to read it.

Every language is described by a tree-sitter query whose capture names carry the
meaning, so one generic walker (`extract.py`) serves all of them:

``@class``     a class-like entity (class, struct, interface, enum, trait, module...)
``@function``  a function; it becomes a "method" when its nearest container is class-like
``@method``    always a method (Java/C#/PHP method declarations, Go methods)
``@scope``     a class-like naming scope that is not itself an entity (Rust ``impl``,
               Ruby ``class << self``); its ``@name`` (if any) prefixes what it holds
``@name``      the entity's (or scope's) name node
``@receiver``  Go method receiver: its type name qualifies the method
``@declarator`` C/C++ declarator chain, resolved to a (possibly qualified) name
``@range`` + ``@inner``   a wrapper whose span becomes the entity's span (decorators,
               ``const f = () => {}``, ``template <...>``, ``type X struct``)
``@anchor`` + ``@inner``  a wrapper only used to look for leading comments (``export``)
``@skip``      attribute/decorator nodes that may sit between a doc comment and the entity
``@comment``   every comment node (doc lookup and `strip_docs`)

Queries run in C, so extraction never walks the tree node by node in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from codesearch.parsing.languages import SUPPORTED_LANGUAGES


class UnsupportedLanguageError(ValueError):
    """Raised when asked to parse a language that has no grammar table."""


DocStyle = Literal["python", "comments"]

_JS_FUNCTIONS = "(arrow_function) (function_expression) (generator_function)"
_JS_FUNCTION_VALUES = f"[{_JS_FUNCTIONS}]"

# Shared by JavaScript, TypeScript and TSX: declarations, methods, and functions bound
# to a name (`const f = () => {}`, `{ f: function () {} }`, `export default () => {}`).
# Error recovery often turns a declaration after a syntax error into a named function
# or class *expression* inside an ERROR node: those are declarations too.
_JS_COMMON = f"""
(function_declaration name: (identifier) @name) @function
(generator_function_declaration name: (identifier) @name) @function
(class_declaration name: (_) @name) @class
(method_definition name: (_) @name) @function
(pair key: (property_identifier) @name value: {_JS_FUNCTION_VALUES}) @function
(variable_declarator name: (identifier) @name value: {_JS_FUNCTION_VALUES}) @function
(variable_declarator name: (identifier) @name value: (class)) @class
(lexical_declaration
  . (variable_declarator value: [{_JS_FUNCTIONS} (class)]) @inner .) @range
(variable_declaration
  . (variable_declarator value: [{_JS_FUNCTIONS} (class)]) @inner .) @range
(export_statement declaration: (_) @inner) @anchor
(export_statement declaration: (_ . (variable_declarator) @inner .)) @anchor
(export_statement value: {_JS_FUNCTION_VALUES} @function) @anchor
(export_statement value: (class) @class) @anchor
(ERROR (function_expression name: (identifier) @name) @function)
(ERROR (class name: (_) @name) @class)
[(comment) (html_comment)] @comment
"""

_JAVASCRIPT = (
    _JS_COMMON + f"(field_definition property: (_) @name value: {_JS_FUNCTION_VALUES}) @function\n"
)

_TYPESCRIPT = (
    _JS_COMMON
    + f"""
(public_field_definition name: (_) @name value: {_JS_FUNCTION_VALUES}) @function
(interface_declaration name: (_) @name) @class
(enum_declaration name: (_) @name) @class
(abstract_class_declaration name: (_) @name) @class
(interface_body (method_signature name: (_) @name) @method)
(class_body (abstract_method_signature name: (_) @name) @method)
(class_body (decorator) @skip)
"""
)

_PYTHON = """
(function_definition name: (identifier) @name) @function
(class_definition name: (identifier) @name) @class
(decorated_definition definition: (_) @inner) @range
(comment) @comment
"""

_GO = """
(function_declaration name: (identifier) @name) @function
(method_declaration receiver: (parameter_list) @receiver name: (field_identifier) @name) @method
(type_spec name: (type_identifier) @name type: [(struct_type) (interface_type)]) @class
(type_declaration . (type_spec type: [(struct_type) (interface_type)]) @inner .) @range
(comment) @comment
"""

_RUST = """
(function_item name: (_) @name) @function
(trait_item body: (declaration_list (function_signature_item name: (_) @name) @function))
(struct_item name: (_) @name) @class
(enum_item name: (_) @name) @class
(union_item name: (_) @name) @class
(trait_item name: (_) @name) @class
(impl_item type: (_) @name) @scope
(attribute_item) @skip
[(line_comment) (block_comment)] @comment
"""

_JAVA = """
(class_declaration name: (identifier) @name) @class
(interface_declaration name: (identifier) @name) @class
(enum_declaration name: (identifier) @name) @class
(record_declaration name: (identifier) @name) @class
(annotation_type_declaration name: (identifier) @name) @class
(method_declaration name: (identifier) @name) @method
(constructor_declaration name: (identifier) @name) @method
(compact_constructor_declaration name: (identifier) @name) @method
[(line_comment) (block_comment)] @comment
"""

_C = """
(function_definition declarator: (_) @declarator) @function
(comment) @comment
"""

_CPP = """
(function_definition declarator: (_) @declarator) @function
(class_specifier name: (_) @name body: (_)) @class
(struct_specifier name: (_) @name body: (_)) @class
(union_specifier name: (_) @name body: (_)) @class
(template_declaration
  [(class_specifier) (struct_specifier) (union_specifier) (function_definition)] @inner) @range
(comment) @comment
"""

_CSHARP = """
(class_declaration name: (identifier) @name) @class
(struct_declaration name: (identifier) @name) @class
(interface_declaration name: (identifier) @name) @class
(record_declaration name: (identifier) @name) @class
(enum_declaration name: (identifier) @name) @class
(method_declaration name: (identifier) @name) @method
(constructor_declaration name: (identifier) @name) @method
(destructor_declaration name: (identifier) @name) @method
(local_function_statement name: (identifier) @name) @function
(comment) @comment
"""

_RUBY = """
(class name: (_) @name) @class
(module name: (_) @name) @class
(method name: (_) @name) @function
(singleton_method name: (_) @name) @function
(singleton_class) @scope
(comment) @comment
"""

_PHP = """
(function_definition name: (name) @name) @function
(class_declaration name: (name) @name) @class
(interface_declaration name: (name) @name) @class
(trait_declaration name: (name) @name) @class
(enum_declaration name: (name) @name) @class
(method_declaration name: (name) @name) @method
(comment) @comment
"""


@dataclass(frozen=True, slots=True, eq=False)
class LanguageSpec:
    """Everything the generic walker needs to know about one language.

    Compared by identity (eq=False) so it can key the grammar and query caches.
    """

    name: str
    module: str  # the grammar wheel's module
    loader: str  # the function in it that returns the language pointer
    query: str
    docs: DocStyle = "comments"
    # Name given to anonymous entities (`export default () => {}`); None drops them.
    anonymous_name: str | None = None
    # Node type -> text put before its name (C# destructors: "~").
    name_prefixes: Mapping[str, str] = field(default_factory=dict)
    # Strip C#-style XML wrappers (<summary>) from doc comments.
    xml_docs: bool = False
    # `//!` and `/*!` document the enclosing item (Rust), so they never describe the
    # next one. In C/C++ the same markers are Doxygen docs for the next item.
    inner_docs: bool = False


SPECS: dict[str, LanguageSpec] = {
    spec.name: spec
    for spec in (
        LanguageSpec("python", "tree_sitter_python", "language", _PYTHON, docs="python"),
        LanguageSpec(
            "javascript",
            "tree_sitter_javascript",
            "language",
            _JAVASCRIPT,
            anonymous_name="default",
        ),
        LanguageSpec(
            "typescript",
            "tree_sitter_typescript",
            "language_typescript",
            _TYPESCRIPT,
            anonymous_name="default",
        ),
        LanguageSpec(
            "tsx", "tree_sitter_typescript", "language_tsx", _TYPESCRIPT, anonymous_name="default"
        ),
        LanguageSpec("go", "tree_sitter_go", "language", _GO),
        LanguageSpec("rust", "tree_sitter_rust", "language", _RUST, inner_docs=True),
        LanguageSpec("java", "tree_sitter_java", "language", _JAVA),
        LanguageSpec("c", "tree_sitter_c", "language", _C),
        LanguageSpec("cpp", "tree_sitter_cpp", "language", _CPP),
        LanguageSpec(
            "csharp",
            "tree_sitter_c_sharp",
            "language",
            _CSHARP,
            name_prefixes={"destructor_declaration": "~"},
            xml_docs=True,
        ),
        LanguageSpec("ruby", "tree_sitter_ruby", "language", _RUBY),
        LanguageSpec("php", "tree_sitter_php", "language_php", _PHP),
    )
}


def spec_for(language: str) -> LanguageSpec:
    """The table for `language`, or UnsupportedLanguageError naming the known ones."""
    spec = SPECS.get(language)
    if spec is None:
        known = ", ".join(SUPPORTED_LANGUAGES)
        raise UnsupportedLanguageError(f"unsupported language {language!r} (known: {known})")
    return spec
