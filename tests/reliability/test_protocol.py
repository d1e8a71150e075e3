"""Protocol robustness: the real server over raw stdio, fed malformed JSON-RPC.

Every request that can be answered gets a JSON-RPC error with its id; bytes that are not a
message are skipped until the next header; the server stays alive and keeps its index;
requests about files outside the workspace are refused or ignored, and nothing is written
anywhere but the store.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.rawlsp import RawServer, encode, frame
from tests.reliability.support import FIXTURE, child_env, snapshot

from codesearch.locations import workspace_store_dir

pytestmark = pytest.mark.slow

PARSE_ERROR, INVALID_REQUEST, METHOD_NOT_FOUND, INVALID_PARAMS = -32700, -32600, -32601, -32602


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file and folder under root with its size and mtime: a write shows up here."""
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            found[str(path.relative_to(root))] = (info.st_size, info.st_mtime_ns)
    return found


BASELINE_QUERIES = ("retry failed uploads", "compute_checksum", "validate email address")


def _changed(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


class Session:
    def __init__(self, server: RawServer, root: Path, outside: Path, base: Path) -> None:
        self.server = server
        self.root = root
        self.outside = outside
        self.base = base
        self.faults = 0
        self.baseline = self.answers()  # before any fault

    def answers(self) -> dict[str, Any]:
        """What a user sees of the index: its counts and the answers to a few queries."""
        status = self.server.command("codesearch.status")["result"]
        found: dict[str, Any] = {"entities": status["entities"], "files": status["files"]}
        for query in BASELINE_QUERIES:
            hits = self.server.command("codesearch.search", {"query": query, "limit": 5})
            found[query] = [(h["uri"], h["name"], round(h["score"], 5)) for h in hits["result"]]
        symbols = self.server.request("workspace/symbol", {"query": "checksum"})["result"]
        found["symbols"] = [(s["name"], s["location"]["uri"]) for s in symbols]
        return found

    def error_for(self, raw: bytes, msg_id: Any, code: int) -> dict[str, Any]:
        """Send raw bytes; the answer must be an error with this id and code."""
        self.faults += 1
        self.server.send_bytes(raw)
        reply = self.server.response(msg_id, timeout=30)
        assert "error" in reply and reply["error"]["code"] == code, reply
        self.assert_alive()
        return reply

    def request_error(self, method: str, params: Any, code: int = INVALID_PARAMS) -> str:
        self.faults += 1
        reply = self.server.request(method, params, timeout=30)
        assert "error" in reply and reply["error"]["code"] == code, reply
        self.assert_alive()
        return str(reply["error"]["message"])

    def survives(self, raw: bytes) -> None:
        """Bytes with no id to answer: the server must find the next message and go on."""
        self.faults += 1
        self.server.send_bytes(raw)
        self.assert_alive()

    def assert_alive(self) -> None:
        """The server answers a request again (a few may be swallowed by a lying length)."""
        sent = [
            self.server.request_async("workspace/executeCommand", {"command": "codesearch.status"})
            for _ in range(12)
        ]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.server.alive(), "\n".join(self.server.stderr_lines[-30:])
            for msg_id in sent:
                try:
                    reply = self.server.response(msg_id, timeout=0.05)
                except AssertionError:
                    continue
                if "result" in reply:
                    assert reply["result"]["state"] in ("idle", "indexing", "starting")
                    return
        raise AssertionError("the server stopped answering")


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    import shutil

    top = tmp_path_factory.mktemp("protocol")
    root = top / "ws"
    shutil.copytree(FIXTURE, root)
    outside = top / "outside"
    outside.mkdir()
    (outside / "elsewhere.py").write_text("def outside_function():\n    return 'not yours'\n")
    cwd = top / "cwd"
    cwd.mkdir()
    base = top / "cache"
    server = RawServer(child_env(CODESEARCH_CACHE_DIR=str(base)), cwd=cwd)
    try:
        server.initialize([root])
        server.wait_idle()
        yield Session(server, root, outside, base)
        assert server.shutdown() == 0
    finally:
        server.kill()
    assert list(cwd.iterdir()) == []


def test_invalid_json_and_non_objects_get_errors(session: Session) -> None:
    session.error_for(frame(b"{not json"), None, PARSE_ERROR)
    session.error_for(frame(b'{"jsonrpc": "2.0", "id": 7, "method": '), None, PARSE_ERROR)
    session.error_for(frame(b"\xff\xfe\x00garbage"), None, PARSE_ERROR)
    for body in (b"[1, 2]", b'"text"', b"42", b"null", b"[]"):
        session.error_for(frame(body), None, INVALID_REQUEST)
    session.error_for(
        encode({"jsonrpc": "1.0", "id": "p8", "method": "shutdown"}), "p8", INVALID_REQUEST
    )
    session.error_for(
        encode({"jsonrpc": "2.0", "id": {"a": 1}, "method": "x"}), None, INVALID_REQUEST
    )
    session.error_for(encode({"jsonrpc": "2.0", "id": True, "method": "x"}), None, INVALID_REQUEST)
    session.error_for(encode({"jsonrpc": "2.0", "id": "p9", "method": 5}), "p9", INVALID_REQUEST)
    session.error_for(
        encode({"jsonrpc": "2.0", "id": "p10", "method": None}), "p10", INVALID_REQUEST
    )
    session.error_for(encode({"jsonrpc": "2.0"}), None, INVALID_REQUEST)


def test_broken_framing_is_skipped_until_the_next_header(session: Session) -> None:
    session.survives(b"Content-Length: abc\r\n\r\n{}")
    session.survives(b"Content-Length: -5\r\n\r\n{}")
    session.survives(b"Content-Length: 99999999999999999999\r\n\r\n{}")  # never allocated
    session.survives(b'\r\n\r\n{"jsonrpc": "2.0"}')  # a body with no header at all
    session.survives(b"Content-Length: 2\r\n\r\n{}}}}}")  # a body longer than it says
    session.survives(b"Content-Length: 400\r\n\r\n{}")  # shorter than it says: eats what follows
    session.survives(b"Content-Type: application/json\r\nX-Other: 1\r\n\r\n")
    session.survives(os.urandom(100_000).replace(b"\n", b" "))  # noise with no line break
    session.survives(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    session.survives(b"\x00" * 10_000 + b"\r\n")


def test_unknown_methods(session: Session) -> None:
    session.request_error("codesearch/doesNotExist", {}, METHOD_NOT_FOUND)
    session.request_error("textDocument/notAThing", [1, 2, 3], METHOD_NOT_FOUND)
    session.faults += 2
    session.server.notify("unknown/notification", {"x": 1})
    session.server.notify("$/unknownPrivate", None)
    session.assert_alive()


def test_bad_command_arguments_are_logged_as_one_line_not_a_traceback(
    session: Session,
) -> None:
    """A client's bad arguments are the client's mistake: the answer is an InvalidParams
    error, and the log gets one INFO line, not an ERROR with a traceback (issue 14, item 9)."""
    server = session.server
    before = len(server.stderr_lines)
    messages = [
        session.request_error(
            "workspace/executeCommand", {"command": "codesearch.search", "arguments": [{}]}
        ),
        session.request_error(
            "workspace/executeCommand",
            {"command": "codesearch.search", "arguments": [{"query": "x", "limit": 0}]},
        ),
        session.request_error("workspace/executeCommand", {"command": "codesearch.noSuchCommand"}),
    ]
    time.sleep(0.5)  # stderr is read on a thread of its own
    logged = server.stderr_lines[before:]
    assert not [line for line in logged if "Traceback" in line or " ERROR " in line], logged
    refused = [line for line in logged if "invalid params" in line]
    assert len(refused) == len(messages), logged
    assert all(" INFO " in line for line in refused), refused


def test_wrong_parameter_types(session: Session) -> None:
    session.request_error("workspace/executeCommand", [1, 2])
    session.request_error("workspace/executeCommand", {"command": 5})
    session.request_error(
        "workspace/executeCommand", {"command": "codesearch.search", "arguments": [42]}
    )
    session.request_error(
        "workspace/executeCommand", {"command": "codesearch.search", "arguments": [{"query": 5}]}
    )
    session.request_error(
        "workspace/executeCommand",
        {"command": "codesearch.search", "arguments": [{"query": "x", "limit": -1}]},
    )
    session.request_error(
        "workspace/executeCommand",
        {"command": "codesearch.search", "arguments": [{"query": "x", "limit": "10"}]},
    )
    session.request_error(
        "workspace/executeCommand",
        {"command": "codesearch.search", "arguments": [{"query": "x", "kind": "module"}]},
    )
    session.request_error(
        "workspace/executeCommand", {"command": "codesearch.findSimilar", "arguments": [{"uri": 5}]}
    )
    session.request_error(
        "workspace/executeCommand",
        {
            "command": "codesearch.findSimilar",
            "arguments": [
                {"uri": session.root.as_uri() + "/uploader/upload.py", "position": {"line": "x"}}
            ],
        },
    )
    session.request_error(
        "workspace/executeCommand",
        {"command": "codesearch.reindex", "arguments": [{"force": "yes"}]},
    )
    session.request_error("workspace/executeCommand", {"command": "codesearch.noSuchCommand"})
    session.request_error("workspace/symbol", "just a string")
    for notification, params in (
        ("textDocument/didSave", {"textDocument": {"uri": 42}}),
        ("textDocument/didSave", "oops"),
        ("workspace/didChangeWatchedFiles", {"changes": [{"uri": 1, "type": "created"}]}),
        ("workspace/didChangeConfiguration", {"settings": {"codesearch": {"batchSize": "many"}}}),
        ("workspace/didChangeWorkspaceFolders", {"event": {"added": "x", "removed": None}}),
        ("$/cancelRequest", {"id": {"not": "an id"}}),
        ("window/workDoneProgress/cancel", {"token": 3.5}),
    ):
        session.faults += 1
        session.server.notify(notification, params)
        session.assert_alive()


def test_files_outside_the_workspace_are_refused_and_nothing_is_written(
    session: Session, figures: dict[str, Any]
) -> None:
    server, root, outside = session.server, session.root, session.outside
    before_ws, before_out = _tree(root), _tree(outside)
    entities = server.command("codesearch.status")["result"]["entities"]
    secret = outside / "elsewhere.py"
    message = session.request_error(
        "workspace/executeCommand",
        {
            "command": "codesearch.findSimilar",
            "arguments": [{"uri": secret.as_uri(), "position": {"line": 0, "character": 0}}],
        },
    )
    assert "not inside a workspace folder" in message
    uris = [secret.as_uri(), "file:///etc/passwd", root.as_uri() + "/../outside/elsewhere.py"]
    for uri in uris:
        server.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": 1,
                    "text": "def injected(): pass",
                }
            },
        )
        server.notify("textDocument/didSave", {"textDocument": {"uri": uri}})
        server.notify(
            "workspace/didChangeWatchedFiles",
            {"changes": [{"uri": uri, "type": t} for t in (1, 2, 3)]},
        )
        session.faults += 3
    server.notify("textDocument/didSave", {"textDocument": {"uri": "untitled:Untitled-1"}})
    time.sleep(1.0)  # longer than the save debounce
    session.assert_alive()
    status = server.wait_idle(after=len(server.statuses) - 1)
    assert status["entities"] == entities
    hits = server.command("codesearch.search", {"query": "outside function not yours", "limit": 50})
    assert all("outside" not in h["uri"] and h["name"] != "injected" for h in hits["result"])
    written = _changed(before_ws, _tree(root)) | _changed(before_out, _tree(outside))
    figures.update(files_written_outside_store=len(written))
    assert written == set()
    store = workspace_store_dir(root, session.base)
    paths = set(snapshot(store).manifests)
    assert paths and all(not p.startswith(("/", "..")) and (root / p).is_file() for p in paths)
    assert sorted(p.name for p in session.base.iterdir()) == [store.name]


def test_the_index_and_its_answers_survive_every_fault(
    session: Session, figures: dict[str, Any]
) -> None:
    """Runs after the other tests of this file (file order): after every fault they sent,
    the same server process answers exactly as it did before the first one. Run alone, it
    sends a short burst of faults itself first."""
    if session.faults == 0:
        session.error_for(frame(b"{not json"), None, PARSE_ERROR)
        session.survives(b"Content-Length: 400\r\n\r\n{}")
        session.request_error("codesearch/doesNotExist", {}, METHOD_NOT_FOUND)
        session.request_error("workspace/symbol", "just a string")
    assert session.answers() == session.baseline
    assert session.server.alive()
    errors = [s for s in session.server.statuses if s["state"] == "error"]
    assert errors == [], errors[:1]
    figures.update(faults_injected=session.faults, server_crashes=0)
