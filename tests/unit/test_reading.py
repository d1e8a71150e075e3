"""Reading one source file: exact text, clear refusals, consistent stat and content."""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path

import pytest

from codesearch.index.reading import (
    SourceFile,
    UnreadableFileError,
    format_size,
    read_source,
)

MIB = 1024 * 1024
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def put(tmp_path: Path, data: bytes, name: str = "mod.py") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def can_read(path: Path) -> bool:
    try:
        path.read_bytes()
    except PermissionError:
        return False
    return True


def refusal(path: Path, max_file_size: int = MIB) -> UnreadableFileError:
    with pytest.raises(UnreadableFileError) as caught:
        read_source(path, max_file_size=max_file_size)
    return caught.value


def test_utf8_text_with_stat_facts_from_the_same_handle(tmp_path: Path) -> None:
    data = "def café():\n    return '☕'\n".encode()
    path = put(tmp_path, data)

    source = read_source(path, max_file_size=MIB)

    info = os.stat(path)
    assert source == SourceFile(
        text="def café():\n    return '☕'\n",
        content_hash=hashlib.blake2b(data, digest_size=16).hexdigest(),
        size=len(data),
        mtime_ns=info.st_mtime_ns,
    )
    assert len(source.content_hash) == 32


def test_bom_is_stripped_but_hashed_and_counted(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbfx = 1\n"
    source = read_source(put(tmp_path, data), max_file_size=MIB)

    assert source.text == "x = 1\n"
    assert source.size == len(data)
    assert source.content_hash == hashlib.blake2b(data, digest_size=16).hexdigest()
    assert read_source(put(tmp_path, b"\xef\xbb\xbf", "bom.py"), max_file_size=MIB).text == ""


def test_invalid_utf8_is_read_with_a_warning_naming_the_line(tmp_path: Path) -> None:
    """One Latin-1 byte no longer costs the whole file (issue 14, item 3)."""
    data = b"x = 1\n" * 200 + b"y = '\xe9t\xe9'\n"  # the bad bytes sit on line 201
    source = read_source(put(tmp_path, data), max_file_size=MIB)

    assert source.text.endswith("y = '\u00e9t\u00e9'\n")
    assert source.encoding == "cp1252"
    assert source.warning is not None and "line 201" in source.warning
    assert source.content_hash == hashlib.blake2b(data, digest_size=16).hexdigest()
    assert source.size == len(data)


def test_invalid_utf8_after_a_bom_is_replaced_with_a_warning(tmp_path: Path) -> None:
    source = read_source(put(tmp_path, b"\xef\xbb\xbfab\xc3("), max_file_size=MIB)

    assert source.text == "ab\ufffd("
    assert source.warning is not None and "byte order mark" in source.warning


def test_binary_file_is_refused(tmp_path: Path) -> None:
    error = refusal(put(tmp_path, b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256))))

    assert error.kind == "binary"
    assert error.reason == "binary file (contains NUL bytes)"


def test_nul_after_the_first_8_kib_is_text(tmp_path: Path) -> None:
    data = b"# " + b"a" * 9000 + b"\n\x00\n"
    assert read_source(put(tmp_path, data), max_file_size=MIB).text.endswith("\n\x00\n")


def test_too_large_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.py"
    with open(path, "wb") as handle:
        handle.truncate(50 * MIB)  # sparse: costs no disk

    error = refusal(path, max_file_size=MIB)

    assert error.kind == "too_large"
    assert error.reason == "larger than the 1.0 MiB limit (50.0 MiB)"


def test_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    path = put(tmp_path, b"x" * 100)
    assert read_source(path, max_file_size=100).size == 100
    assert refusal(path, max_file_size=99).kind == "too_large"


def test_vanished_file_is_missing(tmp_path: Path) -> None:
    path = put(tmp_path, b"x = 1\n")
    path.unlink()

    error = refusal(path)

    assert error.kind == "missing"
    assert error.reason == "file vanished before it could be read"


