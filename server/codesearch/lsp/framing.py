"""Read LSP messages from stdin without trusting the bytes.

pygls's own reader loses its place for good after one bad header (every later message is
read as a header line), reads any Content-Length it is given into memory, and answers a
request whose params do not fit their type with nothing, so the client waits forever.
This reader finds the next header after garbage, bounds the message size, and answers
every request it cannot hand to pygls with a JSON-RPC error that carries its id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from typing import Any, BinaryIO, Protocol

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 << 20
MAX_LINE_BYTES = 8192
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INTERNAL_ERROR = -32603
# A header that ends the line, possibly after garbage that lost its own line break.
_LENGTH = re.compile(rb"content-length[ \t]*:[ \t]*(\d{1,20})[ \t]*\r?\n\Z", re.IGNORECASE)
_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9-]*[ \t]*:")
_CARRY = 64  # bytes kept from a line that was too long, in case a header starts there


class Reader(Protocol):
    def readline(self, limit: int) -> Awaitable[bytes]: ...

    def read(self, size: int) -> Awaitable[bytes]: ...


class ExecutorReader:
    """Blocking reads of a binary stream, each in an executor thread."""

    def __init__(self, stream: BinaryIO, executor: Executor | None) -> None:
        self._stream = stream
        self._executor = executor

    def readline(self, limit: int) -> Awaitable[bytes]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, self._stream.readline, limit)

    def read(self, size: int) -> Awaitable[bytes]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, self._stream.read, size)


async def read_frames(
    reader: Reader,
    on_body: Callable[[bytes], None],
    stop: threading.Event | None = None,
    *,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> None:
    """Call `on_body` with each message body until end of input (or `stop` is set)."""
    length: int | None = None
    carry = b""
    in_garbage = False
    while stop is None or not stop.is_set():
        chunk = await reader.readline(MAX_LINE_BYTES)
        if not chunk:
            return
        line = carry + chunk
        if not chunk.endswith(b"\n"):  # longer than any header line: keep only its tail
            carry = line[-_CARRY:]
            if not in_garbage:
                log.warning("skipping bytes that are not an LSP header")
                in_garbage = True
            continue
        carry = b""
        if not line.strip():
            if length is None:
                continue  # a stray blank line
            body = await reader.read(length)
            if len(body) < length:
                return  # end of input inside a message
            length = None
            in_garbage = False
            on_body(body)
            continue
        match = _LENGTH.search(line)
        if match is not None:
            if match.start() > 0:
                log.warning("skipped %d bytes before an LSP header", match.start())
            in_garbage = False
            size = int(match.group(1))
            if size > max_bytes:
                log.warning("refusing a %d-byte message (limit %d); skipping it", size, max_bytes)
                length = None
                in_garbage = True
            elif size == 0:
                log.warning("ignoring a message with Content-Length 0")
                length = None
            else:
                length = size
            continue
        if _HEADER.match(line) and not in_garbage:
            continue  # Content-Type or another header we do not need
        if not in_garbage:
            log.warning("skipping bytes that are not an LSP header: %r", line[:80])
            in_garbage = True
        length = None


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def error_response(msg_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def decode_message(protocol: Any, body: bytes) -> tuple[Any | None, dict[str, Any] | None]:
    """(message for pygls, None) or (None, error response to send; its id may be null)."""
    try:
        data = json.loads(body)
    except ValueError as exc:  # includes bytes that are not UTF-8
        return None, error_response(None, PARSE_ERROR, f"Parse error: {exc}")
    if not isinstance(data, dict):
        return None, error_response(None, INVALID_REQUEST, "a message must be a JSON object")
    has_id = "id" in data
    msg_id = data.get("id")
    if has_id and not _valid_id(msg_id):
        return None, error_response(None, INVALID_REQUEST, "id must be a string or an integer")
    reply_id = msg_id if has_id else None
    if data.get("jsonrpc") != "2.0":
        return None, error_response(reply_id, INVALID_REQUEST, 'jsonrpc must be "2.0"')
    is_request = "method" in data
    if is_request and not isinstance(data["method"], str):
        return None, error_response(reply_id, INVALID_REQUEST, "method must be a string")
    if not is_request and not has_id:
        return None, error_response(None, INVALID_REQUEST, "neither a request nor a response")
    try:
        return protocol.structure_message(data), None
    except Exception as exc:
        if not (is_request and has_id):
            log.warning("dropping a message whose fields do not fit their types: %s", exc)
            return None, None  # a notification or a response: nobody waits for an answer
        code = getattr(exc, "code", None)
        code = code if isinstance(code, int) else INTERNAL_ERROR
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        method = data["method"]
        return None, error_response(msg_id, code, f"{method}: invalid message: {text}")


def dispatch(protocol: Any, body: bytes) -> None:
    """Hand one body to pygls, or answer it with an error; never raises but SystemExit."""
    message, error = decode_message(protocol, body)
    if error is not None:
        log.warning("answering a bad message with error %s", error["error"]["message"])
        protocol._send_data(error)
        return
    if message is None:
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("handling a message failed")
