"""A small LSP client over raw stdio pipes, for tests that need what pytest-lsp hides.

It can write malformed bytes, kill the server with SIGKILL at any moment, read the server's
pid (for RSS) and watch the server's stderr for a log line. Reader threads drain stdout and
stderr all the time, so the server never blocks on a full pipe.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SERVE = [sys.executable, "-m", "codesearch", "serve", "--log-level", "info"]
STATUS = "codesearch/status"


class ServerGone(AssertionError):
    pass


def frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: dict[str, Any]) -> bytes:
    return frame(json.dumps(message).encode())


class RawServer:
    """`codesearch serve` in a subprocess, driven by hand."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        command: Sequence[str] = SERVE,
        cwd: Path | None = None,
    ) -> None:
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=str(cwd) if cwd else None,
        )
        self.started = time.monotonic()
        self.messages: list[dict[str, Any]] = []  # everything the server sent, in order
        self.stderr_lines: list[str] = []
        self._responses: dict[Any, dict[str, Any]] = {}
        self._cond = threading.Condition()
        self._next_id = 0
        self._write_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- reading ----------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self._closed()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii", "replace").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length is None:
                continue
            body = stream.read(length)
            if len(body) < length:
                self._closed()
                return
            message = json.loads(body)
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # a request from the server
            result: Any = [None] if message["method"] == "workspace/configuration" else None
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        with self._cond:
            self.messages.append(message)
            if "id" in message and "method" not in message:
                self._responses[message["id"]] = message
            self._cond.notify_all()

    def _closed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _read_stderr(self) -> None:
        stream = self.proc.stderr
        assert stream is not None
        for raw in stream:
            with self._cond:
                self.stderr_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()

    # -- writing ----------------------------------------------------------------------------
    def send_bytes(self, data: bytes) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        with self._write_lock:
            stdin.write(data)
            stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(encode(message))

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def request_async(self, method: str, params: Any = None) -> int:
        with self._cond:
            self._next_id += 1
            msg_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def response(self, msg_id: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self._responses:
                if self.proc.poll() is not None:
                    raise ServerGone(f"server exited ({self.proc.returncode}) before answering")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no response to request {msg_id!r} in {timeout}s")
                self._cond.wait(min(left, 0.2))
            return self._responses.pop(msg_id)

    def request(self, method: str, params: Any = None, timeout: float = 30.0) -> dict[str, Any]:
        return self.response(self.request_async(method, params), timeout)

    def command(self, name: str, *arguments: Any, timeout: float = 60.0) -> dict[str, Any]:
        return self.request(
            "workspace/executeCommand",
            {"command": name, "arguments": list(arguments)},
            timeout,
        )

    # -- session ----------------------------------------------------------------------------
    def initialize(
        self, roots: Sequence[Path], options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": roots[0].as_uri() if roots else None,
                "workspaceFolders": [{"uri": r.as_uri(), "name": r.name} for r in roots],
                "capabilities": {},
                "initializationOptions": options or {},
            },
            timeout=60.0,
        )
        self.notify("initialized", {})
        return result

    def shutdown(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            try:
                self.request("shutdown", timeout=timeout)
                self.notify("exit")
            except (OSError, AssertionError):
                pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(30)

    # -- observing --------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def notifications(self, method: str) -> list[Any]:
        with self._cond:
            return [m.get("params") for m in self.messages if m.get("method") == method]

    @property
    def statuses(self) -> list[dict[str, Any]]:
        return self.notifications(STATUS)

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 60.0, what: str = "condition"
    ) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                if self.proc.poll() is not None:
                    value = predicate()
                    if value:
                        return value
                    tail = "\n".join(self.stderr_lines[-30:])
                    raise ServerGone(
                        f"server exited ({self.proc.returncode}) waiting for {what}:\n{tail}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = "\n".join(self.stderr_lines[-30:])
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}:\n{tail}")
                self._cond.wait(min(left, 0.2))

    def wait_stderr(self, text: str, timeout: float = 120.0) -> None:
        self.wait_for(lambda: any(text in line for line in self.stderr_lines), timeout, repr(text))

    def wait_idle(self, after: int = 0, timeout: float = 180.0) -> dict[str, Any]:
        def idle() -> dict[str, Any] | None:
            for status in self.statuses[after:]:
                if status["state"] == "idle" and status["pending"] == 0:
                    return status
            return None

        return self.wait_for(idle, timeout, "an idle status")  # type: ignore[no-any-return]

    def rss_kb(self) -> int:
        return rss_kb(self.proc.pid)


def rss_kb(pid: int) -> int:
    """Resident set size of a process, from /proc/<pid>/status (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")
