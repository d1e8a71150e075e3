"""The Codesearch language server: thin pygls handlers over the IndexService.

Handlers return at once; indexing runs on the service's own worker thread and queries on a
dedicated query thread, never on the event loop nor on pygls's thread pool (its stdin
reader lives there). Service callbacks arrive on the worker thread and are handed to the
event loop before anything is sent to the client.
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
from codesearch.config import Settings, parse_settings
from codesearch.embedding.model import ModelLoadError
from codesearch.index.scan import IgnoreRules
from codesearch.lsp import commands, framing
from codesearch.lsp.convert import hit_to_json, hit_to_symbol, uri_to_path
from codesearch.lsp.diagnostics import DiagnosticsPublisher
from codesearch.lsp.progress import ProgressBridge
from codesearch.parsing.languages import EXTENSIONS
from codesearch.service import IndexService, ProgressEvent, ServiceStatus, State
from codesearch.workspace import FileProblem

log = logging.getLogger(__name__)
T = TypeVar("T")

STATUS_NOTIFICATION = "codesearch/status"
CONFIG_SECTION = "codesearch"
REQUEST_TIMEOUT_S = 5.0
WATCH_GLOB = "**/*.{" + ",".join(sorted(ext.lstrip(".") for ext in EXTENSIONS)) + "}"
IGNORE_GLOB = "**/{.gitignore,.codesearchignore}"


class CodesearchServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("codesearch", __version__)
        self.settings = Settings()
        self.init_errors: list[str] = []
        self.service: IndexService | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.progress_bridge: ProgressBridge | None = None
        self.diagnostics = DiagnosticsPublisher(self)
        self.queries = ThreadPoolExecutor(max_workers=1, thread_name_prefix="codesearch-query")
        self.status_sent: list[dict[str, Any]] = []

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

    # -- worker-thread callbacks, moved onto the loop ------------------------------------
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

    # -- helpers on the loop ---------------------------------------------------------------
    def send_status(self, status: ServiceStatus) -> None:
        self.protocol.notify(STATUS_NOTIFICATION, status.to_json())

    def show(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    async def in_query_thread(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.queries, fn)

    def status_payload(self) -> dict[str, Any]:
        if self.service is None:
            return ServiceStatus(
                State.STARTING, 0, 0, 0, 0, 0, self.settings.model or "all-MiniLM-L6-v2", None
            ).to_json()
        return self.service.status().to_json()

    def require_service(self) -> IndexService:
        if self.service is None:
            raise commands.invalid("the server is not initialized yet")
        return self.service

    def apply_settings(self, raw: Any, *, source: str) -> None:
        settings, errors = parse_settings(raw)
        for error in errors:
            self.show(f"Codesearch settings ({source}): {error}")
        self.settings = settings
        if self.service is not None:
            self.service.update_settings(settings.with_env_defaults())

    async def pull_configuration(self) -> Any | None:
        """The `codesearch` section from the client, or None if it cannot give one."""
        caps = self.client_capabilities
        if not (caps.workspace and caps.workspace.configuration):
            return None
        try:
            result = await asyncio.wait_for(
                self.workspace_configuration_async(
                    types.ConfigurationParams(
                        items=[types.ConfigurationItem(section=CONFIG_SECTION)]
                    )
                ),
                REQUEST_TIMEOUT_S,
            )
        except Exception as exc:
            log.warning("workspace/configuration failed: %s", exc)
            return None
        if not result:
            return None
        first = result[0]
        return _plain(first)

    async def register_watchers(self) -> None:
        caps = self.client_capabilities
        watched = caps.workspace.did_change_watched_files if caps.workspace else None
        if not (watched and watched.dynamic_registration):
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[
                types.FileSystemWatcher(glob_pattern=WATCH_GLOB),
                types.FileSystemWatcher(glob_pattern=IGNORE_GLOB),
            ]
        )
        registration = types.Registration(
            id="codesearch-watched-files",
            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
            register_options=options,
        )
        try:
            await asyncio.wait_for(
                self.client_register_capability_async(
                    types.RegistrationParams(registrations=[registration])
                ),
                REQUEST_TIMEOUT_S,
            )
        except Exception as exc:
            log.warning("could not register file watchers: %s", exc)

    def workspace_roots(self) -> list[Path]:
        roots: list[Path] = []
        for folder in self.workspace.folders.values():
            path = uri_to_path(folder.uri)
            if path is not None:
                roots.append(path)
        if not roots and self.workspace.root_uri:
            path = uri_to_path(self.workspace.root_uri)
            if path is not None:
                roots.append(path)
        return roots

    def path_changed(self, path: Path) -> None:
        service = self.service
        if service is None:
            return
        if IgnoreRules.is_ignore_file(path.name):
            root = service.root_for(path)
            workspace = service.workspace(root) if root is not None else None
            if root is not None and workspace is not None:
                workspace.rules.invalidate()
                service.add_folder(root)  # ignore rules changed: a full incremental pass
            return
        service.file_changed(path)


server = CodesearchServer()


def _plain(value: Any) -> Any:
    """Client data as plain dicts/lists (pygls may hand over namedtuple-like objects)."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@server.feature(types.INITIALIZE)
