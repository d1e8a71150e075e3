"""A JSON-RPC client for a server created in this process (`create_server`).

Messages go in as bytes through the same `framing.dispatch` the stdio reader uses and come
out through the server's writer, so handlers run exactly as they do behind stdio, on the
test's event loop. Requests the server sends (configuration, watcher registration, progress
tokens) are answered the way VS Code answers them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

from tests.support.fakes import FakeEncoder

from codesearch.config import Settings
from codesearch.lsp import framing
from codesearch.lsp.server import CodesearchServer, create_server
from codesearch.service import IndexService, ServiceListener


class ResponseError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", ""))
        self.code = int(error.get("code", 0))


def fake_service(settings: Settings, listener: ServiceListener) -> IndexService:
    """The real IndexService over the fake encoder: fast and deterministic."""
    return IndexService(settings, listener, encoder=FakeEncoder(), debounce_s=0.05)


class InProcessClient:
    def __init__(
        self,
        server: CodesearchServer | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> None:
        self.server = server or create_server(fake_service)
        self.configuration = configuration or {}
        self.received: list[dict[str, Any]] = []  # every message the server sent, in order
        self._ids = itertools.count(1)
        self._waiting: dict[Any, asyncio.Future[Any]] = {}
        self.server.protocol.set_writer(self)

    # -- the server's writer -------------------------------------------------------------
    def write(self, data: bytes) -> None:
        body = data.split(b"\r\n\r\n", 1)[1]
        message = json.loads(body)
        self.received.append(message)
        loop = asyncio.get_running_loop()
        if "method" in message and "id" in message:
            loop.call_soon(self._answer, message)
        elif "id" in message and message["id"] in self._waiting:
            future = self._waiting.pop(message["id"])
            if not future.done():
                future.set_result(message)

    def close(self) -> None:
        pass

    def _answer(self, request: dict[str, Any]) -> None:
        result: Any = None
        if request["method"] == "workspace/configuration":
            result = [self.configuration for _ in request["params"]["items"]]
        self._send({"jsonrpc": "2.0", "id": request["id"], "result": result})

    def _send(self, message: dict[str, Any]) -> None:
        framing.dispatch(self.server.protocol, json.dumps(message).encode())

    # -- the client's side ---------------------------------------------------------------
    async def request(self, method: str, params: Any = None, timeout: float = 30) -> Any:
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, timeout)
        if "error" in reply:
            raise ResponseError(reply["error"])
        return reply.get("result")

    def notify(self, method: str, params: Any = None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    async def command(self, command: str, *arguments: Any) -> Any:
        return await self.request(
            "workspace/executeCommand", {"command": command, "arguments": list(arguments)}
        )

    def notifications(self, method: str) -> list[Any]:
        return [m["params"] for m in self.received if m.get("method") == method and "id" not in m]

    async def initialize(
        self, roots: list[Path], capabilities: dict[str, Any] | None = None, **options: Any
    ) -> dict[str, Any]:
        result = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": roots[0].as_uri() if roots else None,
                "capabilities": capabilities if capabilities is not None else VSCODE_LIKE,
                "workspaceFolders": [{"uri": r.as_uri(), "name": r.name} for r in roots],
                "initializationOptions": options or None,
            },
        )
        self.notify("initialized", {})
        return dict(result)

    def statuses(self) -> list[dict[str, Any]]:
        return list(self.notifications("codesearch/status"))

    async def wait_idle(self, after: int = 0, timeout: float = 30) -> dict[str, Any]:
        """The first idle status at or after index `after` with nothing pending."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for status in self.statuses()[after:]:
                if status["state"] == "idle" and status["pending"] == 0:
                    return status
            await asyncio.sleep(0.02)
        raise AssertionError(f"no idle status within {timeout}s: {self.statuses()[-3:]}")

    async def shutdown(self) -> None:
        await self.request("shutdown")
        self.server.shutdown()  # type: ignore[no-untyped-call]


# What VS Code advertises of what this server uses.
VSCODE_LIKE: dict[str, Any] = {
    "workspace": {
        "configuration": True,
        "workspaceFolders": True,
        "didChangeWatchedFiles": {"dynamicRegistration": True},
    },
    "window": {"workDoneProgress": True},
    "textDocument": {"synchronization": {"didSave": True, "dynamicRegistration": True}},
}
