"""Read one source file safely, or say in one sentence why it cannot be indexed.

The text is returned as stored (only a byte order mark is dropped; decoding.py says how
bytes that are not UTF-8 are read), so line and column numbers match the decoded text.
Size, mtime and content come from one open file handle, so an editor replacing the file
mid-read cannot mix two versions. The content hash is of the raw bytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from codesearch.index.decoding import NotText, decode_source

UnreadableKind = Literal["binary", "too_large", "missing", "permission", "io"]
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    # A FIFO named like a source file would block open() forever; refused below instead.
    | getattr(os, "O_NONBLOCK", 0)
)


@dataclass(frozen=True)
class SourceFile:
    """A file's text plus the facts change detection compares (hash of the raw bytes)."""

    text: str
    content_hash: str
    size: int
    mtime_ns: int
    encoding: str = "utf-8"
    warning: str | None = None  # read, but its encoding was a guess (decoding.py)


class UnreadableFileError(Exception):
    """A file that cannot be indexed; ``reason`` is a sentence fit for a diagnostic."""

    def __init__(self, reason: str, kind: UnreadableKind, path: Path | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: UnreadableKind = kind
        self.path = path

    def __reduce__(self) -> tuple[type[UnreadableFileError], tuple[str, str, Path | None]]:
        # Keep the extra fields when sent across a process boundary.
        return (type(self), (self.reason, self.kind, self.path))


def content_hash(data: bytes) -> str:
    """The content hash stored in manifests: blake2b, 16-byte digest, hex."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def format_size(size: int) -> str:
    """A human size such as "1.0 MiB" for messages."""
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def _too_large(size: int, limit: int, path: Path) -> UnreadableFileError:
    return UnreadableFileError(
        f"larger than the {format_size(limit)} limit ({format_size(size)})", "too_large", path
    )


def _os_error(exc: OSError, path: Path) -> UnreadableFileError:
    if isinstance(exc, FileNotFoundError):
        return UnreadableFileError("file vanished before it could be read", "missing", path)
    if isinstance(exc, PermissionError):
        return UnreadableFileError("permission denied", "permission", path)
    if isinstance(exc, IsADirectoryError):
        return UnreadableFileError("is a folder, not a file", "io", path)
    if exc.errno == errno.ELOOP:
        return UnreadableFileError("symbolic link loop", "io", path)
    detail = exc.strerror or str(exc)
    return UnreadableFileError(f"read error: {detail}", "io", path)


def _read_up_to(fd: int, limit: int) -> bytes:
    """Read until EOF or ``limit`` bytes; os.read may return short counts."""
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_once(path: Path, max_file_size: int) -> tuple[bytes, os.stat_result] | None:
    """One open/fstat/read/fstat round; None when the file changed while being read."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise _os_error(exc, path) from None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise UnreadableFileError("not a regular file", "io", path)
        if before.st_size > max_file_size:
            raise _too_large(before.st_size, max_file_size, path)
        # One byte more than the limit shows growth past it without reading it all.
        data = _read_up_to(fd, max_file_size + 1)
        after = os.fstat(fd)
    except OSError as exc:
        raise _os_error(exc, path) from None
    finally:
        os.close(fd)
    if len(data) > max_file_size:
        raise _too_large(max(after.st_size, len(data)), max_file_size, path)
    if (
        len(data) != before.st_size
        or after.st_size != before.st_size
        or after.st_mtime_ns != before.st_mtime_ns
    ):
        return None
    return data, after


def read_source(path: Path, *, max_file_size: int, language: str = "") -> SourceFile:
    """Read a source file for indexing; raises UnreadableFileError with a clear reason.

    Checks, in order: the file exists and is readable, is a regular file, is within
    ``max_file_size`` (refused before reading it), and is text (decoding.py; `language`
    decides whether a coding declaration applies). A file that changes while being read
    is read once more before giving up.
    """
    if max_file_size < 0:
        raise ValueError(f"max_file_size must be >= 0, got {max_file_size}")
    path = Path(path)
    for _attempt in range(2):
        outcome = _read_once(path, max_file_size)
        if outcome is not None:
            break
    else:
        raise UnreadableFileError("changed while being read", "io", path)
    data, info = outcome
    try:
        decoded = decode_source(data, language)
    except NotText as exc:
        raise UnreadableFileError(exc.reason, "binary", path) from None
    return SourceFile(
        text=decoded.text,
        content_hash=content_hash(data),
        size=len(data),
        mtime_ns=info.st_mtime_ns,
        encoding=decoded.encoding,
        warning=decoded.warning,
    )