def initialize(ls: CodesearchServer, params: types.InitializeParams) -> None:
    settings, errors = parse_settings(_plain(params.initialization_options))
    ls.settings = settings
    ls.init_errors = errors


@server.feature(types.INITIALIZED)
async def initialized(ls: CodesearchServer, params: types.InitializedParams) -> None:
    ls.loop = asyncio.get_running_loop()
    ls.progress_bridge = ProgressBridge(ls)
    for error in ls.init_errors:
        ls.show(f"Codesearch settings: {error}")
    pulled = await ls.pull_configuration()
    if pulled:
        settings, errors = parse_settings(pulled)
        for error in errors:
            ls.show(f"Codesearch settings: {error}")
        ls.settings = settings
    ls.service = IndexService(ls.settings.with_env_defaults(), ls)
    await ls.register_watchers()
    roots = ls.workspace_roots()
    if not ls.settings.enable:
        ls.service.update_settings(ls.settings.with_env_defaults())
    for root in roots:
        ls.service.add_folder(root)
    if not roots:
        ls.send_status(ls.service.status())


@server.feature(types.SHUTDOWN)
async def shutdown(ls: CodesearchServer, *args: Any) -> None:
    service, ls.service = ls.service, None
    if service is not None:
        await asyncio.get_running_loop().run_in_executor(None, service.shutdown)
    if ls.progress_bridge is not None:
        ls.progress_bridge.close()
    ls.queries.shutdown(wait=False, cancel_futures=True)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
def did_save(ls: CodesearchServer, params: types.DidSaveTextDocumentParams) -> None:
    path = uri_to_path(params.text_document.uri)
    if path is not None:
        ls.path_changed(path)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: CodesearchServer, params: types.DidOpenTextDocumentParams) -> None:
    """Nothing to do: the index follows saves and the disk, not unsaved buffers."""


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(
    ls: CodesearchServer, params: types.DidChangeWatchedFilesParams
) -> None:
    service = ls.service
    if service is None:
        return
    removed: list[Path] = []
    for change in params.changes:
        path = uri_to_path(change.uri)
        if path is None:
            continue
        if change.type == types.FileChangeType.Deleted:
            if IgnoreRules.is_ignore_file(path.name):
                ls.path_changed(path)
            else:
                removed.append(path)
        else:
            ls.path_changed(path)
    if removed:
        service.files_removed(removed)


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_workspace_folders(
    ls: CodesearchServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    service = ls.service
    if service is None:
        return
    for folder in params.event.removed:
        path = uri_to_path(folder.uri)
        if path is not None:
            service.remove_folder(path)
            ls.diagnostics.clear_root(path.resolve())
    for folder in params.event.added:
        path = uri_to_path(folder.uri)
        if path is not None:
            service.add_folder(path)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: CodesearchServer, params: types.DidChangeConfigurationParams
) -> None:
    pulled = await ls.pull_configuration()
    if pulled is None:
        raw = _plain(params.settings)
        pulled = raw.get(CONFIG_SECTION, raw) if isinstance(raw, dict) else raw
    if pulled is not None:
        ls.apply_settings(pulled, source="changed")


