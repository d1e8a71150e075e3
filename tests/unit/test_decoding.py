"""Source files that are not UTF-8 are indexed, not dropped (issue 14, item 3).

A Latin-1 comment in legacy code cost every function of its file. Each case here is a
file a user has: what its functions are named, where they start, and what the user is told.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.index.decoding import NotText, decode_source
from codesearch.index.reading import UnreadableFileError, content_hash, read_source
from codesearch.parsing import extract_entities
from codesearch.workspace import Workspace

MIB = 1 << 20

LATIN1_COMMENT = (
    "# Auteur: Jos\u00e9 M\u00fcller, ao\u00fbt 1998\n"
    "def parse_config(path):\n"
    "    return open(path).read()\n"
).encode("latin-1")
SMART_QUOTES = (
    "def greet(name):\n"
    "    # \u201cHello\u201d \u2013 pasted from Word\n"
    "    return 'hello ' + name\n"
).encode("cp1252")
# cp1250 reads these bytes as "Crčme brűlée": only the coding line gets the names right.
PEP_263 = (
    "#!/usr/bin/env python\n"
    "# -*- coding: latin-1 -*-\n"
    "def cr\u00e8me_br\u00fbl\u00e9e():\n"
    "    return 'cr\u00e8me'\n"
).encode("latin-1")
SHIFT_JIS = (
    "# \u8a2d\u5b9a\u30d5\u30a1\u30a4\u30eb\u3092\u8aad\u307f\u8fbc\u307f\u307e\u3059\u3002"
    "\u65e5\u672c\u8a9e\u306e\u30b3\u30e1\u30f3\u30c8\u3067\u3059\u3002\n"
    "def load_settings(path):\n"
    "    return path\n"
).encode("shift_jis")
GBK = (
    "// \u8fd9\u662f\u4e00\u4e2a\u4e2d\u6587\u6ce8\u91ca\uff0c\u8bfb\u53d6\u914d\u7f6e"
    "\u6587\u4ef6\u5e76\u8fd4\u56de\u7ed3\u679c\n"
    "function loadConfig(path) {\n"
    "  return path;\n"
    "}\n"
).encode("gbk")


def test_utf8_is_read_as_before_without_a_warning() -> None:
    data = "def caf\u00e9():\n    return '\u2713'\n".encode()
    decoded = decode_source(data, "python")
    assert (decoded.text, decoded.encoding, decoded.warning) == (data.decode(), "utf-8", None)


def test_latin1_comment_keeps_the_file_and_names_the_line() -> None:
    decoded = decode_source(LATIN1_COMMENT, "python")
    assert decoded.text == LATIN1_COMMENT.decode("latin-1")
    assert decoded.warning is not None
    assert "not valid UTF-8" in decoded.warning and "line 1" in decoded.warning
    assert "cp1252" in decoded.warning


def test_windows_smart_quotes() -> None:
    decoded = decode_source(SMART_QUOTES, "python")
    assert "\u201cHello\u201d \u2013 pasted" in decoded.text
    assert decoded.warning is not None and "line 2" in decoded.warning


def test_pep_263_coding_line_is_honoured_without_a_warning() -> None:
    decoded = decode_source(PEP_263, "python")
    assert decoded.text == PEP_263.decode("latin-1")
    assert (decoded.encoding, decoded.warning) == ("iso8859-1", None)


def test_coding_line_is_python_and_ruby_only() -> None:
    """A C file's `// coding:` comment is no declaration: its encoding is detected."""
    decoded = decode_source(b"/* coding: koi8-r */\nint f(void) { return 0; } // \xe9\xe9\n", "c")
    assert decoded.warning is not None and "detected" in decoded.warning


def test_coding_line_below_code_does_not_count() -> None:
    """PEP 263: line 2 declares only below a comment or blank line 1."""
    data = "x = 1\n# -*- coding: latin-1 -*-\ny = '\u00e8'\n".encode("latin-1")
    assert decode_source(data, "python").warning is not None


def test_unknown_declared_encoding_falls_back_to_detection() -> None:
    data = "# -*- coding: klingon-8 -*-\n# caf\u00e9\ndef f():\n    pass\n".encode("latin-1")
    decoded = decode_source(data, "python")
    assert "caf\u00e9" in decoded.text
    assert decoded.warning is not None and "klingon-8" in decoded.warning


def test_shift_jis_source() -> None:
    decoded = decode_source(SHIFT_JIS, "python")
    assert decoded.text == SHIFT_JIS.decode("shift_jis")
    assert decoded.warning is not None and "cp932" in decoded.warning


def test_gbk_source() -> None:
    decoded = decode_source(GBK, "javascript")
    assert decoded.text == GBK.decode("gbk")
    assert decoded.warning is not None


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_byte_order_mark(codec: str) -> None:
    text = "def r\u00e9sum\u00e9():\n    return '\u65e5\u672c'\n"
    mark = {"utf-16-be": codecs.BOM_UTF16_BE}.get(codec, b"")
    data = mark + text.encode(codec)
    decoded = decode_source(data, "python")
    assert (decoded.text, decoded.warning) == (text, None)


