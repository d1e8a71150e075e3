"""The MCP face: `codesearch mcp` serves the index to coding agents over stdio.

`server` builds the MCP server and its tools, `shapes` their output schemas and text,
`roots` the folders held. `serve` runs one process that holds its roots itself: an
IndexService indexes them and a FolderWatcher keeps them fresh as files change on disk.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from codesearch.config import Settings
from codesearch.mcp.roots import RootSet
from codesearch.mcp.server import create_server, folders_from_args
from codesearch.service import IndexService, ProgressEvent, ServiceStatus
from codesearch.service.watcher import FolderWatcher
from codesearch.workspace import FileProblem

log = logging.getLogger(__name__)

__all__ = ["serve"]


class LogListener:
    """The service's events, logged to stderr (stdout carries the protocol)."""

    def on_status(self, status: ServiceStatus) -> None:
        log.debug("status %s", status.to_json())

    def on_progress(self, event: ProgressEvent) -> None:
        if event.kind != "report":
            log.info("%s (%d/%d)", event.message, event.done, event.total)

    def on_problems(self, root: Path, problems: dict[str, FileProblem | None]) -> None:
        for path, problem in sorted(problems.items()):
            if problem is not None:
                log.info("%s: %s", root / path, problem.error or "some entities failed")

    def on_error(self, message: str) -> None:
        log.error("%s", message)

    def on_warning(self, message: str) -> None:
        log.warning("%s", message)


def serve(
    paths: Sequence[Path], settings: Settings, *, watch: bool = True, log_level: str = "info"
) -> int:
    """Serve MCP on stdio until the client closes it, holding `paths` and the client's roots."""
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    folders = folders_from_args(paths)
    service = IndexService(settings.with_env_defaults(), LogListener())
    watcher = FolderWatcher(service) if watch else None
    try:
        roots = RootSet(service, watcher, folders)
        create_server(service, roots).run("stdio")
    finally:
        if watcher is not None:
            watcher.close()
        service.shutdown()
    return 0
