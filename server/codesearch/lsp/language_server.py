"""`CodesearchServer`: one editor session's state, and the service callbacks moved onto the loop.

Indexing runs on the service's own worker thread and queries on a dedicated query thread,
never on the event loop nor on pygls's thread pool (its stdin reader lives there). Service
callbacks arrive on the worker thread and are handed to the event loop before anything is
sent to the client. The handlers live in the feature modules; `server.create_server` wires
them to a new instance.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from codesearch import __version__
from codesearch.config import Settings
from codesearch.contract import STATUS_NOTIFICATION
from codesearch.embedding.types import DEFAULT_MODEL_NAME
from codesearch.lsp import command_args, framing
from codesearch.lsp.diagnostics import DiagnosticsPublisher
from codesearch.lsp.progress import ProgressBridge
from codesearch.lsp.protocol import CodesearchProtocol
from codesearch.service import IndexService, ProgressEvent, ServiceListener, ServiceStatus, State
from codesearch.workspace import FileProblem

log = logging.getLogger(__name__)
T = TypeVar("T")
ServiceFactory = Callable[[Settings, ServiceListener], IndexService]


def default_service(settings: Settings, listener: ServiceListener) -> IndexService:
    return IndexService(settings, listener)


class CodesearchServer(LanguageServer):
    """One editor session: its settings, its IndexService, and the bridges to the client."""

    def __init__(self, service_factory: ServiceFactory = default_service) -> None:
        super().__init__(
            "codesearch",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.None_,
            protocol_cls=CodesearchProtocol,
        )
        self.service_factory = service_factory
        self.settings = Settings()
        self.init_errors: list[str] = []  # settings errors from initialize, shown once up
        self.service: IndexService | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.progress_bridge: ProgressBridge | None = None
        self.diagnostics = DiagnosticsPublisher(self)
        self.queries = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesearch-query")

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """pygls's stdio loop, with a reader that survives malformed input (see framing)."""
        from pygls.io_ import StdoutWriter

        self._stop_event = stop = threading.Event()
        reader = framing.ExecutorReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(
                framing.read_frames(
                    reader, lambda body: framing.dispatch(self.protocol, body), stop
                )
            )
        except BrokenPipeError:
            log.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    # -- ServiceListener: called on the worker thread, moved onto the loop ------------------
    def _on_loop(self, fn: Callable[..., None], *args: Any) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return

        def run() -> None:
            try:
                fn(*args)
            except Exception:
                log.exception("sending %s failed", getattr(fn, "__name__", fn))

        loop.call_soon_threadsafe(run)

    def on_status(self, status: ServiceStatus) -> None:
        self._on_loop(self.send_status, status)

    def on_progress(self, event: ProgressEvent) -> None:
        if self.progress_bridge is not None:
            self._on_loop(self.progress_bridge.push, event)

    def on_problems(self, root: Path, problems: dict[str, FileProblem | None]) -> None:
        self._on_loop(self.diagnostics.update, root, problems)

    def on_error(self, message: str) -> None:
        self._on_loop(self.show, f"Codesearch: {message}", types.MessageType.Error)

    def on_warning(self, message: str) -> None:
        self._on_loop(self.show, f"Codesearch: {message}", types.MessageType.Warning)

    # -- on the loop -------------------------------------------------------------------------
    def send_status(self, status: ServiceStatus) -> None:
        self.protocol.notify(STATUS_NOTIFICATION, status.to_json())

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    async def in_query_thread(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.queries, fn)

    def status(self) -> ServiceStatus:
        """The service's status; "starting" until `initialized` has created the service."""
        if self.service is None:
            model = self.settings.model or DEFAULT_MODEL_NAME
            return ServiceStatus(State.STARTING, 0, 0, 0, 0, 0, model, None)
        return self.service.status()

    def require_service(self) -> IndexService:
        if self.service is None:
            raise command_args.invalid("the server is not initialized yet")
        return self.service
