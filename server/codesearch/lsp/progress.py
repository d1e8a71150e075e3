"""Work-done progress for indexing runs: a fresh token per run, `end` always sent."""

from __future__ import annotations

import asyncio
import logging
import uuid

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codesearch.service import ProgressEvent

log = logging.getLogger(__name__)
CREATE_TIMEOUT_S = 5.0


class ProgressBridge:
    """Turns the service's progress events into `$/progress`, in order, on the event loop.

    Only for clients that advertise `window.workDoneProgress`; a client that never answers
    `window/workDoneProgress/create` costs a short timeout, not a hang.
    """

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self._queue: asyncio.Queue[ProgressEvent] = asyncio.Queue()
        self._token: str | None = None
        self._run: int | None = None
        self._task = asyncio.get_running_loop().create_task(self._drain())
        self._task.add_done_callback(_log_failure)

    @property
    def current_token(self) -> str | None:
        return self._token

    def supported(self) -> bool:
        caps = self.server.client_capabilities
        return bool(caps.window and caps.window.work_done_progress)

    def push(self, event: ProgressEvent) -> None:
        self._queue.put_nowait(event)

    async def _drain(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._handle(event)
            except Exception:
                log.exception("progress %s failed", event.kind)

    async def _handle(self, event: ProgressEvent) -> None:
        if not self.supported():
            return
        progress = self.server.work_done_progress
        if event.kind == "begin":
            token = f"codesearch-index-{uuid.uuid4().hex[:12]}"
            try:
                await asyncio.wait_for(progress.create_async(token), CREATE_TIMEOUT_S)
            except Exception as exc:
                log.warning("client did not create a progress token: %s", exc)
                return
            self._token, self._run = token, event.run
            progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title="Codesearch",
                    message=event.message,
                    percentage=_percent(event),
                    cancellable=True,
                ),
            )
        elif self._token is None or event.run != self._run:
            return
        elif event.kind == "report":
            progress.report(
                self._token,
                types.WorkDoneProgressReport(message=event.message, percentage=_percent(event)),
            )
        elif event.kind == "end":
            token, self._token, self._run = self._token, None, None
            progress.end(token, types.WorkDoneProgressEnd(message=event.message))
            progress.tokens.pop(token, None)

    def close(self) -> None:
        self._task.cancel()


def _percent(event: ProgressEvent) -> int:
    return int(100 * event.done / event.total) if event.total else 0


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("progress task ended", exc_info=task.exception())
