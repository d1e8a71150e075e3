"""The stdin message reader (codesearch.lsp.framing) on its own: byte streams in, bodies out.

The end-to-end protocol tests (test_protocol.py) drive the real server; these pin down the
resynchronisation rules with exact byte streams, fast.
"""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import pytest
from pygls.exceptions import JsonRpcInvalidParams

from codesearch.lsp import framing


class BytesReader:
    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    async def readline(self, limit: int) -> bytes:
        return self._stream.readline(limit)

    async def read(self, size: int) -> bytes:
        return self._stream.read(size)


def frames(data: bytes, max_bytes: int = framing.MAX_MESSAGE_BYTES) -> list[bytes]:
    bodies: list[bytes] = []
    asyncio.run(framing.read_frames(BytesReader(data), bodies.append, max_bytes=max_bytes))
    return bodies


def msg(number: int) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": number, "method": "m"}).encode()
    return (
        b"Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc\r\n\r\n" % len(body) + body
    )


def ids(bodies: list[bytes]) -> list[Any]:
    return [json.loads(b)["id"] for b in bodies]


def test_well_formed_messages_pass_through() -> None:
    assert ids(frames(msg(1) + msg(2) + msg(3))) == [1, 2, 3]


@pytest.mark.parametrize(
    "bad",
    [
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: -3\r\n\r\n{}",
        b"garbage without a line break",
        b"\x00\xff" * 50_000,  # longer than any header line
        b"Content-Length: 0\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"X-Unknown: 1\r\n\r\n{}",
    ],
)
def test_the_next_message_after_garbage_is_found(bad: bytes) -> None:
    assert ids(frames(msg(1) + bad + msg(2) + msg(3)))[-2:] == [2, 3]


def test_a_header_split_across_a_long_garbage_line_is_found() -> None:
    garbage = b"x" * (framing.MAX_LINE_BYTES - 5)  # the header straddles the line limit
    assert ids(frames(garbage + msg(7))) == [7]


def test_an_oversized_message_is_refused_not_read() -> None:
    huge = b"Content-Length: %d\r\n\r\n" % (framing.MAX_MESSAGE_BYTES + 1) + b"{}"
    assert ids(frames(huge + b"\n" + msg(4))) == [4]
    assert frames(b"Content-Length: 50\r\n\r\n" + b"{}" * 40, max_bytes=10) == []


def test_end_of_input_inside_a_message_ends_quietly() -> None:
    assert ids(frames(msg(1) + b"Content-Length: 100\r\n\r\n{")) == [1]


class FakeProtocol:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.handled: list[Any] = []

    def structure_message(self, data: dict[str, Any]) -> Any:
        if data.get("params") == "bad":
            raise JsonRpcInvalidParams()
        return data

    def handle_message(self, message: Any) -> None:
        if message.get("method") == "boom":
            raise RuntimeError("handler failed")
        self.handled.append(message)

    def _send_data(self, data: dict[str, Any]) -> None:
        self.sent.append(data)


@pytest.mark.parametrize(
    ("body", "reply_id", "code"),
    [
        (b"{oops", None, framing.PARSE_ERROR),
        (b"\xff\xfe", None, framing.PARSE_ERROR),
        (b"[]", None, framing.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": [1], "method": "m"}', None, framing.INVALID_REQUEST),
        (b'{"jsonrpc": "1.0", "id": 3, "method": "m"}', 3, framing.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": 4, "method": 4}', 4, framing.INVALID_REQUEST),
        (b'{"jsonrpc": "2.0", "id": "x", "method": "m", "params": "bad"}', "x", -32602),
    ],
)
def test_bad_messages_get_an_error_with_their_id(body: bytes, reply_id: Any, code: int) -> None:
    protocol = FakeProtocol()
    framing.dispatch(protocol, body)
    assert protocol.handled == []
    assert [(r["id"], r["error"]["code"]) for r in protocol.sent] == [(reply_id, code)]


def test_bad_notifications_are_dropped_and_handler_errors_contained() -> None:
    protocol = FakeProtocol()
    framing.dispatch(protocol, b'{"jsonrpc": "2.0", "method": "n", "params": "bad"}')
    framing.dispatch(protocol, b'{"jsonrpc": "2.0", "method": "boom"}')
    framing.dispatch(protocol, b'{"jsonrpc": "2.0", "method": "ok"}')
    assert protocol.sent == [] and [m["method"] for m in protocol.handled] == ["ok"]