def test_utf8_with_a_few_stray_bytes_keeps_its_real_utf8() -> None:
    """A UTF-8 file with one Latin-1 byte: a single-byte guess would garble every
    real UTF-8 character to save the stray one."""
    data = (
        "# caf\u00e9 \u2014 d\u00e9j\u00e0 vu \u2713\n".encode()
        + b"# \xe9t\xe9\ndef f():\n    pass\n"
    )
    decoded = decode_source(data, "python")
    assert decoded.text.startswith("# caf\u00e9 \u2014 d\u00e9j\u00e0 vu \u2713\n# \ufffdt\ufffd\n")
    assert decoded.warning is not None and "2 unreadable bytes replaced" in decoded.warning


def test_binary_is_still_not_text() -> None:
    with pytest.raises(NotText, match="NUL"):
        decode_source(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "python")
    noise = bytes((i * 7919 + 13) % 256 for i in range(4096)).replace(b"\x00", b"\x01")
    with pytest.raises(NotText, match="not text"):
        decode_source(noise, "python")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048), st.sampled_from(["python", "ruby", "go", "javascript"]))
def test_random_bytes_never_raise_anything_but_not_text(data: bytes, language: str) -> None:
    try:
        decoded = decode_source(data, language)
    except NotText:
        return
    assert isinstance(decoded.text, str)
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # line breaks survive decoding, so line numbers match the file's
        assert decoded.text.count("\n") == data.count(b"\n")


@settings(max_examples=100, deadline=None)
@given(
    st.text(st.characters(exclude_characters="\x00"), max_size=400),  # NUL: binary
    st.sampled_from(["utf-8", "utf-16", "utf-32", "utf-8-sig"]),
)
def test_any_text_in_a_marked_or_utf8_encoding_reads_back_exactly(text: str, codec: str) -> None:
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:  # lone surrogates
        return
    if codec == "utf-8" and text.startswith("\ufeff"):
        return  # a text starting with U+FEFF is indistinguishable from a byte order mark
    decoded = decode_source(data, "python")
    assert (decoded.text, decoded.warning) == (text, None)


def test_read_source_hashes_the_raw_bytes(tmp_path: Path) -> None:
    path = tmp_path / "legacy.py"
    path.write_bytes(LATIN1_COMMENT)
    source = read_source(path, max_file_size=MIB, language="python")
    assert source.content_hash == content_hash(LATIN1_COMMENT)
    assert source.size == len(LATIN1_COMMENT)
    path.write_bytes(b"\x00\x01binary")
    with pytest.raises(UnreadableFileError) as refused:
        read_source(path, max_file_size=MIB, language="python")
    assert refused.value.kind == "binary"


def test_positions_are_those_of_the_decoded_text() -> None:
    """Columns count characters of the decoded text: a Shift-JIS comment before a function
    on its line moves it by 4 characters (8 bytes)."""
    data = (
        "/* \u8a2d\u5b9a\u8aad\u8fbc\u307f\u3092\u884c\u3046\u3002"
        "\u65e5\u672c\u8a9e\u306e\u30b3\u30e1\u30f3\u30c8 */ function loadSettings(path) {\n"
        "  return path;\n}\n"
    ).encode("shift_jis")
    decoded = decode_source(data, "javascript")
    [entity] = extract_entities(decoded.text, "javascript", "settings.js")
    assert entity.name == "loadSettings"
    assert (entity.start_line, entity.end_line) == (1, 3)
    assert decoded.text.splitlines()[0][entity.start_col :].startswith("function loadSettings")
    assert entity.start_col == len("/* ") + 17 + len(" */ ")


def test_legacy_files_are_indexed_searchable_and_reported(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    files = {
        "legacy_latin1.py": LATIN1_COMMENT,
        "smart_quotes.py": SMART_QUOTES,
        "declared.py": PEP_263,
        "settings_sjis.py": SHIFT_JIS,
        "config_gbk.js": GBK,
        "wide.py": codecs.BOM_UTF16_LE + "def wide_chars():\n    return 1\n".encode("utf-16-le"),
        "plain.py": b"def plain_ascii():\n    return 1\n",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    with Workspace(root, Settings(), encoder=FakeEncoder(), store_dir=tmp_path / "s") as ws:
        summary = ws.index()
        assert (summary.files, summary.failed, summary.skipped) == (7, 0, 0)
        names = {hit.name for hit in ws.search("def", limit=50)}
        for expected in ("parse_config", "greet", "cr\u00e8me_br\u00fbl\u00e9e", "load_settings"):
            assert expected in names
        assert {"loadConfig", "wide_chars", "plain_ascii"} <= names
        warned = {p.path: p.warning for p in ws.problems()}
        assert set(warned) == {
            "legacy_latin1.py",
            "smart_quotes.py",
            "settings_sjis.py",
            "config_gbk.js",
        }
        assert all(p.error is None and not p.failures for p in ws.problems())
        warnings = ws.status().problems.warnings
        assert {w.path: w.reason for w in warnings} == dict(sorted(warned.items()))
        assert ws.counts().failed == 0
        again = ws.index()  # a warning is no failure: nothing is read again
        assert (again.unchanged, again.parsed) == (7, 0)
