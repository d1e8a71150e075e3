"""The server's protocol: document sync that asks for saves only, and quiet bad requests.

The index follows files on disk, never unsaved buffers. pygls advertises `openClose` and
incremental `change` whenever its built-in document handlers exist (they always do), which
makes an editor send every opened file and every keystroke. This protocol advertises
`TEXT_SYNC` instead, and a client that sends document text anyway (some do, whatever the
capabilities say) gets it dropped, not stored.

A request with bad arguments (a search without a query, an unknown command) is answered
with an InvalidParams error; pygls also logs every failed request as an ERROR with a
traceback, which made a client's typo look like a server crash in the log. Those are
logged as one INFO line; any other failure still gets pygls's full report.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from concurrent.futures import Future
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger(__name__)

TEXT_SYNC = types.TextDocumentSyncOptions(
    open_close=False,
    change=types.TextDocumentSyncKind.None_,
    save=types.SaveOptions(include_text=False),
)


class CodesearchProtocol(LanguageServerProtocol):
    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        """Answer a request; one that failed on its arguments is logged as one line."""
        error = None if future.cancelled() else future.exception()
        if not isinstance(error, JsonRpcInvalidParams):
            super()._send_handler_result(future, msg_id=msg_id)
            return
        self._request_futures.pop(msg_id, None)
        log.info("request %s refused: invalid params: %s", msg_id, error.message)
        self._send_response(msg_id, error=error.to_response_error())

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        result.capabilities.text_document_sync = TEXT_SYNC
        return result

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        _ignored(types.TEXT_DOCUMENT_DID_OPEN, params.text_document.uri)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        _ignored(types.TEXT_DOCUMENT_DID_CHANGE, params.text_document.uri)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        _ignored(types.TEXT_DOCUMENT_DID_CLOSE, params.text_document.uri)


def _ignored(method: str, uri: str) -> None:
    # debug: a client that ignores the capabilities would log a line per keystroke
    log.debug("ignored %s for %s: not advertised; the index follows saves", method, uri)