@pytest.mark.skipif(sys.platform == "win32", reason="chmod cannot deny reads on Windows")
def test_permission_denied(tmp_path: Path) -> None:
    path = put(tmp_path, b"x = 1\n")
    path.chmod(0)
    try:
        if IS_ROOT and can_read(path):
            pytest.skip("running as root: a chmod 000 file stays readable")
        error = refusal(path)
    finally:
        path.chmod(0o644)

    assert error.kind == "permission"
    assert error.reason == "permission denied"


def test_folder_is_an_io_error(tmp_path: Path) -> None:
    (tmp_path / "pkg.py").mkdir()
    assert refusal(tmp_path / "pkg.py").kind == "io"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.timeout(10)
def test_named_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")

    error = refusal(tmp_path / "pipe.py")

    assert (error.kind, error.reason) == ("io", "not a regular file")


def test_empty_file_is_fine(tmp_path: Path) -> None:
    source = read_source(put(tmp_path, b""), max_file_size=MIB)

    assert (source.text, source.size) == ("", 0)
    assert source.content_hash == hashlib.blake2b(b"", digest_size=16).hexdigest()


def test_mixed_line_endings_are_kept_exactly(tmp_path: Path) -> None:
    data = b"a = 1\r\nb = 2\nc = 3\rd = 4\r\n\r\n"
    source = read_source(put(tmp_path, data), max_file_size=MIB)

    assert source.text == data.decode()
    assert source.text.count("\r\n") == 3


def test_content_hash_is_stable_and_tracks_the_bytes(tmp_path: Path) -> None:
    first = read_source(put(tmp_path, b"x = 1\n", "a.py"), max_file_size=MIB)
    again = read_source(tmp_path / "a.py", max_file_size=MIB)
    same_bytes = read_source(put(tmp_path, b"x = 1\n", "b.py"), max_file_size=MIB)
    other = read_source(put(tmp_path, b"x = 2\n", "c.py"), max_file_size=MIB)
    crlf = read_source(put(tmp_path, b"x = 1\r\n", "d.py"), max_file_size=MIB)
    bom = read_source(put(tmp_path, b"\xef\xbb\xbfx = 1\n", "e.py"), max_file_size=MIB)

    assert first.content_hash == again.content_hash == same_bytes.content_hash
    hashes = {first.content_hash, other.content_hash, crlf.content_hash, bom.content_hash}
    assert len(hashes) == 4
    assert bom.text == first.text  # same text, different file: the hash follows the bytes


def _append_on_fstat(monkeypatch: pytest.MonkeyPatch, path: Path, times: int) -> None:
    """Make the file really change between the first stat and the read, ``times`` times."""
    real_fstat = os.fstat
    calls = {"n": 0}

    def fstat_then_append(fd: int) -> os.stat_result:
        result = real_fstat(fd)
        if calls["n"] < times:
            calls["n"] += 1
            with open(path, "ab") as handle:
                handle.write(b"# edited\n")
        return result

    monkeypatch.setattr(os, "fstat", fstat_then_append)


def test_file_changed_while_read_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = put(tmp_path, b"x = 1\n")
    _append_on_fstat(monkeypatch, path, times=1)

    source = read_source(path, max_file_size=MIB)

    assert source.text == "x = 1\n# edited\n"
    assert source.size == len(source.text)


def test_file_that_keeps_changing_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = put(tmp_path, b"x = 1\n")
    _append_on_fstat(monkeypatch, path, times=1000)

    error = refusal(path)

    assert (error.kind, error.reason) == ("io", "changed while being read")


def test_error_survives_pickling(tmp_path: Path) -> None:
    error = UnreadableFileError("permission denied", "permission", tmp_path / "a.py")
    copy = pickle.loads(pickle.dumps(error))

    assert (copy.reason, copy.kind, copy.path) == (error.reason, error.kind, error.path)


def test_negative_limit_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        read_source(put(tmp_path, b""), max_file_size=-1)


def test_format_size() -> None:
    assert format_size(512) == "512 bytes"
    assert format_size(MIB) == "1.0 MiB"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(3 * 1024 * MIB) == "3.0 GiB"