@server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
def cancel_progress(ls: CodesearchServer, params: types.WorkDoneProgressCancelParams) -> None:
    bridge = ls.progress_bridge
    if ls.service is not None and bridge is not None and params.token == bridge.current_token:
        ls.service.cancel_current()


@server.feature(types.WORKSPACE_SYMBOL)
async def workspace_symbol(
    ls: CodesearchServer, params: types.WorkspaceSymbolParams
) -> list[types.SymbolInformation]:
    query = params.query.strip()
    service = ls.service
    if not query or service is None:
        return []
    try:
        hits = await ls.in_query_thread(lambda: service.search(query, limit=100))
    except ModelLoadError as exc:
        raise commands.invalid(f"search is unavailable: {exc}") from exc
    lowered = query.lower()

    def name_rank(name: str) -> int:
        short = name.rsplit(".", 1)[-1].lower()
        if short == lowered or name.lower() == lowered:
            return 0
        if short.startswith(lowered) or name.lower().startswith(lowered):
            return 1
        return 2

    ordered = sorted(enumerate(hits), key=lambda item: (name_rank(item[1].hit.name), item[0]))
    return [hit_to_symbol(rh.root, rh.hit) for _, rh in ordered]


@server.command(commands.SEARCH)
async def search_command(ls: CodesearchServer, *args: Any) -> list[dict[str, Any]]:
    parsed = commands.search_args(args)
    service = ls.require_service()
    try:
        hits = await ls.in_query_thread(
            lambda: service.search(parsed.query, limit=parsed.limit, filters=parsed.filters)
        )
    except ModelLoadError as exc:
        raise commands.invalid(f"search is unavailable: {exc}") from exc
    return [hit_to_json(rh.root, rh.hit) for rh in hits]


@server.command(commands.FIND_SIMILAR)
async def find_similar_command(ls: CodesearchServer, *args: Any) -> list[dict[str, Any]]:
    parsed = commands.similar_args(args)
    service = ls.require_service()
    if service.root_for(parsed.path) is None:
        raise commands.invalid(f"{parsed.path} is not inside a workspace folder")
    hits = await ls.in_query_thread(
        lambda: service.similar(parsed.path, parsed.line, limit=parsed.limit)
    )
    return [hit_to_json(rh.root, rh.hit) for rh in hits]


@server.command(commands.REINDEX)
async def reindex_command(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    force = commands.reindex_force(args)
    service = ls.require_service()
    summaries = await asyncio.wrap_future(service.reindex(force=force))
    return _combine(summaries)


@server.command(commands.STATUS)
def status_command(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    return ls.status_payload()


@server.command(commands.CLEAR_INDEX)
async def clear_command(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    service = ls.require_service()
    await asyncio.wrap_future(service.clear())
    return {"cleared": True}


@server.command(commands.PAUSE)
def pause_command(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    """Stop embedding after the batch in flight (what was embedded is kept)."""
    ls.require_service().pause()
    return {"paused": True}


@server.command(commands.RESUME)
def resume_command(ls: CodesearchServer, *args: Any) -> dict[str, Any]:
    """Go on where a pause stopped: an incremental pass over every folder."""
    ls.require_service().resume()
    return {"paused": False}


def _combine(summaries: list[Any]) -> dict[str, Any]:
    total: dict[str, Any] = {
        "files": 0,
        "entities": 0,
        "embedded": 0,
        "cached": 0,
        "failed": 0,
        "removed": 0,
        "seconds": 0.0,
    }
    for summary in summaries:
        if summary is None:
            continue
        for key in total:
            total[key] += getattr(summary, key)
    total["seconds"] = round(total["seconds"], 3)
    return total


def serve(*, tcp: str | None = None, log_level: str = "info") -> int:
    """Run the server until the client says exit (stdio) or forever (TCP)."""
    level = getattr(logging, log_level.upper(), logging.INFO)
    # force: the CLI configured logging already (at WARNING), which made --log-level a no-op
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    # pygls logs every message it sends at INFO: worth it only when debugging the protocol
    logging.getLogger("pygls").setLevel(
        level if level <= logging.DEBUG else max(level, logging.WARNING)
    )
    if tcp:
        host, _, port = tcp.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--tcp expects HOST:PORT, got {tcp!r}")
        server.start_tcp(host, int(port))
    else:
        server.start_io()
    return 0
