"""Turn a source file's bytes into its text, whatever its encoding, or say it is not text.

Legacy code is often not UTF-8: a Latin-1 comment, Windows smart quotes, a Shift-JIS or GBK
file. Refusing such a file drops every function in it for one byte, so the text is read
in this order, and a file that needed a guess carries a warning for the user:

1. a byte order mark (UTF-8, UTF-16, UTF-32) says the encoding;
2. UTF-8, the common case (a file that is valid UTF-8 is read as UTF-8, as editors show it);
3. a coding declaration the language defines (PEP 263 in Python, the magic comment in Ruby);
4. charset-normalizer's detection, kept only for encodings in which ASCII is ASCII, so
   the code's own characters and its line breaks read the same;
5. UTF-8 with the undecodable bytes replaced, when the file is mostly plain ASCII text.

Anything else (NUL bytes without a UTF-16/32 byte order mark, or bytes that no encoding
reads as text) is binary. Nothing here reads files or keeps state.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

BINARY_SNIFF_BYTES = 8192
UTF8 = "utf-8"
# Longest marks first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, UTF8),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# PEP 263 (and Ruby's magic comment): "coding[:=] name" in a comment on line 1 or 2.
_CODING_LINE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_DECLARING_LANGUAGES = frozenset({"python", "ruby"})
# Characters source code is made of: an encoding that reads these bytes differently is not
# one a source file can be in (UTF-16 without a mark, EBCDIC).
_ASCII_PROBE = bytes(range(0x09, 0x0E)) + bytes(range(0x20, 0x7F))
PREFERRED_GUESS = "cp1252"
# Below this share of printable ASCII, bytes that no encoding explains are not source code.
_MIN_ASCII_SHARE = 0.9


class NotText(Exception):
    """The bytes are not text in any encoding worth reading; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # the Python codec name the text was read with
    warning: str | None = None  # set when the encoding was a guess or bytes were replaced


def decode_source(data: bytes, language: str = "") -> DecodedText:
    """The text of a source file's bytes; raises NotText for binary data.

    `language` (as the parsers name it) decides whether a coding declaration applies.
    """
    for mark, encoding in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return _decode_marked(data[len(mark) :], encoding)
    if b"\x00" in data[:BINARY_SNIFF_BYTES]:
        raise NotText("binary file (contains NUL bytes)")
    try:
        return DecodedText(data.decode(UTF8), UTF8)
    except UnicodeDecodeError as exc:
        problem = f"not valid UTF-8 ({exc.reason} at line {_line_of(data, exc.start)})"
    declared = _declared_encoding(data) if language in _DECLARING_LANGUAGES else None
    if declared is not None:
        encoding, note = declared
        if note is None:
            try:
                return DecodedText(data.decode(encoding), encoding)
            except UnicodeDecodeError as exc:
                note = f"declares {encoding} but is not ({exc.reason} at line "
                note += f"{_line_of(data, exc.start)})"
        problem = f"{problem}; {note}"
    return _detect(data, problem)


def _decode_marked(body: bytes, encoding: str) -> DecodedText:
    """Text after a byte order mark; bytes the marked encoding cannot read are replaced."""
    try:
        return DecodedText(body.decode(encoding), encoding)
    except UnicodeDecodeError as exc:
        where = f"{exc.reason} at byte {exc.start}"
        text = body.decode(encoding, "replace")
        return DecodedText(
            text,
            encoding,
            f"not valid {encoding} despite its byte order mark ({where}): "
            "the bytes that could not be read were replaced",
        )


def _declared_encoding(data: bytes) -> tuple[str, str | None] | None:
    """(codec, None) for a usable coding declaration; (name, why not) for a declaration
    that cannot be used; None when there is none."""
    lines = data.split(b"\n", 2)[:2]
    for number, line in enumerate(lines):
        found = _CODING_LINE.match(line)
        if found is not None:
            name = found.group(1).decode("ascii", "replace")
            try:
                encoding = codecs.lookup(name).name
            except LookupError:
                return name, f"its coding line names an unknown encoding {name!r}"
            if not _reads_ascii_as_ascii(encoding):
                return name, f"its coding line names {name!r}, which is not ASCII-compatible"
            return encoding, None
        stripped = line.strip()
        if number == 0 and stripped and not stripped.startswith(b"#"):
            return None  # PEP 263: line 2 counts only below a comment or blank line 1
    return None


def _detect(data: bytes, problem: str) -> DecodedText:
    """The best reading of bytes that are not UTF-8 and declare nothing usable."""
    lenient = data.decode(UTF8, "replace")
    replaced = lenient.count("\ufffd") - data.decode(UTF8, "ignore").count("\ufffd")
    if sum(1 for char in lenient if char > "\x7f" and char != "\ufffd") > replaced:
        # UTF-8 text with a few stray bytes (edited in two editors): any single-byte
        # encoding would garble every real UTF-8 character to save the stray ones. (In
        # other encodings and in random bytes, chance UTF-8 sequences are a minority.)
        return DecodedText(lenient, UTF8, f"{problem}: read as UTF-8, {_bytes(replaced)} replaced")
    for encoding in _guesses(data):
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if text.count("\n") == data.count(b"\n"):
            return DecodedText(text, encoding, f"{problem}: read as {encoding} (detected)")
    printable = sum(1 for byte in data if 0x20 <= byte < 0x7F or byte in b"\t\n\r\f")
    if printable / len(data) < _MIN_ASCII_SHARE:
        raise NotText("binary file (not text in any known encoding)")
    return DecodedText(lenient, UTF8, f"{problem}: no encoding fits; {_bytes(replaced)} replaced")


def _guesses(data: bytes) -> list[str]:
    """Encodings charset-normalizer finds plausible, best first, ASCII-compatible only.

    Short files are ambiguous (one accented letter reads as well in a dozen code pages):
    when Windows-1252, the usual legacy encoding of Western source code, reads them as
    well as the best, it goes first.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return []
    least_chaos = min(match.chaos for match in matches)
    tied = [match for match in matches if match.chaos == least_chaos]
    names = [matches[0].encoding]
    if any(PREFERRED_GUESS in match.could_be_from_charset for match in tied):
        names.insert(0, PREFERRED_GUESS)
    found: list[str] = []
    for name in names:
        try:
            encoding = codecs.lookup(name).name
        except LookupError:
            continue
        if encoding not in found and _reads_ascii_as_ascii(encoding):
            found.append(encoding)
    return found


def _reads_ascii_as_ascii(encoding: str) -> bool:
    try:
        return _ASCII_PROBE.decode(encoding) == _ASCII_PROBE.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


def _bytes(count: int) -> str:
    return f"{count} unreadable byte{'' if count == 1 else 's'}"


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
